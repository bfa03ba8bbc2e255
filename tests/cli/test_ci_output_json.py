"""``--output json`` on the ``ci`` commands that had none: ``prompt`` and ``changes`` print one
JSON document on stdout in the shape docs/operations.md gives, and nothing else goes there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, TextIO

import pytest
from typer.testing import CliRunner

from codex_stacks.ci.report import FailedComponent, InfraReport, write_report
from codex_stacks.cli.app import app

CODEXCTL = Path(sys.executable).parent / "codexctl"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stands in for the agent run in the cluster (tests/prompts cover the real one): it talks on
    the stream it is given, as the real run streams the agent's output, and exits 3."""
    calls: list[dict[str, Any]] = []

    def run_prompt(*, out: TextIO | None = None, **kwargs: Any) -> int:
        calls.append(kwargs)
        print("agent: thinking about the issue", file=out if out is not None else sys.stdout)
        return 3

    import codex_stacks.prompts.runner as module

    monkeypatch.setattr(module, "run_prompt", run_prompt)
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_prompt_json_names_the_kind_run_and_keeps_the_agent_off_stdout(
    agent: list[dict[str, Any]], tmp_path: Path
) -> None:
    report = tmp_path / "infra-report.json"
    failed = [FailedComponent(component="postgres", reason="CrashLoopBackOff")]
    write_report(InfraReport(healthy=False, failed=failed, summary="postgres failed"), path=report)
    args = ["ci", "prompt", "-s", "ai-slot-3", "-k", "plan_issue", "--issue", "9", "--report", str(report)]
    result = CliRunner().invoke(app, [*args, "--output", "json"])
    assert result.exit_code == 1  # the agent failed: the document is printed all the same
    assert json.loads(result.stdout) == {
        "stack": "ai-slot-3",
        "kind": "repair_plan",
        "requested_kind": "plan_issue",
        "exit_code": 3,
    }
    assert "agent: thinking about the issue" in result.stderr
    assert "exited with 3" in result.stderr
    text = CliRunner().invoke(app, args)  # without it, the agent talks on stdout as before
    assert "agent: thinking about the issue" in text.stdout


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env={**os.environ, **GIT_ENV}
    )
    return done.stdout.strip()


def test_changes_json_gives_the_verdict_and_at_most_twenty_reasons(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "services.yaml").write_text("project: shop\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "services.yaml").write_text("project: shop2\n")
    for number in range(25):
        path = repo / "deploy" / f"m{number:02}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text("kind: ConfigMap\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    head = git(repo, "rev-parse", "HEAD")

    def changes(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CODEXCTL), "ci", "changes", "--repo", str(repo), "--base", base, "--head", head, *extra],
            capture_output=True,
            text=True,
            env={**os.environ, **GIT_ENV, "GITHUB_OUTPUT": "", "GITHUB_STEP_SUMMARY": ""},
            timeout=60,
            check=False,
        )

    done = changes("--output", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["needs_approval"] is True
    assert len(document["reasons"]) == 20
    assert document["more"] == 26 - 20  # services.yaml and 25 manifests: one reason each
    assert "deploy/m00.yaml" in document["reasons"][0]
    assert changes().stdout.strip() == "true"  # the text answer is unchanged
