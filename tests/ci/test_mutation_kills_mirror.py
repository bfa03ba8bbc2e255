"""The tree copy of ``ci sync-sources`` and ``ci deliver`` (codex_stacks/ci/mirror.py), in process:
new folders and files arrive in the target, and the tree digest tells two trees apart by content.

The process's working folder is elsewhere on purpose: every name must be opened relative to the
folder being copied, never to wherever the runner happens to stand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from codex_stacks.ci.mirror import mirror, tree_digest


@contextmanager
def opened(folder: Path) -> Iterator[int]:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield fd
    finally:
        os.close(fd)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_new_folders_and_files_arrive_in_the_target(tmp_path: Path, elsewhere: Path) -> None:
    source = tmp_path / "source"
    (source / "src" / "pkg").mkdir(parents=True)
    (source / "README.md").write_text("read me\n")
    (source / "src" / "pkg" / "app.py").write_text("print('hi')\n")
    target = tmp_path / "target"
    target.mkdir()

    with opened(source) as src, opened(target) as dst:
        done = mirror(src, dst, skip_git=True)

    assert (target / "README.md").read_text() == "read me\n"
    assert (target / "src" / "pkg" / "app.py").read_text() == "print('hi')\n"
    assert sorted(done.written) == ["README.md", "src/pkg/app.py"]
    assert os.listdir(elsewhere) == []  # nothing written where the process stands


def test_the_digest_changes_with_a_files_content_only(tmp_path: Path, elsewhere: Path) -> None:
    trees = {}
    for name, text in (("one", "a\n"), ("same", "a\n"), ("other", "b\n")):
        folder = tmp_path / name
        (folder / "docs").mkdir(parents=True)
        (folder / "docs" / "guide.md").write_text(text)
        with opened(folder) as fd:
            trees[name] = tree_digest(fd)

    assert trees["one"] == trees["same"]
    assert trees["one"] != trees["other"]
