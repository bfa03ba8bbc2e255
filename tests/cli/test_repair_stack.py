"""``codexctl ci repair-stack`` and the [ai-repair] workflow: staging (env:staging) or the issue's slot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "project-example"
CODEXCTL = Path(sys.executable).parent / "codexctl"


def repair_stack(*labels: str, extra: tuple[str, ...] = (), tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_OUTPUT": str(tmp / "out"), "GITHUB_STEP_SUMMARY": str(tmp / "summary")}
    env.pop("CODEX_PROJECT_DIR", None)
    return subprocess.run(
        [str(CODEXCTL), "ci", "repair-stack", "--labels", json.dumps(list(labels)), "-p", str(EXAMPLE), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def outputs(tmp: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in (tmp / "out").read_text().splitlines() if "=" in line)


def test_the_staging_label_chooses_the_repair_only_stack(tmp_path: Path) -> None:
    result = repair_stack("[ai-repair]", "Env:Staging", tmp=tmp_path)  # GitHub labels ignore case
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ai-repair\n"
    assert outputs(tmp_path) == {"stack": "ai-repair", "staging": "true"}


def test_without_it_the_issue_gets_its_own_slot(tmp_path: Path) -> None:
    result = repair_stack("[ai-repair]", "staging", "bug", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
    assert outputs(tmp_path) == {"stack": "", "staging": "false"}


def test_a_stack_that_could_deploy_staging_in_full_is_refused(tmp_path: Path) -> None:
    for stack in ("ai-staging", "ai-slot-2"):
        result = repair_stack("env:staging", extra=("--staging-stack", stack), tmp=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith(f"error: --staging-stack {stack}: ")
        assert "Traceback" not in result.stderr


def test_bad_labels_are_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "GITHUB_OUTPUT": str(tmp_path / "out")}
    result = subprocess.run(
        [str(CODEXCTL), "ci", "repair-stack", "--labels", "env:staging", "-p", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: --labels: " + "not a JSON list of label names, e.g. " + '\'["[ai-dev]", "[ai-model-gpt-5]"]\''
    )


def test_the_repair_workflow_routes_staging_and_builds_the_agent_image() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "codex-ai-repair.yml").read_text())
    slot = workflow["jobs"]["slot"]
    ids = [step.get("id") for step in slot["steps"]]
    assert ids.index("route") < ids.index("ensure")
    route = slot["steps"][ids.index("route")]
    assert 'codexctl ci repair-stack --labels "$LABELS"' in route["run"]
    assert slot["steps"][ids.index("ensure")]["if"] == "steps.route.outputs.staging != 'true'"
    assert slot["outputs"]["stack"] == "${{ steps.route.outputs.stack || steps.ensure.outputs.stack }}"
    assert workflow["env"]["LABELS"] == "${{ toJSON(github.event.issue.labels.*.name) }}"
    agent = [step.get("run", "") for step in workflow["jobs"]["agent"]["steps"]]
    images = next(i for i, run in enumerate(agent) if run.startswith("codexctl ci images"))
    up = next(i for i, run in enumerate(agent) if run.startswith("codexctl ci up"))
    assert images < up
    assert '--only "$AGENT_IMAGE"' in agent[images]
    assert any("--kind repair_issue" in run and '--labels "$LABELS"' in run for run in agent)
    caller = yaml.safe_load((EXAMPLE / ".github" / "workflows" / "ai_repair.yml").read_text())
    [job] = caller["jobs"].values()
    assert job["with"]["staging-label"] == "env:staging"
    assert job["with"]["staging-stack"] == "ai-repair"
