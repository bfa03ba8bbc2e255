"""``codexctl ci slots``: every slot of the repository, as a table, as JSON and in the job summary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import REPOSITORY, PulumiDouble
from tests.ci.test_ensure_slot import plant_claim
from tests.support.github_double import GithubDouble
from tests.support.kube_double import KubeDouble

runner = CliRunner()


@pytest.fixture
def github_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The GitHub API double: acme/shop#7 is an open issue, #9 a closed pull request."""
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    with GithubDouble(repos={REPOSITORY: 11}) as github:
        github.add_issue(REPOSITORY, 7, state="open")
        github.add_issue(REPOSITORY, 9, state="closed", pull=True)
        yield github.url


def test_slots_lists_claims_stacks_and_their_state(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, github_api: str, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    # slot 3: deployed by ci up (real outputs through the double), issue 7 open
    ensure = runner.invoke(app, ["ci", "ensure-slot", "--issue", "7", "--max", "5"])
    assert ensure.exit_code == 0, ensure.output
    up = runner.invoke(
        app, ["ci", "up", "--stack", "ai-slot-1", "--report", str(tmp_path / "r.json"), "--backoff", "0"]
    )
    assert up.exit_code == 0, up.output
    # slot 2: claimed for PR 9 (closed), its stack not created yet
    plant_claim(kube_api, slot=2, holder=f"{REPOSITORY}#pr-9")
    # another repository's slot: not listed
    plant_claim(kube_api, slot=4, holder="acme/other#issue-1", repository="acme/other", project="other")
    result = runner.invoke(app, ["ci", "slots", "--api-url", github_api, "--output", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["repository"] == REPOSITORY
    first, second = document["slots"]
    assert first["stack"] == "ai-slot-1"
    assert first["issue"] == 7
    assert first["pr"] is None
    assert first["state"] == "open"
    assert first["claimed"] is True
    assert first["claimed_at"] is not None
    assert first["last_used"] is not None
    assert first["last_result"] == "succeeded"
    assert first["mode"] == "normal"
    assert first["namespace"] == "project-example-dev-1"
    assert "https://dev-1.staging.example-domain.ru/" in first["links"]
    assert second["stack"] == "ai-slot-2"
    assert second["pr"] == 9
    assert second["state"] == "closed"
    assert second["stack_exists"] is False
    assert second["namespace"] is None
    summary = github_files[1].read_text()
    assert "### Slots of acme/shop" in summary
    assert "| `ai-slot-1` | acme/shop#issue-7 | open |" in summary


def test_slots_as_a_table_without_states(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    plant_claim(kube_api, slot=2, holder=f"{REPOSITORY}#pr-9")
    result = runner.invoke(app, ["ci", "slots", "--no-states"])
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("ai-slot-")]
    assert line.split()[:3] == ["ai-slot-2", "acme/shop#pr-9", "-"]


def test_no_slots(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    result = runner.invoke(app, ["ci", "slots", "--no-states"])
    assert result.exit_code == 0, result.output
    assert "no slots of acme/shop" in result.stdout
