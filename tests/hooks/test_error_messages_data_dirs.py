"""What ``codex.ensure-data-dirs`` says when it refuses a folder or may not chmod one
(providers/data_dirs.py), whole: on ``up`` (create) and, with ``deleteOnDestroy``, on destroy."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from codex_stacks import hostdirs
from codex_stacks.components.hooks.providers.data_dirs import EnsureDataDirsProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_error_messages_base import failure

FAILED = "hook stack/beforeAll/step failed: "


def dirs(root: str, env_dir: str, paths: list[str], *, delete: bool = False) -> dict[str, Any]:
    params = {"root": root, "env_dir": env_dir, "paths": paths, "mode": "0777", "delete_on_destroy": delete}
    return step_props("codex.ensure-data-dirs", params, stage="beforeAll")


@pytest.fixture(autouse=True)
def allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's operator allows data roots under the test's folder (codex_stacks/hostdirs.py)."""
    monkeypatch.setenv("CODEX_DATA_ROOT_ALLOWED", str(tmp_path))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "slots").symlink_to(tmp_path / "elsewhere")


# {t} is the test's folder; data/slots is a symbolic link to elsewhere
CASES = [
    pytest.param(
        "relative",
        "relative/dev",
        ["relative/dev/pg"],
        "refusing data root 'relative': it must be an absolute folder other than /",
        id="relative-root",
    ),
    pytest.param(
        "/", "/dev3", ["/dev3/pg"], "refusing data root '/': it must be an absolute folder other than /", id="root-is-/"
    ),
    pytest.param(
        "{t}/data",
        "{t}/data",
        ["{t}/data/pg"],
        "refusing data folder '{t}/data': not inside the data root '{t}/data'",
        id="env-folder-is-the-root",
    ),
    pytest.param(
        "{t}/data",
        "{t}/database/dev",
        ["{t}/database/dev/pg"],
        "refusing data folder '{t}/database/dev': not inside the data root '{t}/data'",
        id="env-folder-beside-the-root",
    ),
    pytest.param(
        "{t}/data",
        "{t}/data/dev",
        ["{t}/data/dev/../../etc"],
        "refusing data folder '{t}/etc': not inside '{t}/data/dev'",
        id="data-folder-climbs-out",
    ),
    pytest.param(
        "{t}/data",
        "{t}/data/dev",
        ["{t}/data/dev"],
        "refusing data folder '{t}/data/dev': not inside '{t}/data/dev'",
        id="data-folder-is-the-env-folder",
    ),
    pytest.param(
        "{t}/data",
        "{t}/data/slots/3",
        ["{t}/data/slots/3/pg"],
        "refusing data folder '{t}/data/slots/3': {t}/data/slots is a symbolic link (never followed)",
        id="a-link-on-the-way",
    ),
]


@pytest.mark.parametrize(("root", "env_dir", "paths", "expected"), CASES)
def test_up_refuses(tmp_path: Path, root: str, env_dir: str, paths: list[str], expected: str) -> None:
    t = str(tmp_path)
    props = dirs(root.format(t=t), env_dir.format(t=t), [path.format(t=t) for path in paths])
    assert failure(EnsureDataDirsProvider(), props) == FAILED + expected.format(t=t)


@pytest.mark.parametrize(("root", "env_dir", "paths", "expected"), CASES[:6])
def test_destroy_with_delete_on_destroy_refuses(
    tmp_path: Path, root: str, env_dir: str, paths: list[str], expected: str
) -> None:
    t = str(tmp_path)
    props = dirs(root.format(t=t), env_dir.format(t=t), [path.format(t=t) for path in paths], delete=True)
    assert failure(EnsureDataDirsProvider(), props, verb="delete") == FAILED + expected.format(t=t)


def test_destroy_refuses_a_folder_that_became_a_link(tmp_path: Path) -> None:
    t = str(tmp_path)
    props = dirs(f"{t}/data", f"{t}/data/dev", [f"{t}/data/dev/pg"], delete=True)
    EnsureDataDirsProvider().create(props)
    os.rename(f"{t}/data/dev", f"{t}/elsewhere/dev")
    os.symlink(f"{t}/elsewhere/dev", f"{t}/data/dev")
    assert failure(EnsureDataDirsProvider(), props, verb="delete") == (
        f"{FAILED}refusing data folder '{t}/data/dev/pg': {t}/data/dev is a symbolic link (never followed)"
    )
    assert os.path.isdir(f"{t}/elsewhere/dev/pg")


def test_a_chmod_the_runner_may_not_do_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The kernel's EPERM for a folder owned by another user, played back (the tests run as root)."""

    def refuse(fd: int, mode: int) -> None:
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(hostdirs.os, "fchmod", refuse)
    t = str(tmp_path)
    created = EnsureDataDirsProvider().create(dirs(f"{t}/data", f"{t}/data/dev", []))
    assert created.outs["warnings"] == [f"could not chmod {t}/data/dev: Operation not permitted"]
    assert (
        capfd.readouterr().err
        == f"warning: hook stack/beforeAll/step: could not chmod {t}/data/dev: Operation not permitted\n"
    )
