"""A project named by a relative folder (``codexctl … --project .``, the default) is resolved
from the current folder of each read: a process that reads one project, changes folder and reads
another must not take the first folder for the second."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.files import read_text


def test_the_same_relative_folder_in_two_places_is_two_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "services.yaml").write_text(f"project: {folder.name}\n")
    monkeypatch.chdir(first)
    assert read_text(Path("services.yaml"), root=Path(".")) == "project: first\n"
    monkeypatch.chdir(second)
    assert read_text(Path("services.yaml"), root=Path(".")) == "project: second\n"
