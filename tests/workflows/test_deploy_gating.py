"""The review workflow deploys a pull request's code only when it may: a change to what runs with
deploy secrets waits for the deploy environment's reviewers, other changes deploy at once, pull
requests from forks and people off the allow-list never deploy; the cleanup checks the
allow-list; nothing that reads the change holds a secret (docs/security-workflows.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.workflows.actions_run import Scenario, run

ROOT = Path(__file__).resolve().parents[2]
REUSABLE = ROOT / ".github" / "workflows"
REPO = "acme/alimentor"
COMMIT = "c" * 40


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((REUSABLE / name).read_text())
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def review_event(*, actor: str = "alice", head_repo: str = REPO) -> dict[str, Any]:
    return {
        "inputs": {"allowed-users": '["alice", "bob"]', "deploy-environment": "codex-deploy", "pr": 7},
        "github": {
            "actor": actor,
            "triggering_actor": actor,
            "repository": REPO,
            "event": {"pull_request": {"head": {"repo": {"full_name": head_repo}}, "base": {"sha": "b" * 40}}},
        },
    }


DEPLOYING = ("slot", "agent")


def review(needs_approval: str, *, approval: str = "success", **event: str) -> dict[str, str]:
    scenario = Scenario(
        contexts=review_event(**event),
        results={"approval": approval},
        outputs={"changes": {"needs-approval": needs_approval, "commit": COMMIT}, "slot": {"stack": "ai-slot-1"}},
    )
    return run(load("codex-ai-review.yml"), scenario)


def test_a_change_that_needs_no_approval_deploys_at_once() -> None:
    results = review("false")
    assert results["approval"] == "skipped"
    assert [results[job] for job in DEPLOYING] == ["success", "success"]


def test_a_change_to_deploy_files_deploys_once_approved() -> None:
    results = review("true", approval="success")
    assert results["approval"] == "success"
    assert [results[job] for job in DEPLOYING] == ["success", "success"]


@pytest.mark.parametrize("approval", ["failure", "cancelled"])
def test_a_change_to_deploy_files_never_deploys_without_approval(approval: str) -> None:
    results = review("true", approval=approval)
    assert [results[job] for job in DEPLOYING] == ["skipped", "skipped"]


def test_when_the_change_cannot_be_classified_nothing_deploys() -> None:
    scenario = Scenario(contexts=review_event(), results={"changes": "failure"})
    results = run(load("codex-ai-review.yml"), scenario)
    assert {job: results[job] for job in ("approval", *DEPLOYING)} == dict.fromkeys(("approval", *DEPLOYING), "skipped")


def test_a_failed_classification_never_deploys_whatever_it_said_before_failing() -> None:
    scenario = Scenario(
        contexts=review_event(),
        results={"changes": "failure"},
        outputs={"changes": {"needs-approval": "false", "commit": COMMIT}},
    )
    results = run(load("codex-ai-review.yml"), scenario)
    assert [results[job] for job in DEPLOYING] == ["skipped", "skipped"]


def test_a_pull_request_from_a_fork_never_deploys() -> None:
    results = review("false", head_repo="stranger/alimentor")
    assert set(results.values()) == {"skipped"}


def test_someone_off_the_allow_list_never_deploys() -> None:
    results = review("false", actor="mallory")
    assert set(results.values()) == {"skipped"}


def test_the_approval_job_is_bound_to_the_environment_and_checks_it_has_reviewers() -> None:
    approval = load("codex-ai-review.yml")["jobs"]["approval"]
    assert approval["environment"] == "${{ inputs.deploy-environment }}"
    [step] = approval["steps"]
    assert "getEnvironment" in step["with"]["script"]
    assert "required_reviewers" in step["with"]["script"]
    assert "core.setFailed" in step["with"]["script"]


def test_what_reads_the_change_holds_no_secret_and_everything_deploys_the_commit_it_read() -> None:
    workflow = load("codex-ai-review.yml")
    text = (REUSABLE / "codex-ai-review.yml").read_text()
    assert "secrets." not in yaml.safe_dump(workflow.get("env", {}))  # workflow env reaches every job
    changes = workflow["jobs"]["changes"]
    assert "secrets." not in yaml.safe_dump(changes)
    assert changes["permissions"] == {"contents": "read"}
    commands = "\n".join(step.get("run", "") for step in changes["steps"])
    assert "codexctl ci changes" in commands
    assert '--base "$BASE"' in commands
    for job_id in DEPLOYING:
        [project] = [s for s in workflow["jobs"][job_id]["steps"] if s.get("with", {}).get("path") == "project"]
        assert project["with"]["ref"] == "${{ needs.changes.outputs.commit }}", job_id
    assert "pull_request_target" not in text


CLEANUP_EVENT = {
    "inputs": {"allowed-users": '["alice"]', "pr": 7, "issue": 0},
    "github": {"repository": REPO, "event": {"repository": {"default_branch": "main"}}},
}


@pytest.mark.parametrize(("actor", "destroyed"), [("alice", "success"), ("mallory", "skipped")])
def test_the_cleanup_checks_the_allow_list(actor: str, destroyed: str) -> None:
    contexts = {**CLEANUP_EVENT, "github": {**CLEANUP_EVENT["github"], "actor": actor, "triggering_actor": actor}}
    scenario = Scenario(contexts=contexts, outputs={"find": {"stack": "ai-slot-1"}})
    assert run(load("codex-cleanup.yml"), scenario)["destroy"] == destroyed


def test_the_cleanup_reads_the_default_branch_not_the_closed_change() -> None:
    destroy = load("codex-cleanup.yml")["jobs"]["destroy"]
    [project] = [s for s in destroy["steps"] if s.get("with", {}).get("path") == "project"]
    assert project["with"]["ref"] == "${{ github.event.repository.default_branch }}"


@pytest.mark.parametrize("name", ["codex-ai-issue.yml", "codex-ai-repair.yml", "codex-ai-review.yml"])
def test_no_agent_workflow_runs_for_someone_off_the_allow_list(name: str) -> None:
    contexts = review_event(actor="mallory")
    contexts["inputs"] |= {"kind": "dev", "issue": 3}
    assert set(run(load(name), Scenario(contexts=contexts)).values()) == {"skipped"}
