"""The scheduled gc: the reusable workflow and the example callers (structure; actionlint runs in
tests/workflows/test_workflows.py over every workflow file)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from codex_stacks.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
REUSABLE = ROOT / ".github" / "workflows" / "codex-gc.yml"
CALLERS = [
    ROOT / "examples" / name / ".github" / "workflows" / "ai_gc.yml" for name in ("project-example", "alimentor")
]
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return dict(data)


def test_the_reusable_gc_runs_gc_then_lists_the_slots() -> None:
    workflow = load(REUSABLE)
    assert list(workflow["on"]) == ["workflow_call"]
    call = workflow["on"]["workflow_call"]
    assert call["inputs"]["backend-url"]["required"] is True
    assert set(call["secrets"]) == {"PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN"}
    [job] = workflow["jobs"].values()
    assert job["concurrency"] == {"group": "codex-gc-${{ github.repository }}", "cancel-in-progress": False}
    runs = [step.get("run", "") for step in job["steps"]]
    gc = next(i for i, run in enumerate(runs) if "codexctl ci gc" in run)
    slots = next(i for i, run in enumerate(runs) if "codexctl ci slots" in run)
    assert gc < slots
    assert job["steps"][slots]["if"] == "always()"  # the summary shows the slots even when gc failed
    assert '--closed --older-than "$OLDER_THAN" --orphan-age "$ORPHAN_AGE"' in runs[gc]
    assert "timeout-minutes" not in REUSABLE.read_text()
    assert workflow["permissions"] == {"contents": "read", "issues": "read", "pull-requests": "read"}


def test_actions_are_pinned_and_keep_no_credentials() -> None:
    workflow = load(REUSABLE)
    [job] = workflow["jobs"].values()
    for step in job["steps"]:
        uses = step.get("uses")
        if uses is None:
            assert "${{" not in step["run"]  # outside values only through env
            continue
        assert PINNED.match(uses), uses
        if uses.startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
    lines = [line for line in REUSABLE.read_text().splitlines() if "uses:" in line]
    assert all(re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line) for line in lines), lines


def test_the_cli_is_installed_with_its_checksum_checked() -> None:
    [job] = load(REUSABLE)["jobs"].values()
    install = next(step for step in job["steps"] if "get.pulumi.com" in step.get("run", ""))
    assert "sha256sum --check" in install["run"]
    assert install["env"]["PULUMI_VERSION"] == "${{ inputs.pulumi-version }}"
    version = load(REUSABLE)["on"]["workflow_call"]["inputs"]["pulumi-version"]["default"]
    from codex_stacks.ci.workspace import MIN_PULUMI

    assert tuple(int(part) for part in version.split(".")) >= MIN_PULUMI


def test_every_codexctl_call_uses_real_options() -> None:
    [job] = load(REUSABLE)["jobs"].values()
    for step in job["steps"]:
        for line in step.get("run", "").splitlines():
            if "codexctl ci " not in line:
                continue
            words = shlex.split(line[line.index("codexctl ci ") :])
            command: Any = typer.main.get_command(app)
            for word in words[1:3]:
                command = command.commands[word]
            known = {opt for param in command.params for opt in getattr(param, "opts", [])}
            assert {w for w in words[3:] if w.startswith("--")} <= known


@pytest.mark.parametrize("path", CALLERS, ids=lambda p: p.parts[-4])
def test_callers_run_gc_on_a_schedule_and_pass_secrets_by_name(path: Path) -> None:
    workflow = load(path)
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["on"]["schedule"][0]["cron"]
    [job] = workflow["jobs"].values()
    assert job["uses"] == "codex-stacks/codex-stacks/.github/workflows/codex-gc.yml@main"
    assert job["secrets"] == {
        "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
        "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
    }
    inputs = load(REUSABLE)["on"]["workflow_call"]["inputs"]
    required = {key for key, spec in inputs.items() if spec.get("required")}
    assert required <= set(job["with"]) <= set(inputs)
