"""The agent's loop, end to end and offline: issue → slot → sources → up → the agent's edit →
deliver → pull request → a review on the same slot → a foreign commit stops deliver → cleanup.

Real things where they exist here: git (a bare remote in a temporary folder, the runner's
checkout cloned from it), the host folders of the slot; doubles for the rest, each faithful to
what it stands for: the Pulumi CLI (tests/ci/pulumi_double.py, running the real program under
the SDK's mocks), the Kubernetes API (tests/support/kube_double.py: slot claims as Leases,
namespaces) and the GitHub REST API (tests/support/github_double.py: issues, comments, pull
requests). The agent is a stand-in that edits files in its workspace, as ``codex exec`` would
inside the pod that mounts the slot's folder (the agent run itself, ``ci prompt``, has its own
tests in tests/ci/test_prompt_*.py).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import PROJECT, REPOSITORY, PulumiDouble
from tests.support.github_double import GithubDouble
from tests.support.gitrepos import git, publish
from tests.support.kube_double import KubeDouble

runner = CliRunner()
FAST = ["--backoff", "0.01", "--cancel-grace", "1"]
CANARY = "sk-canary-0b5e7f29d4c1a8"
"""The agent's OpenAI key as the workflow passes it: it must never reach a commit or a comment."""
GH_TOKEN = "ghs-canary-token-7d1c0a"


@dataclass
class Story:
    remote: Path
    checkout: Path
    code_root: Path
    github: GithubDouble
    pulumi: PulumiDouble
    kube: KubeDouble
    tmp: Path

    @property
    def project(self) -> Path:
        return self.checkout / "project"

    @property
    def workspace(self) -> Path:
        return self.code_root / "1" / "src"

    def ci(self, *args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["ci", *args])
        return result.exit_code, result.output

    def remote_tree(self, branch: str) -> dict[str, bytes]:
        names = git(self.remote, "ls-tree", "-r", "--name-only", "-z", branch).split("\0")
        return {name: git_bytes(self.remote, "show", f"{branch}:{name}") for name in names if name}


def git_bytes(folder: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=True, timeout=60).stdout


def every_blob(remote: Path) -> bytes:
    """The content of every object of the remote (all branches, all history)."""
    listing = git(remote, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)")
    blobs = [line.split()[0] for line in listing.splitlines() if line.endswith(" blob")]
    return b"\n".join(git_bytes(remote, "cat-file", "blob", sha) for sha in blobs)


@pytest.fixture
def story(
    tmp_path: Path, pulumi_double: PulumiDouble, kube_api: KubeDouble, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Story]:
    seed = tmp_path / "seed"
    shutil.copytree(PROJECT, seed / "project", ignore=shutil.ignore_patterns(".data", ".github"))
    code_root = tmp_path / "code"
    services = seed / "project" / "services.yaml"
    text = services.read_text()
    example = '    source: hostPath\n    codeRoot: "{{ code_root }}"\n'  # the example's own workspace
    assert example in text
    services.write_text(text.replace(example, f'    source: hostPath\n    codeRoot: "{code_root}"\n', 1))
    (seed / "app.txt").write_text("hello\n")
    (seed / ".gitignore").write_text("*.log\n")
    remote, checkout = publish(seed, tmp_path)
    monkeypatch.setenv("CODEX_CODE_ROOT_ALLOWED", str(tmp_path))
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.setenv("CODEX_PROJECT_DIR", str(checkout / "project"))
    monkeypatch.setenv("CODEX_SOURCE_DIR", str(checkout))
    with GithubDouble(repos={REPOSITORY: 42}) as github:
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        github.add_issue(REPOSITORY, 5, title="The greeting is rude")
        yield Story(remote, checkout, code_root, github, pulumi_double, kube_api, tmp_path)


