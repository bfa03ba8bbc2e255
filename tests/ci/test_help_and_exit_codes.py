"""``codexctl ci --help`` names every step and the exit-code convention; outside failures exit 1."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import PulumiDouble
from tests.support.kube_double import KubeDouble

runner = CliRunner()


def test_ci_help_lists_every_step_and_the_exit_codes() -> None:
    result = runner.invoke(app, ["ci", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for step in ("ensure-slot", "find-slot", "slots", "up", "images", "prompt", "cleanup", "gc"):
        assert step in text
    assert "Exit codes:" in result.output
    assert "1 the work failed or an outside system did" in text
    assert "2 bad input or configuration" in text


def test_images_help_wording() -> None:
    result = runner.invoke(app, ["ci", "images", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "build build" not in result.output
    assert "list[str]" not in result.output
    assert "--only NAME" in result.output


def test_failed_destroy_exits_1(pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path) -> None:
    pulumi_double.make_stack("ai-staging", resources=3)
    pulumi_double.script(destroy=["fail:item-0"])
    result = runner.invoke(app, ["ci", "cleanup", "--stack", "ai-staging"])
    assert result.exit_code == 1
    assert "destroy of ai-staging failed: update failed" in result.output
    assert pulumi_double.stacks() == ["ai-staging"]


def test_bad_input_still_exits_2(pulumi_double: PulumiDouble) -> None:
    result = runner.invoke(app, ["ci", "cleanup", "--issue", "3", "--stack", "ai-slot-1"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["ci", "up", "--stack", "ai-slot-1", "--backoff", "soon"])
    assert result.exit_code == 2
