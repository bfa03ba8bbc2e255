"""Copy one folder tree onto another like ``rsync -a --delete --no-perms --no-owner``, never
through a symbolic link.

Both sides are open folders (file descriptors), and every name is opened relative to its
folder with ``O_NOFOLLOW``: a link in the target is replaced, never written through; a link in
the source is copied as a link when it stays inside the tree and refused when it leaves it.
Modes are not copied: files get 0664 (0775 when the source is executable), folders 0775, so the
agent's group can write them whatever user the runner is. The walk is bounded in files and
bytes. Used by ``ci sync-sources`` (the runner's checkout → the slot's workspace) and by
``ci deliver`` (the agent's workspace → the runner's checkout), docs/operations.md.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1024 * 1024
MAX_FILES = 200_000
MAX_BYTES = 4 * 1024**3
GIT = ".git"


class MirrorError(Exception):
    """The tree cannot be copied; the message names the path and why (never file contents)."""


@dataclass
class Budget:
    """How much a walk may read: files and bytes, counted as it goes."""

    files: int = MAX_FILES
    bytes: int = MAX_BYTES

    def spend(self, *, path: str, size: int) -> None:
        self.files -= 1
        self.bytes -= size
        if self.files < 0:
            raise MirrorError(f"more than {MAX_FILES} files (at {path}): refusing to copy the tree")
        if self.bytes < 0:
            raise MirrorError(f"more than {MAX_BYTES // 1024**2} MiB (at {path}): refusing to copy the tree")


@dataclass
class Mirrored:
    """What :func:`mirror` changed in the target."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _entries(fd: int) -> list[str]:
    return sorted(os.listdir(fd))


def _kind(name: str, fd: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _open_dir(name: str, fd: int, *, path: str) -> int:
    try:
        return os.open(name, _DIR, dir_fd=fd)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise MirrorError(f"{path} changed into a link or a file while it was copied") from None
        raise MirrorError(f"{path}: {error.strerror}") from None


def _link_target(name: str, fd: int, *, path: str) -> str:
    """The link's text, if it stays inside the tree (relative, and never above the top)."""
    target = os.readlink(name, dir_fd=fd)
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if posixpath.isabs(target) or resolved == ".." or resolved.startswith("../"):
        raise MirrorError(f"{path} is a symbolic link leaving the tree ({target!r}): refused")
    return target


def _remove(name: str, fd: int) -> None:
    info = _kind(name, fd)
    if info is None:
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(name, dir_fd=fd)
    else:
        os.unlink(name, dir_fd=fd)


def _same_file(src: int, name: str, dst_fd: int, size: int) -> bool:
    try:
        other = os.open(name, _FILE, dir_fd=dst_fd)
    except OSError:
        return False
    try:
        if os.fstat(other).st_size != size:
            return False
        os.lseek(src, 0, os.SEEK_SET)
        while True:
            a, b = os.read(src, _CHUNK), os.read(other, _CHUNK)
            if a != b:
                return False
            if not a:
                return True
    finally:
        os.close(other)
        os.lseek(src, 0, os.SEEK_SET)


def _copy_file(name: str, src_fd: int, dst_fd: int, *, path: str, budget: Budget) -> bool:
    """Copy one regular file; False when the target already held the same bytes."""
    try:
        src = os.open(name, _FILE, dir_fd=src_fd)
    except OSError as error:
        raise MirrorError(f"{path}: {error.strerror}") from None
    try:
        info = os.fstat(src)
        if not stat.S_ISREG(info.st_mode):
            raise MirrorError(f"{path} changed while it was copied")
        budget.spend(path=path, size=info.st_size)
        mode = 0o775 if info.st_mode & 0o111 else 0o664
        existing = _kind(name, dst_fd)
        if existing is not None and stat.S_ISREG(existing.st_mode) and _same_file(src, name, dst_fd, info.st_size):
            if stat.S_IMODE(existing.st_mode) != mode:
                fixed = os.open(name, _FILE, dir_fd=dst_fd)
                try:
                    os.fchmod(fixed, mode)
                finally:
                    os.close(fixed)
            return False
        temporary = f".{name}.codex-sync"[:255]
        _remove(temporary, dst_fd)
        out = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dst_fd
        )
        try:
            while chunk := os.read(src, _CHUNK):
                os.write(out, chunk)
            os.fchmod(out, mode)
        finally:
            os.close(out)
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            shutil.rmtree(name, dir_fd=dst_fd)
        os.replace(temporary, name, src_dir_fd=dst_fd, dst_dir_fd=dst_fd)
        return True
    finally:
        os.close(src)


