"""``codexctl ci changes`` in process: the reason printed for each path that needs a person.

tests/ci/test_changes.py runs the console script as a subprocess; these run the same command
through typer's test runner, so a wrong reason is noticed by the mutation run too."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.test_changes import git

runner = CliRunner()


def test_each_path_is_listed_with_why_it_reaches_deploy_secrets(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("print('hi')\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "services.yaml").write_text("services: {}\n")
    (repo / "api").mkdir()
    (repo / "api" / "Dockerfile").write_text("FROM scratch\n")
    (repo / "app.py").write_text("print('hello')\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    head = git(repo, "rev-parse", "HEAD")

    result = runner.invoke(
        app,
        ["ci", "changes", "--repo", str(repo), "--base", base, "--head", head, "--output", "json"],
        env={"GITHUB_OUTPUT": "", "GITHUB_STEP_SUMMARY": "", "GIT_CONFIG_GLOBAL": os.devnull},
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["needs_approval"] is True
    assert sorted(document["reasons"]) == [
        "api/Dockerfile: an image build (Dockerfile)",
        "services.yaml: services.yaml, manifests, templates or stack files",
    ]
