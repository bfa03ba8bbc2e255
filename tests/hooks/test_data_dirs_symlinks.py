"""``codex.ensure-data-dirs`` never follows a symbolic link, and its root must be where the
runner's operator allows data roots: nothing outside the root is chmod-ed or deleted.

Real folders and links in a temporary directory; the paths that would be harmed on a runner
(``/etc``) are only ever refused, so the tests create nothing there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.data_dirs import EnsureDataDirsProvider
from tests.hooks.helpers import step_props


@pytest.fixture(autouse=True)
def no_allowed_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_DATA_ROOT_ALLOWED", raising=False)


def props(root: Path | str, env_dir: Path | str, names: list[str], *, delete: bool = False) -> dict[str, Any]:
    return step_props(
        "codex.ensure-data-dirs",
        {
            "root": str(root),
            "env_dir": str(env_dir),
            "paths": [f"{env_dir}/{name}" for name in names],
            "mode": "0777",
            "delete_on_destroy": delete,
        },
        stage="beforeAll",
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the data root that must stay as it is."""
    folder = tmp_path / "outside"
    (folder / "postgres").mkdir(parents=True)
    (folder / "postgres" / "PG_VERSION").write_text("16")
    folder.chmod(0o700)
    (folder / "postgres").chmod(0o700)
    return folder


def test_a_symlinked_env_folder_is_refused_and_its_target_keeps_its_mode(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "data"
    (root / "slots").mkdir(parents=True)
    (root / "slots" / "3").symlink_to(outside)
    with pytest.raises(HookError, match=r"slots/3 is a symbolic link \(never followed\)"):
        EnsureDataDirsProvider().create(props(root, root / "slots" / "3", ["postgres", "redis"]))
    assert mode(outside) == 0o700
    assert mode(outside / "postgres") == 0o700
    assert sorted(p.name for p in outside.iterdir()) == ["postgres"]


def test_a_symlinked_data_folder_is_refused_and_its_target_keeps_its_mode(tmp_path: Path, outside: Path) -> None:
    env_dir = tmp_path / "data" / "slots" / "3"
    env_dir.mkdir(parents=True)
    (env_dir / "postgres").symlink_to(outside / "postgres")
    with pytest.raises(HookError, match="postgres is a symbolic link"):
        EnsureDataDirsProvider().create(props(tmp_path / "data", env_dir, ["postgres"]))
    assert mode(outside / "postgres") == 0o700


def test_delete_on_destroy_never_deletes_through_a_symlinked_env_folder(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "data"
    env_dir = root / "slots" / "3"
    step = props(root, env_dir, ["postgres"], delete=True)
    created = EnsureDataDirsProvider().create(step)
    # between up and destroy, the env folder became a link to a folder outside the root
    (env_dir / "postgres").rmdir()
    env_dir.rmdir()
    env_dir.symlink_to(outside)
    with pytest.raises(HookError) as failure:
        EnsureDataDirsProvider().delete(created.id, created.outs)
    assert (outside / "postgres" / "PG_VERSION").read_text() == "16"
    assert "slots/3 is a symbolic link (never followed)" in str(failure.value)


def test_delete_on_destroy_removes_a_link_inside_a_data_folder_not_its_target(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "data"
    env_dir = root / "dev"
    created = EnsureDataDirsProvider().create(props(root, env_dir, ["postgres"], delete=True))
    (env_dir / "postgres" / "escape").symlink_to(outside)
    EnsureDataDirsProvider().delete(created.id, created.outs)
    assert not env_dir.exists()
    assert (outside / "postgres" / "PG_VERSION").read_text() == "16"


@pytest.mark.parametrize(
    ("root", "reason"),
    [
        ("/etc", "inside the system folder /etc"),
        ("/etc/codex", "inside the system folder /etc"),
        ("/usr/local/data", "inside the system folder /usr"),
        ("/var/lib/kubelet/pods", "inside the system folder /var/lib/kubelet"),
        ("/var", "contains the system folder /var/cache"),
        ("/data", "directly under /"),
    ],
)
def test_system_folders_are_refused_as_data_roots(root: str, reason: str) -> None:
    with pytest.raises(HookError, match=f"data root '{root}'.*{reason}"):
        EnsureDataDirsProvider().create(props(root, f"{root}/slots/3", ["postgres"]))
    assert not Path(root, "slots").exists()


def test_a_root_that_is_a_link_to_a_system_folder_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".data").symlink_to("/etc")  # committed in a pull request
    with pytest.raises(HookError, match=r"\.data.: it resolves to /etc, and it is inside the system folder /etc"):
        EnsureDataDirsProvider().create(props(project / ".data", project / ".data" / "slots" / "3", ["postgres"]))
    assert not Path("/etc/slots").exists()


def test_the_operators_allowed_folder_is_enforced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = tmp_path / "srv-data"
    allowed.mkdir()
    monkeypatch.setenv("CODEX_DATA_ROOT_ALLOWED", f"/nonexistent:{allowed}")
    elsewhere = tmp_path / "elsewhere"
    with pytest.raises(HookError, match=f"data root '{elsewhere}' is not inside CODEX_DATA_ROOT_ALLOWED"):
        EnsureDataDirsProvider().create(props(elsewhere, elsewhere / "dev", ["postgres"]))
    assert not elsewhere.exists()
    created = EnsureDataDirsProvider().create(props(allowed / "alimentor", allowed / "alimentor" / "dev", ["pg"]))
    assert created.outs["result"]["created"] == [str(allowed / "alimentor" / "dev"), str(allowed / "alimentor/dev/pg")]
    assert mode(allowed / "alimentor" / "dev" / "pg") == 0o777
    assert mode(allowed / "alimentor") != 0o777  # the root is created, never chmod-ed


def test_the_allowed_folder_itself_may_be_a_link_the_operator_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    (tmp_path / "data").symlink_to(disk)
    monkeypatch.setenv("CODEX_DATA_ROOT_ALLOWED", str(tmp_path / "data"))
    EnsureDataDirsProvider().create(props(tmp_path / "data", tmp_path / "data" / "dev", ["postgres"]))
    assert (disk / "dev" / "postgres").is_dir()


def test_a_file_where_a_folder_should_be_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    (root / "dev").write_text("not a folder")
    with pytest.raises(HookError, match="dev is not a folder"):
        EnsureDataDirsProvider().create(props(root, root / "dev", ["postgres"]))


def test_nothing_is_left_open(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").exists() else 0
    for _ in range(20):
        EnsureDataDirsProvider().create(props(tmp_path / "data", tmp_path / "data" / "dev", ["a", "b"]))
    after = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").exists() else 0
    assert after <= before + 2