def maintainer_commit(remote: Path, folder: Path, *, branch: str, files: dict[str, str], message: str) -> str:
    """Someone else's commit on ``branch`` of the remote (a clone in ``folder``, a push): its hash."""
    subprocess.run(["git", "clone", "--quiet", "-b", branch, str(remote), str(folder)], check=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=m", "-c", "user.email=m@example.org", "commit", "--quiet", "-m", message)
    git(folder, "push", "--quiet", "origin", branch)
    return git(folder, "rev-parse", "HEAD").strip()


def agent_edits(workspace: Path, *, greeting: str, title: str) -> None:
    """What ``codex exec`` does in /workspace: edit a file, leave a log behind, write the PR text."""
    (workspace / "app.txt").write_text(f"{greeting}\n")
    (workspace / "debug.log").write_text(f"agent log, key {CANARY}\n")  # ignored by .gitignore
    (workspace / ".git" / "codex").mkdir(parents=True, exist_ok=True)
    (workspace / ".git" / "codex" / "pr.md").write_text(f"{title}\n\nThe greeting is kinder now.\n")


def test_the_agent_loop_from_issue_to_cleanup(story: Story) -> None:
    base = story.remote_tree("main")

    # issue labelled → slot claimed
    code, output = story.ci("ensure-slot", "--issue", "5")
    assert code == 0, output
    assert "ai-slot-1" in output

    # sources synced → up → the links comment
    code, output = story.ci("up", "--stack", "ai-slot-1", "--issue", "5", *FAST)
    assert code == 0, output
    assert (story.workspace / "app.txt").read_text() == "hello\n"
    assert git(story.workspace, "rev-parse", "--abbrev-ref", "HEAD").strip() == "codex/issue-5"
    comments = story.github.comments_of(REPOSITORY, 5)
    assert len(comments) == 1
    assert "project-example-dev-1" in comments[0].body

    # the agent edits → deliver → the branch and the pull request
    agent_edits(story.workspace, greeting="good morning", title="Make the greeting kind")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 0, output
    tree = story.remote_tree("codex/issue-5")
    assert tree == {**base, "app.txt": b"good morning\n"}
    assert CANARY.encode() not in every_blob(story.remote)
    [pull] = story.github.pulls(REPOSITORY)
    assert (pull.title, pull.head, pull.base) == ("Make the greeting kind", "codex/issue-5", "main")
    assert "Closes #5" in pull.body
    assert story.github.count("POST", "/pulls") == 1

    # a re-run: the same comment edited, the same pull request updated
    story.github.settle()
    code, output = story.ci("up", "--stack", "ai-slot-1", "--issue", "5", *FAST)
    assert code == 0, output
    assert len(story.github.comments_of(REPOSITORY, 5)) == 1
    assert story.github.count("PATCH", "/issues/comments/") == 1
    agent_edits(story.workspace, greeting="good morning, friend", title="Make the greeting kinder")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 0, output
    assert story.remote_tree("codex/issue-5")["app.txt"] == b"good morning, friend\n"
    assert story.github.count("POST", "/pulls") == 1
    assert story.github.count("PATCH", f"/pulls/{pull.number}") == 1
    assert story.github.pulls(REPOSITORY)[0].title == "Make the greeting kinder"

    # a review on the pull request reuses the issue's slot
    code, output = story.ci("ensure-slot", "--pr", str(pull.number), "--output", "json")
    assert code == 0, output
    assert json.loads(output[output.index("{") :])["stack"] == "ai-slot-1"

    # a secret in the agent's work: nothing is pushed, the file is named, the value never shown
    tip = git(story.remote, "rev-parse", "codex/issue-5").strip()
    (story.workspace / "config.txt").write_text(f"key={CANARY}\n")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 1
    assert "config.txt" in output
    assert "OPENAI_API_KEY" in output
    assert CANARY not in output
    assert git(story.remote, "rev-parse", "codex/issue-5").strip() == tip
    assert all(CANARY not in c.body for c in story.github.comments_of(REPOSITORY, 5))
    (story.workspace / "config.txt").unlink()
    # the same value base64-encoded inside a larger document (a Kubernetes Secret's data) is found too
    encoded = base64.b64encode(f"OPENAI_API_KEY={CANARY}\n".encode()).decode()
    (story.workspace / "secret.yaml").write_text(f"kind: Secret\ndata:\n  env: {encoded}\n")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 1
    assert "secret.yaml (the value of $OPENAI_API_KEY)" in output
    assert git(story.remote, "rev-parse", "codex/issue-5").strip() == tip
    (story.workspace / "secret.yaml").unlink()

    # a foreign commit on the branch: deliver stops with a comment, the commit stays
    foreign = maintainer_commit(
        story.remote,
        story.tmp / "someone",
        branch="codex/issue-5",
        files={"app.txt": "hi from a maintainer\n"},
        message="maintainer fix",
    )
    (story.workspace / "app.txt").write_text("agent again\n")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 1
    assert "delivery stopped" in output
    assert git(story.remote, "rev-parse", "codex/issue-5").strip() == foreign
    assert any("delivery stopped" in c.body for c in story.github.comments_of(REPOSITORY, 5))

    # the issue is closed → cleanup
    code, output = story.ci("cleanup", "--issue", "5", "--namespace-timeout", "5s")
    assert code == 0, output
    code, output = story.ci("find-slot", "--issue", "5")
    assert code == 0
    assert output.strip() == ""


def test_the_agent_cannot_unignore_what_the_branch_ignores(story: Story) -> None:
    """The agent may edit .gitignore, but a file the branch's own .gitignore keeps out is never
    committed through that edit: deliver stops, names the file, pushes nothing."""
    code, output = story.ci("sync-sources", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 0, output
    (story.workspace / ".gitignore").write_text("# nothing ignored any more\n")
    (story.workspace / "notes.log").write_text("the agent's scratch notes\n")
    (story.workspace / "app.txt").write_text("good morning\n")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 1, output
    assert "notes.log" in output
    assert "would commit 1 file(s) the branch ignores" in output
    assert "codex/issue-5" not in git(story.remote, "branch", "--list")
    assert story.github.pulls(REPOSITORY) == []
    [comment] = story.github.comments_of(REPOSITORY, 5)
    assert "notes.log" in comment.body
    assert (story.checkout / ".gitignore").read_text() == "*.log\n"  # the runner's checkout is clean again

    # the same edit without the ignored file goes through: the agent's .gitignore is its to change
    (story.workspace / "notes.log").unlink()
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 0, output
    tree = story.remote_tree("codex/issue-5")
    assert tree[".gitignore"] == b"# nothing ignored any more\n"
    assert "notes.log" not in tree


def test_a_folder_removed_with_its_gitignore_is_delivered(story: Story) -> None:
    """The branch's rules are read back even for a .gitignore whose folder the agent removed."""
    maintainer_commit(
        story.remote,
        story.tmp / "maintainer",
        branch="main",
        files={"logs/.gitignore": "*\n!.gitignore\n"},
        message="logs",
    )
    git(story.checkout, "pull", "--quiet")
    code, output = story.ci("sync-sources", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 0, output
    shutil.rmtree(story.workspace / "logs")
    (story.workspace / "app.txt").write_text("tidy\n")
    (story.workspace / "NEWS.md").write_text("logs are gone\n")  # a new file: the ignore rules are read
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 0, output
    tree = story.remote_tree("codex/issue-5")
    assert "logs/.gitignore" not in tree
    assert tree["app.txt"] == b"tidy\n"
    assert tree["NEWS.md"] == b"logs are gone\n"
