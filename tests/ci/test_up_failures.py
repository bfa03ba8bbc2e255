"""What the infra report names when ``ci up`` fails: an item, one of its hook steps, a stack-level
hook step, a provider, or the program. The agent's repair prompt reads these words."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import PulumiDouble, read_outputs

runner = CliRunner()
FAST = ["--backoff", "0.01", "--cancel-grace", "1", "--retries", "0"]


def failed_up(tmp_path: Path, *args: str) -> tuple[dict[str, object], str]:
    report = tmp_path / "report" / "infra-report.json"
    result = runner.invoke(app, ["ci", "up", "--report", str(report), *FAST, *args])
    assert result.exit_code == 1, result.output
    return json.loads(report.read_text()), result.output


def test_a_failed_stack_hook_is_named_as_a_stack_hook(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    # the example's stack-level beforeAll step ensure-data-dirs (hook/beforeAll/ensure-data-dirs)
    pulumi_double.script(up=[{"fail": ["hook"], "message": "mkdir /srv/codex: permission denied"}])
    report, output = failed_up(tmp_path, "--stack", "ai-slot-3")
    assert report["failed"] == [
        {
            "component": "beforeAll/ensure-data-dirs",
            "reason": "mkdir /srv/codex: permission denied",
            "kind": "stack hook",
            "step": "",
        }
    ]
    assert "stack hook beforeAll/ensure-data-dirs" in report["summary"]
    assert read_outputs(github_files[0])["failed_components"] == "stack hook beforeAll/ensure-data-dirs"
    assert "hook," not in output


def test_a_failed_provider_is_named_as_a_provider(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    message = "configured Kubernetes cluster is unreachable: unable to load kubeconfig"
    pulumi_double.script(up=[{"fail": ["provider:kubernetes"], "message": message}])
    report, _ = failed_up(tmp_path, "--stack", "ai-slot-3")
    assert {"component": "kubernetes", "reason": message, "kind": "provider", "step": ""} in report["failed"]
    assert all(f["kind"] == "provider" for f in report["failed"]), report["failed"]
    assert "provider kubernetes" in report["summary"]


def test_a_failed_item_is_still_named_by_its_services_yaml_name(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.script(up=["fail:data-services"])
    report, _ = failed_up(tmp_path, "--stack", "ai-slot-3")
    assert report["failed"] == [
        {
            "component": "data-services",
            "reason": "data-services failed to become ready",
            "kind": "component",
            "step": "",
        }
    ]


def test_the_repair_prompt_names_the_stack_hook(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.script(up=[{"fail": ["hook"], "message": "mkdir /srv/codex: permission denied"}])
    failed_up(tmp_path, "--stack", "ai-slot-3")
    report = str(tmp_path / "report" / "infra-report.json")
    words = {"en": "stack hook `beforeAll/ensure-data-dirs`", "ru": "хук стека `beforeAll/ensure-data-dirs`"}
    for lang, named in words.items():
        args = ["prompt", "render", "-k", "repair_issue", "-s", "ai-slot-3", "--issue", "7", "--lang", lang]
        result = runner.invoke(app, [*args, "--infra-report", report])
        assert result.exit_code == 0, result.output
        assert f"{named}: mkdir /srv/codex: permission denied" in result.output
