"""Where the agent's working copy started, read from its files (never by running git in it):
git itself is the oracle (``git rev-parse HEAD`` on real repositories), and deliver's rule for
commits made after that start."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from codex_stacks.ci.deliver import TRAILER, _foreign, working_copy_head
from codex_stacks.ci.gitrepo import Git
from codex_stacks.ci.mirror import read_bounded
from codex_stacks.ci.podtree import HEAD_SCRIPT, _head_files
from codex_stacks.ci.slots import Binding

BINDING = Binding.from_options(repository="acme/shop", issue=5, pr=None)


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def commit(folder: Path, name: str, message: str = "work") -> str:
    (folder / name).write_text(name)
    git(folder, "add", "-A")
    git(folder, "commit", "--quiet", "-m", message)
    return git(folder, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(folder)], check=True)
    commit(folder, "a")
    commit(folder, "b")
    git(folder, "checkout", "--quiet", "-b", "codex/issue-5")
    return folder


def from_files(folder: Path) -> str | None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return working_copy_head(lambda path: read_bounded(fd, path, limit=1 << 20))
    finally:
        os.close(fd)


def from_pod_script(folder: Path) -> str | None:
    """What deliver reads of a pvc workspace: HEAD_SCRIPT run by ``sh`` as in the agent's pod."""
    done = subprocess.run(
        ["sh", "-c", HEAD_SCRIPT, "codexctl-deliver", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return working_copy_head(_head_files(done.stdout).get)


READERS = [from_files, from_pod_script]


@pytest.mark.parametrize("read", READERS)
def test_a_branch_with_a_loose_ref(repo: Path, read: object) -> None:
    assert callable(read)
    assert read(repo) == git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize("read", READERS)
def test_a_branch_in_packed_refs(repo: Path, read: object) -> None:
    assert callable(read)
    git(repo, "branch", "codex/issue-50")  # a longer name with the same beginning
    commit(repo, "c")
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "codex" / "issue-5").exists()
    assert read(repo) == git(repo, "rev-parse", "HEAD")
    assert read(repo) != git(repo, "rev-parse", "codex/issue-50")


@pytest.mark.parametrize("read", READERS)
def test_a_detached_head(repo: Path, read: object) -> None:
    assert callable(read)
    git(repo, "checkout", "--quiet", "--detach", "HEAD~1")
    assert read(repo) == git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize(
    "head",
    [
        "ref: refs/heads/not-there\n",  # an unborn branch
        "ref: ../../../etc/hostname\n",
        "ref: refs/../../config\n",
        "nonsense\n",
        "",
    ],
)
def test_what_git_cannot_resolve_is_none(repo: Path, read: object, head: str) -> None:
    assert callable(read)
    (repo / ".git" / "HEAD").write_text(head)
    assert read(repo) is None


@pytest.mark.parametrize("read", READERS)
def test_no_working_copy_is_none(tmp_path: Path, read: object) -> None:
    assert callable(read)
    assert read(tmp_path) is None


def test_a_linked_head_is_not_followed(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text(git(repo, "rev-parse", "HEAD") + "\n")
    (repo / ".git" / "HEAD").unlink()
    (repo / ".git" / "HEAD").symlink_to(outside)
    assert from_files(repo) is None
    assert from_pod_script(repo) is None


def test_only_commits_after_the_workspace_started_count(repo: Path) -> None:
    """A maintainer's commit the workspace was cloned at is the agent's base, not a foreign commit;
    one made after it stops deliver unless deliver made it."""
    runner = Git(repo, token=None)
    default_tip = git(repo, "rev-parse", "main")
    maintainer = commit(repo, "m", "maintainer fix")  # on the branch, no trailer
    started = maintainer
    ok = _foreign(
        runner,
        tip=maintainer,
        record=None,
        branch="codex/issue-5",
        default_tip=default_tip,
        binding=BINDING,
        head=started,
    )
    assert ok is None
    # without knowing where the workspace started, the same branch is foreign (the trailer rule)
    assert (
        _foreign(runner, tip=maintainer, record=None, branch="codex/issue-5", default_tip=default_tip, binding=BINDING)
        == f"`codex/issue-5` holds commit {maintainer[:12]}, which codexctl ci deliver did not make: nothing was pushed"
    )
    delivered = commit(repo, "d", f"codex: work\n\n{TRAILER}: {BINDING}")
    assert (
        _foreign(
            runner,
            tip=delivered,
            record=None,
            branch="codex/issue-5",
            default_tip=default_tip,
            binding=BINDING,
            head=started,
        )
        is None
    )
    later = commit(repo, "l", "someone else")
    why = _foreign(
        runner, tip=later, record=None, branch="codex/issue-5", default_tip=default_tip, binding=BINDING, head=started
    )
    assert why is not None
    assert later[:12] in why
    assert started[:12] in why
    # a HEAD the runner's repository does not know (the agent committed locally): the older rules
    unknown = "0" * 40
    why = _foreign(
        runner, tip=later, record=None, branch="codex/issue-5", default_tip=default_tip, binding=BINDING, head=unknown
    )
    assert why is not None
    assert "which codexctl ci deliver did not make" in why