def mirror(
    src_fd: int,
    dst_fd: int,
    *,
    skip_git: bool,
    budget: Budget | None = None,
    prefix: str = "",
    done: Mirrored | None = None,
) -> Mirrored:
    """Make the folder ``dst_fd`` hold exactly what ``src_fd`` holds (``.git`` at the top left alone
    on both sides when ``skip_git``); what it changed."""
    budget = budget or Budget()
    done = done if done is not None else Mirrored()
    source_names = [n for n in _entries(src_fd) if not (skip_git and not prefix and n == GIT)]
    wanted = set(source_names)
    for name in _entries(dst_fd):
        if name in wanted or (skip_git and not prefix and name == GIT):
            continue
        _remove(name, dst_fd)
        done.removed.append(prefix + name)
    for name in source_names:
        path = prefix + name
        info = _kind(name, src_fd)
        if info is None:
            continue
        if stat.S_ISLNK(info.st_mode):
            target = _link_target(name, src_fd, path=path)
            budget.spend(path=path, size=0)
            existing = _kind(name, dst_fd)
            if existing is not None and stat.S_ISLNK(existing.st_mode) and os.readlink(name, dir_fd=dst_fd) == target:
                continue
            _remove(name, dst_fd)
            os.symlink(target, name, dir_fd=dst_fd)
            done.written.append(path)
        elif stat.S_ISDIR(info.st_mode):
            budget.spend(path=path, size=0)
            existing = _kind(name, dst_fd)
            if existing is not None and not stat.S_ISDIR(existing.st_mode):
                _remove(name, dst_fd)
                existing = None
            if existing is None:
                os.mkdir(name, 0o775, dir_fd=dst_fd)
            child_src = _open_dir(name, src_fd, path=path)
            try:
                child_dst = _open_dir(name, dst_fd, path=path)
                try:
                    os.fchmod(child_dst, 0o775)
                    mirror(child_src, child_dst, skip_git=skip_git, budget=budget, prefix=path + "/", done=done)
                finally:
                    os.close(child_dst)
            finally:
                os.close(child_src)
        elif stat.S_ISREG(info.st_mode):
            if _copy_file(name, src_fd, dst_fd, path=path, budget=budget):
                done.written.append(path)
        else:
            raise MirrorError(f"{path} is neither a file, a folder nor a link: refused")
    return done


def _walk_files(fd: int, prefix: str, budget: Budget) -> Iterator[tuple[str, str, bytes]]:
    """(path, kind, content or link text) of every entry below ``fd``, ``.git`` at the top skipped."""
    for name in _entries(fd):
        if not prefix and name == GIT:
            continue
        path = prefix + name
        info = _kind(name, fd)
        if info is None:
            continue
        budget.spend(path=path, size=info.st_size if stat.S_ISREG(info.st_mode) else 0)
        if stat.S_ISLNK(info.st_mode):
            yield path, "l", os.readlink(name, dir_fd=fd).encode()
        elif stat.S_ISDIR(info.st_mode):
            yield path, "d", b""
            child = _open_dir(name, fd, path=path)
            try:
                yield from _walk_files(child, path + "/", budget)
            finally:
                os.close(child)
        elif stat.S_ISREG(info.st_mode):
            handle = os.open(name, _FILE, dir_fd=fd)
            try:
                digest = hashlib.sha256()
                while chunk := os.read(handle, _CHUNK):
                    digest.update(chunk)
                kind = "x" if info.st_mode & 0o111 else "f"
            finally:
                os.close(handle)
            yield path, kind, digest.digest()
        else:
            yield path, "?", b""


def tree_digest(fd: int) -> str:
    """One hash of every path, its kind (file, executable, folder, link) and its content, ``.git``
    at the top left out: equal digests mean equal working trees, whatever the modes and times."""
    digest = hashlib.sha256()
    for path, kind, content in _walk_files(fd, "", Budget()):
        digest.update(path.encode() + b"\0" + kind.encode() + b"\0" + content + b"\n")
    return digest.hexdigest()


def read_bounded(fd: int, path: str, *, limit: int) -> bytes | None:
    """A regular file below ``fd`` (``a/b/c``), at most ``limit`` bytes, never through a link; None when missing."""
    parts = [part for part in path.split("/") if part]
    current = os.dup(fd)
    try:
        for part in parts[:-1]:
            try:
                following = os.open(part, _DIR, dir_fd=current)
            except OSError:
                return None
            os.close(current)
            current = following
        try:
            handle = os.open(parts[-1], _FILE, dir_fd=current)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(handle).st_mode):
                return None
            return os.read(handle, limit)
        finally:
            os.close(handle)
    finally:
        os.close(current)
