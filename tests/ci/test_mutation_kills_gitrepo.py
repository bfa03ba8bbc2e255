"""git on the runner's checkout (codex_stacks/ci/gitrepo.py): a folder outside any working copy
is one error with what to pass instead; a ref that does not exist resolves to nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from codex_stacks.ci.errors import CiError
from codex_stacks.ci.gitrepo import Git, toplevel


def test_a_folder_outside_git_says_to_pass_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    folder = tmp_path / "project"
    folder.mkdir()

    with pytest.raises(CiError) as raised:
        toplevel(folder)

    assert str(raised.value) == (
        f"{folder} is not inside a git working copy\n"
        "  hint: pass --source DIR: the workflow's checkout of the repository"
    )


def test_a_ref_that_does_not_exist_resolves_to_nothing(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(tmp_path)], check=True)
    (tmp_path / "a.txt").write_text("a\n")
    git = Git(tmp_path)
    git.run("add", "-A")
    git.run("commit", "--quiet", "-m", "first")

    assert git.rev("no-such-branch") is None
    head = git.rev("HEAD")
    assert head is not None
    assert head == git.rev("main")
    assert len(head) == 40
