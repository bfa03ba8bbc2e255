"""The one way project files are read: bounded, regular files only, inside the project.

A project's files come from strangers (a pull request can add any of them), so a read must not
hang on a FIFO, fill memory from ``/dev/zero``, follow a link out of the project, or end in a
traceback. :func:`read_text` opens without blocking, checks with ``fstat`` that it got a regular
file, reads at most the per-file limit plus one byte, and counts what it read against the
project's total. Every failure is one :class:`ConfigError` that names the file.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from functools import lru_cache
from pathlib import Path

from codex_stacks.config.limits import FILE_BYTES_VAR, PROJECT_BYTES_VAR, Limits, current, describe_size
from codex_stacks.errors import ConfigError, Location

_CHUNK = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
"""O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, for ever."""
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

_FILE_TYPES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

_ERRNO_WORDS = {
    errno.ENOENT: "file not found",
    errno.ENOTDIR: "file not found (a part of its path is not a folder)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "too many levels of symbolic links (a link loop?)",
    errno.ENAMETOOLONG: "file name too long",
    errno.EISDIR: "expected a file, found a directory",
    errno.ENXIO: "not a regular file: a socket, or a device with nothing behind it",
}


class _ProjectTally:
    """Bytes read per project folder: every distinct file once, at its latest size.

    A file read twice (the first template pass and the second, a repair run rendering a group
    again) counts once, so the total is the size of what the project makes us read.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sizes: dict[str, dict[str, int]] = {}
        self._totals: dict[str, int] = {}

    def total_without(self, root: str, file: str) -> int:
        with self._lock:
            return self._totals.get(root, 0) - self._sizes.get(root, {}).get(file, 0)

    def record(self, root: str, file: str, size: int) -> None:
        with self._lock:
            files = self._sizes.setdefault(root, {})
            self._totals[root] = self._totals.get(root, 0) - files.get(file, 0) + size
            files[file] = size


_TALLY = _ProjectTally()


def read_text(path: Path, *, root: Path | None = None, limits: Limits | None = None) -> str:
    """The UTF-8 text of the regular file ``path``, or a ConfigError that names it.

    With ``root`` (the project folder), the file must resolve inside it — a symbolic link may
    point elsewhere in the project, never out of it — and its size counts against the project's
    total. The limits default to the operator's (:func:`codex_stacks.config.limits.current`).
    """
    limits = limits or current()
    data = read_bytes(path, root=root, limits=limits)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"not UTF-8 text ({exc.reason})", location=Location(file=path, line=line)) from None


def read_optional(path: Path, *, root: Path | None = None, limits: Limits | None = None) -> str | None:
    """Like :func:`read_text`, but None when nothing is at ``path`` (a stack file a slot does not need)."""
    _check_name(path)
    try:
        os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _os_error(exc, path) from None
    return read_text(path, root=root, limits=limits)


def read_bytes(path: Path, *, root: Path | None = None, limits: Limits | None = None) -> bytes:
    """The bytes of the regular file ``path`` (see :func:`read_text`)."""
    limits = limits or current()
    _check_name(path)
    target, root_key = _inside(path, root)
    try:
        _check_kind(os.stat(target).st_mode, path)  # a device is refused unopened (opening one can act)
        fd = os.open(target, _OPEN_FLAGS | (_NOFOLLOW if root is not None else 0))
    except OSError as exc:
        raise _os_error(exc, path) from None
    try:
        info = os.fstat(fd)
        _check_kind(info.st_mode, path)
        before = _TALLY.total_without(root_key, target) if root_key is not None else 0
        if info.st_size > limits.file_bytes:
            raise _too_big(path, limits)
        if root_key is not None and before + info.st_size > limits.project_bytes:
            raise _project_too_big(path, limits)
        data = _read_at_most(fd, limits.file_bytes + 1, path)
    finally:
        os.close(fd)
    if len(data) > limits.file_bytes:  # it grew after fstat, or fstat does not know (procfs)
        raise _too_big(path, limits)
    if root_key is not None:
        if before + len(data) > limits.project_bytes:
            raise _project_too_big(path, limits)
        _TALLY.record(root_key, target, len(data))
    return data


def _inside(path: Path, root: Path | None) -> tuple[str, str | None]:
    """The file to open and the project key: with a root, the real path, which must be inside it.

    Resolved before anything is opened: opening a device can have effects of its own (a
    watchdog starts counting), so a link out of the project is refused unopened (and
    :func:`read_bytes` checks the kind of file before it opens one, and again on what it opened).
    """
    if root is None:
        return os.fspath(path), None
    try:
        real_root = _real_folder(os.path.abspath(root))
        absolute = os.path.abspath(path)
        if stat.S_ISLNK(os.lstat(absolute).st_mode):
            real = os.path.realpath(absolute, strict=True)
        else:  # only the folder can hold links: resolved once per folder
            folder, name = os.path.split(absolute)
            real = os.path.join(_real_folder(folder), name)
    except OSError as exc:
        raise _os_error(exc, path) from None
    if not _within(real, real_root):
        lexical = os.path.normpath(os.path.abspath(path))
        linked = _within(lexical, real_root) or _within(lexical, os.path.normpath(os.path.abspath(root)))
        raise ConfigError(
            "the symbolic link leaves the project folder" if linked else "the file is outside the project folder",
            location=Location(file=path),
            hint="project files must stay inside the project folder (links may point only within it)",
        )
    return real, real_root


def _check_name(path: Path) -> None:
    """A NUL character cannot be in a file name: the system calls refuse it with a ValueError."""
    name = os.fspath(path)
    if "\0" in name:
        raise ConfigError(
            "a file name cannot hold a NUL character (\\0)", location=Location(file=Path(name.replace("\0", "\\0")))
        )


@lru_cache(maxsize=256)
def _real_folder(folder: str) -> str:
    """A folder's real path (a project reads many files from few folders)."""
    return os.path.realpath(folder)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _check_kind(mode: int, path: Path) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ConfigError("expected a file, found a directory", location=Location(file=path))
    kind = next((words for test, words in _FILE_TYPES if test(mode)), "an unknown kind of file")
    raise ConfigError(f"not a regular file: {kind}", location=Location(file=path))


def _read_at_most(fd: int, count: int, path: Path) -> bytes:
    chunks: list[bytes] = []
    remaining = count
    try:
        while remaining > 0:
            chunk = os.read(fd, min(remaining, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise _os_error(exc, path) from None
    return b"".join(chunks)


def _os_error(exc: OSError, path: Path) -> ConfigError:
    words = _ERRNO_WORDS.get(exc.errno or 0) or f"cannot read it: {exc.strerror or exc}"
    if exc.errno == errno.ENXIO:
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                words = "not a regular file: a socket"
        except OSError:
            pass
    return ConfigError(words, location=Location(file=path))


def _too_big(path: Path, limits: Limits) -> ConfigError:
    return ConfigError(
        f"the file is larger than {describe_size(limits.file_bytes)}",
        location=Location(file=path),
        hint=f"the limit is {FILE_BYTES_VAR} in the environment of codexctl and pulumi",
    )


def _project_too_big(path: Path, limits: Limits) -> ConfigError:
    return ConfigError(
        f"the project's files add up to more than {describe_size(limits.project_bytes)} with this one",
        location=Location(file=path),
        hint=f"the limit is {PROJECT_BYTES_VAR} in the environment of codexctl and pulumi",
    )
