"""``ci deliver`` in process (codex_stacks/ci/deliver.py): the agent's change pushed and its pull
request opened to close the issue; a secret's value or a file the branch ignores stops it with a
comment on the issue. The story tests (tests/story) run the same through the whole loop.

Real git (a bare remote and the runner's clone of it, in temporary folders), the agent's
workspace as a plain folder (a hostPath workspace), the GitHub API double for the issue."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from codex_stacks.ci.deliver import DeliveryStoppedError, HostPathTree, deliver, folder_fd
from codex_stacks.ci.ghrest import GithubRest
from codex_stacks.ci.slots import Binding
from codex_stacks.ci.sources import SyncRecord
from tests.support.github_double import GithubDouble
from tests.support.gitrepos import publish

REPOSITORY = "acme/shop"
CANARY = "sk-canary-5f1e9a7c3b"
BRANCH = "codex/issue-5"


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip()


@dataclass
class Records:
    """What deliver keeps between runs (``sync.json`` of the slot), in memory."""

    written: list[SyncRecord] = field(default_factory=list)

    def read_record(self) -> SyncRecord | None:
        return self.written[-1] if self.written else None

    def write_record(self, record: SyncRecord) -> None:
        self.written.append(record)


@dataclass
class Setup:
    remote: Path
    checkout: Path
    workspace: Path
    github: GithubDouble

    def deliver(self) -> object:
        return deliver(
            source=self.checkout,
            tree=HostPathTree(opener=lambda: folder_fd(self.workspace)),
            records=Records(),
            binding=Binding(repository=REPOSITORY, kind="issue", number=5),
            branch=BRANCH,
            issue=5,
            pull=None,
            api=GithubRest(api_url=self.github.url, token="t0ken"),
            token=None,
            secrets={"OPENAI_API_KEY": CANARY},
        )


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "app.txt").write_text("hello\n")
    (seed / ".gitignore").write_text("*.log\n")
    remote, checkout = publish(seed, tmp_path)
    workspace = tmp_path / "workspace"
    shutil.copytree(checkout, workspace, ignore=shutil.ignore_patterns(".git"))
    with GithubDouble(repos={REPOSITORY: 42}) as github:
        github.add_issue(REPOSITORY, 5, title="The greeting is rude")
        yield Setup(remote, checkout, workspace, github)


def test_the_change_is_pushed_and_its_pull_request_closes_the_issue(setup: Setup) -> None:
    (setup.workspace / "app.txt").write_text("good morning\n")

    setup.deliver()

    assert git(setup.remote, "show", f"{BRANCH}:app.txt") == "good morning"
    [pull] = setup.github.pulls(REPOSITORY)
    assert (pull.title, pull.head, pull.base) == ("codex: The greeting is rude", BRANCH, "main")
    assert pull.body == "Closes #5"


def test_a_secrets_value_in_a_file_stops_delivery_with_a_comment(setup: Setup) -> None:
    (setup.workspace / "config.txt").write_text(f"key={CANARY}\n")

    with pytest.raises(DeliveryStoppedError) as raised:
        setup.deliver()

    why = "nothing was pushed: 1 file(s) hold a secret's value: config.txt (the value of $OPENAI_API_KEY)"
    assert str(raised.value) == f"delivery stopped: {why}"
    assert [c.body for c in setup.github.comments_of(REPOSITORY, 5)] == [f"codex: delivery stopped: {why}."]
    assert BRANCH not in git(setup.remote, "branch", "--list")


def test_a_gitignore_edit_cannot_let_through_what_the_branch_ignores(setup: Setup) -> None:
    (setup.workspace / ".gitignore").write_text("# nothing ignored any more\n")
    (setup.workspace / "notes.log").write_text("scratch notes\n")

    with pytest.raises(DeliveryStoppedError) as raised:
        setup.deliver()

    assert str(raised.value) == (
        "delivery stopped: nothing was pushed: the agent's change to .gitignore would commit 1 file(s) "
        "the branch ignores: notes.log"
    )
    assert (setup.checkout / ".gitignore").read_text() == "*.log\n"
    assert BRANCH not in git(setup.remote, "branch", "--list")
