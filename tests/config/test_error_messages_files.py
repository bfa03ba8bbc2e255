"""Every error of reading a project's files (codex_stacks/config/files.py) printed whole: what is
missing, what is not a regular file, what leaves the project, what is not text, and each size
bound just inside and just over. File names are shown relative to the test's folder."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from codex_stacks.config.files import read_optional, read_text
from codex_stacks.config.limits import Limits
from codex_stacks.errors import ConfigError

OUTSIDE_HINT = "  hint: project files must stay inside the project folder (links may point only within it)"
FILE_HINT = "  hint: the limit is CODEX_MAX_FILE_BYTES in the environment of codexctl and pulumi"
PROJECT_HINT = "  hint: the limit is CODEX_MAX_PROJECT_BYTES in the environment of codexctl and pulumi"


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _read(path: Path, *, root: Path | None = None, limits: Limits | None = None, optional: bool = False) -> str:
    """What the read gives: the text's length, or the error as printed."""
    try:
        text = read_optional(path, root=root, limits=limits) if optional else read_text(path, root=root, limits=limits)
    except ConfigError as error:
        return str(error)
    return "nothing there" if text is None else f"{len(text)} characters"


def _sparse(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    with path.open("wb") as file:
        file.truncate(size)
    return path


def _socket(folder: Path) -> str:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("sock")  # relative: the test runs in ``folder`` (a socket path has at most 107 bytes)
        return _read(folder / "sock", root=folder)


def _twice(folder: Path, first: str, second: str, limits: Limits) -> str:
    _read(folder / first, root=folder, limits=limits)
    return _read(folder / second, root=folder, limits=limits)


def _loop(proj: Path) -> Path:
    (proj / "a.yaml").symlink_to(proj / "b.yaml")
    (proj / "b.yaml").symlink_to(proj / "a.yaml")
    return proj / "a.yaml"


def _fifo(proj: Path) -> Path:
    os.mkfifo(proj / "pipe")
    return proj / "pipe"


def _linked(proj: Path, name: str, target: Path) -> Path:
    (proj / name).symlink_to(target)
    return proj / name


def _folder(proj: Path, name: str) -> Path:
    (proj / name).mkdir()
    return proj / name


SMALL = Limits(file_bytes=1024, project_bytes=10)
Case = Callable[[Path, Path], str]
"""(the test's folder, the project folder in it) -> what the read gives."""

CASES: list[object] = [
    pytest.param(lambda tmp, proj: _read(proj / "a.yaml", root=proj), "proj/a.yaml: file not found", id="missing"),
    pytest.param(lambda tmp, proj: _read(tmp / "a.yaml"), "a.yaml: file not found", id="missing-without-root"),
    pytest.param(
        lambda tmp, proj: _read(proj / "a.yaml", root=proj, optional=True), "nothing there", id="optional-missing"
    ),
    pytest.param(
        lambda tmp, proj: _read(_write(proj, "a.txt", b"x") / "b.yaml", root=proj),
        "proj/a.txt/b.yaml: file not found (a part of its path is not a folder)",
        id="part-not-a-folder",
    ),
    pytest.param(
        lambda tmp, proj: _read(_write(proj, "a.txt", b"x") / "b.yaml", optional=True),
        "proj/a.txt/b.yaml: file not found (a part of its path is not a folder)",
        id="optional-part-not-a-folder",
    ),
    pytest.param(
        lambda tmp, proj: _read(_loop(proj), root=proj),
        "proj/a.yaml: too many levels of symbolic links (a link loop?)",
        id="link-loop",
    ),
    pytest.param(
        lambda tmp, proj: _read(_loop(proj)),
        "proj/a.yaml: too many levels of symbolic links (a link loop?)",
        id="link-loop-without-root",
    ),
    pytest.param(
        lambda tmp, proj: _read(proj / ("n" * 300), root=proj),
        "proj/" + "n" * 300 + ": file name too long",
        id="name-too-long",
    ),
    pytest.param(
        lambda tmp, proj: _read(proj / "a\0b.yaml", root=proj),
        "proj/a\\0b.yaml: a file name cannot hold a NUL character (\\0)",
        id="nul-in-name",
    ),
    pytest.param(
        lambda tmp, proj: _read(proj / "a\0b.yaml", optional=True),
        "proj/a\\0b.yaml: a file name cannot hold a NUL character (\\0)",
        id="optional-nul-in-name",
    ),
    pytest.param(
        lambda tmp, proj: _read(_folder(proj, "deploy"), root=proj),
        "proj/deploy: expected a file, found a directory",
        id="directory",
    ),
    pytest.param(
        lambda tmp, proj: _read(_fifo(proj), root=proj),
        "proj/pipe: not a regular file: a named pipe (FIFO)",
        id="fifo",
    ),
    pytest.param(lambda tmp, proj: _socket(proj), "proj/sock: not a regular file: a socket", id="socket"),
    pytest.param(
        lambda tmp, proj: _read(Path("/dev/null")), "/dev/null: not a regular file: a character device", id="device"
    ),
    pytest.param(
        lambda tmp, proj: _read(_write(tmp, "other.txt", b"x"), root=proj),
        f"other.txt: the file is outside the project folder\n{OUTSIDE_HINT}",
        id="outside",
    ),
    pytest.param(
        lambda tmp, proj: _read(_linked(proj, "link.txt", _write(tmp, "other.txt", b"x")), root=proj),
        f"proj/link.txt: the symbolic link leaves the project folder\n{OUTSIDE_HINT}",
        id="link-leaves",
    ),
    pytest.param(
        lambda tmp, proj: _read(_linked(proj, "sub", _write(tmp, "out/a.txt", b"x").parent) / "a.txt", root=proj),
        f"proj/sub/a.txt: the symbolic link leaves the project folder\n{OUTSIDE_HINT}",
        id="folder-link-leaves",
    ),
    pytest.param(
        lambda tmp, proj: _read(_linked(proj, "link.txt", _write(proj, "deploy/a.txt", b"abc")), root=proj),
        "3 characters",
        id="link-within",
    ),
    pytest.param(
        lambda tmp, proj: _read(_write(proj, "a.yaml", b"a: 1\nb: \xff\n"), root=proj),
        "proj/a.yaml:2: not UTF-8 text (invalid start byte)",
        id="not-utf8",
    ),
    pytest.param(
        lambda tmp, proj: _read(_write(proj, "a.yaml", b"x" * 1024), root=proj, limits=Limits(file_bytes=1024)),
        "1024 characters",
        id="file-at-the-bound",
    ),
    pytest.param(
        lambda tmp, proj: _read(_write(proj, "a.yaml", b"x" * 1025), root=proj, limits=Limits(file_bytes=1024)),
        f"proj/a.yaml: the file is larger than 1 KiB\n{FILE_HINT}",
        id="file-one-over",
    ),
    pytest.param(
        lambda tmp, proj: _read(_write(proj, "a.yaml", b"x" * 1025), limits=Limits(file_bytes=1025)),
        "1025 characters",
        id="odd-bound-inside",
    ),
    pytest.param(
        lambda tmp, proj: _read(_write(proj, "a.yaml", b"x" * 1026), limits=Limits(file_bytes=1025)),
        f"proj/a.yaml: the file is larger than 1025 bytes\n{FILE_HINT}",
        id="odd-bound-over",
    ),
    pytest.param(
        lambda tmp, proj: _read(_sparse(proj, "a.yaml", (3 << 20) + 1), limits=Limits(file_bytes=3 << 20)),
        f"proj/a.yaml: the file is larger than 3 MiB\n{FILE_HINT}",
        id="megabytes",
    ),
    pytest.param(
        lambda tmp, proj: _read(_sparse(proj, "a.yaml", (1 << 30) + 1), limits=Limits(file_bytes=1 << 30)),
        f"proj/a.yaml: the file is larger than 1 GiB\n{FILE_HINT}",
        id="gigabytes",
    ),
    pytest.param(
        lambda tmp, proj: _read(Path("/proc/self/status"), limits=Limits(file_bytes=10)),
        f"/proc/self/status: the file is larger than 10 bytes\n{FILE_HINT}",
        id="grows-past-its-size",
    ),
    pytest.param(
        lambda tmp, proj: _twice(proj, _write(proj, "a", b"123456").name, _write(proj, "b", b"1234").name, SMALL),
        "4 characters",
        id="project-at-the-bound",
    ),
    pytest.param(
        lambda tmp, proj: _twice(proj, _write(proj, "a", b"123456").name, _write(proj, "b", b"12345").name, SMALL),
        f"proj/b: the project's files add up to more than 10 bytes with this one\n{PROJECT_HINT}",
        id="project-one-over",
    ),
    pytest.param(
        lambda tmp, proj: _twice(proj, _write(proj, "a", b"123456").name, "a", SMALL),
        "6 characters",
        id="a-file-read-twice-counts-once",
    ),
]


@pytest.mark.parametrize(("case", "expected"), CASES)
def test_what_a_bad_file_reads(case: Case, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    monkeypatch.chdir(proj)
    assert case(tmp_path, proj).replace(f"{tmp_path}/", "") == expected
