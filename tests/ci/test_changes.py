"""``codexctl ci changes``: which pull requests may deploy at once and which need a person.

Real git repositories in a temporary folder; the command runs as the installed console script,
as the review workflow's ``changes`` job runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CODEXCTL = Path(sys.executable).parent / "codexctl"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env={**os.environ, **GIT_ENV}
    )
    return done.stdout.strip()


def write(repo: Path, path: str, text: str = "x\n") -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project repository: services.yaml, manifests in two places, application code, a workflow."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for path in (
        "services.yaml",
        "deploy/postgres.yaml",
        "services/api/deploy.yaml",
        "services/api/app.py",
        "services/api/Dockerfile",
        "web/src/index.ts",
        "README.md",
        ".github/workflows/ai_issue.yml",
        "requirements.txt",
    ):
        write(root, path)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "pr")
    return root


def commit(repo: Path) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "change")
    return git(repo, "rev-parse", "HEAD")


def changes(repo: Path, tmp_path: Path, *extra: str, base: str | None = None) -> tuple[str, str, str]:
    """(needs_approval output, stdout, stderr) of ``ci changes`` for main...pr."""
    output = tmp_path / "github_output"
    output.write_text("")
    head = git(repo, "rev-parse", "pr")
    base = base or git(repo, "rev-parse", "main")
    done = subprocess.run(
        [str(CODEXCTL), "ci", "changes", "--repo", str(repo), "--base", base, "--head", head, *extra],
        capture_output=True,
        text=True,
        env={**os.environ, "GITHUB_OUTPUT": str(output), "GIT_CONFIG_GLOBAL": os.devnull},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    values = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return values["needs_approval"], done.stdout, done.stderr


@pytest.mark.parametrize(
    "paths",
    [["services/api/app.py"], ["web/src/index.ts", "README.md"], ["docs/guide.md", "services/api/tests/test_x.py"]],
    ids=["python", "typescript-and-readme", "docs-and-tests"],
)
def test_application_code_deploys_at_once(repo: Path, tmp_path: Path, paths: list[str]) -> None:
    for path in paths:
        write(repo, path, "changed\n")
    commit(repo)
    needs, stdout, _ = changes(repo, tmp_path)
    assert needs == "false"
    assert stdout.strip() == "false"


@pytest.mark.parametrize(
    "path",
    [
        "services.yaml",
        "services/api/deploy.yaml",  # a manifest services.yaml names outside deploy/
        "deploy/postgres.yaml",
        "deploy/scripts/migrate.sh",
        "hooks/seed.sh",
        ".github/workflows/ai_issue.yml",
        ".github/actions/setup/action.yml",
        "stacks/Pulumi.ai-staging.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
        "requirements-dev.txt",
        "prompts/en/dev_issue.md.j2",
        "services/api/Dockerfile",
        "services/api/config.toml",
    ],
)
def test_a_change_to_what_runs_with_deploy_secrets_needs_approval(repo: Path, tmp_path: Path, path: str) -> None:
    write(repo, path, "changed\n")
    write(repo, "services/api/app.py", "also changed\n")
    commit(repo)
    needs, _, stderr = changes(repo, tmp_path)
    assert needs == "true"
    assert path in stderr


def test_a_symbolic_link_anywhere_needs_approval(repo: Path, tmp_path: Path) -> None:
    (repo / ".data").symlink_to("/etc")
    commit(repo)
    needs, _, stderr = changes(repo, tmp_path)
    assert needs == "true"
    assert ".data: a symbolic link" in stderr


def test_a_manifest_renamed_away_needs_approval(repo: Path, tmp_path: Path) -> None:
    git(repo, "mv", "services/api/deploy.yaml", "services/api/notes.txt")
    commit(repo)
    needs, _, stderr = changes(repo, tmp_path)
    assert needs == "true"
    assert "services/api/deploy.yaml" in stderr


def test_only_the_pull_requests_own_changes_count_not_what_main_did_since(repo: Path, tmp_path: Path) -> None:
    write(repo, "services/api/app.py", "feature\n")
    commit(repo)
    git(repo, "checkout", "-q", "main")
    write(repo, "services.yaml", "changed on main after the branch\n")
    commit(repo)
    git(repo, "checkout", "-q", "pr")
    needs, _, _ = changes(repo, tmp_path)
    assert needs == "false"


def test_the_deploy_folder_is_the_project_folders(repo: Path, tmp_path: Path) -> None:
    write(repo, "infra/deploy/migrate.sh")
    write(repo, "deploy/notes.sh")
    commit(repo)
    assert changes(repo, tmp_path, "--project-dir", "infra")[0] == "true"
    assert changes(repo, tmp_path, "--project-dir", str(repo / "web"))[0] == "false"


def test_a_change_git_cannot_list_needs_approval(repo: Path, tmp_path: Path) -> None:
    write(repo, "services/api/app.py", "changed\n")
    commit(repo)
    needs, _, stderr = changes(repo, tmp_path, base="0" * 40)
    assert needs == "true"
    assert "could not be listed" in stderr or "the deploy needs approval" in stderr


def test_a_base_that_is_not_a_commit_id_is_refused_not_passed_to_git(repo: Path, tmp_path: Path) -> None:
    needs, _, stderr = changes(repo, tmp_path, base="--output=/tmp/pwned")
    assert needs == "true"
    assert "is not a full commit id" in stderr
    assert not Path("/tmp/pwned").exists()
