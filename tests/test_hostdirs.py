"""``remove_tree_nofollow``: what ``codexctl ci cleanup`` deletes a slot's data dir with. It
deletes only strictly inside the data root and never through a symbolic link."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.hostdirs import HostDirError, remove_tree_nofollow, root_problem


@pytest.fixture(autouse=True)
def no_allowed_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_DATA_ROOT_ALLOWED", raising=False)


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    folder = tmp_path / "precious"
    (folder / "db").mkdir(parents=True)
    (folder / "db" / "PG_VERSION").write_text("16")
    return folder


def test_a_slot_folder_and_everything_in_it_is_removed(tmp_path: Path, precious: Path) -> None:
    slot = tmp_path / "data" / "slots" / "3"
    (slot / "postgres" / "base").mkdir(parents=True)
    (slot / "postgres" / "base" / "1").write_text("rows")
    (slot / "postgres" / "escape").symlink_to(precious)
    assert remove_tree_nofollow(str(tmp_path / "data"), str(slot)) is True
    assert not slot.exists()
    assert (tmp_path / "data" / "slots").is_dir()
    assert (precious / "db" / "PG_VERSION").read_text() == "16"


def test_a_link_on_the_way_down_is_refused(tmp_path: Path, precious: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "slots").symlink_to(precious)
    with pytest.raises(HostDirError, match="slots is a symbolic link"):
        remove_tree_nofollow(str(tmp_path / "data"), str(tmp_path / "data" / "slots" / "db"))
    assert (precious / "db" / "PG_VERSION").read_text() == "16"


def test_a_link_at_the_folder_itself_is_removed_not_followed(tmp_path: Path, precious: Path) -> None:
    (tmp_path / "data" / "slots").mkdir(parents=True)
    (tmp_path / "data" / "slots" / "3").symlink_to(precious)
    assert remove_tree_nofollow(str(tmp_path / "data"), str(tmp_path / "data" / "slots" / "3")) is True
    assert not (tmp_path / "data" / "slots" / "3").is_symlink()
    assert (precious / "db" / "PG_VERSION").read_text() == "16"


@pytest.mark.parametrize("where", ["missing-root", "missing-parent", "missing-folder"])
def test_nothing_there_is_nothing_to_remove(tmp_path: Path, where: str) -> None:
    root = tmp_path / "data"
    if where != "missing-root":
        root.mkdir()
    if where == "missing-folder":
        (root / "slots").mkdir()
    assert remove_tree_nofollow(str(root), str(root / "slots" / "3")) is False


@pytest.mark.parametrize("path", ["{root}", "{root}/../precious", "{tmp}/precious"])
def test_nothing_outside_the_root_or_the_root_itself_is_removed(tmp_path: Path, precious: Path, path: str) -> None:
    root = tmp_path / "data"
    root.mkdir()
    with pytest.raises(HostDirError, match="not inside the data root"):
        remove_tree_nofollow(str(root), path.format(root=root, tmp=tmp_path))
    assert root.is_dir()
    assert (precious / "db" / "PG_VERSION").read_text() == "16"


def test_a_root_that_resolves_to_a_system_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").symlink_to("/etc")
    with pytest.raises(HostDirError, match="resolves to /etc"):
        remove_tree_nofollow(str(tmp_path / "data"), str(tmp_path / "data" / "ssl"))


@pytest.mark.parametrize("root", ["/", "//", "///", "/./", "relative/data"])
def test_the_whole_disk_or_a_relative_folder_is_no_root(root: str) -> None:
    """``posixpath.normpath`` keeps two leading slashes (POSIX leaves ``//`` to the system), so
    ``//`` must be refused by its text like ``/``."""
    assert root_problem(root, environ={}) == f"data root {root!r} must be an absolute folder other than /"
