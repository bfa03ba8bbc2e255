"""Host data folders, created, chmod-ed and removed without following a symbolic link.

``services.yaml`` names the data root, and a project folder may hold symbolic links: both come
from whoever wrote the change. So the operator of the runner says where data roots may live
(``CODEX_DATA_ROOT_ALLOWED``, absolute folders separated by ``:``); without it, a root may not
be, lie in or contain a system folder (:data:`PROTECTED`) and must be at least two levels deep.
Below the allowed folder (or below the root's deepest existing folder when none is set) every
step opens one name with ``O_NOFOLLOW`` relative to the folder before it, so a link anywhere
below is refused instead of followed, and nothing is chmod-ed or deleted outside the root. Used
by the ``codex.ensure-data-dirs`` hook and by ``codexctl ci cleanup`` (docs/security-workflows.md).
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

ALLOWED_ENV = "CODEX_DATA_ROOT_ALLOWED"
PROTECTED = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/snap",
    "/sys",
    "/usr",
    "/var/cache",
    "/var/lib/apt",
    "/var/lib/containerd",
    "/var/lib/docker",
    "/var/lib/dpkg",
    "/var/lib/etcd",
    "/var/lib/kubelet",
    "/var/lib/rancher",
    "/var/lib/rpm",
    "/var/lib/systemd",
    "/var/log",
    "/var/run",
    "/var/spool",
)
"""System folders no data root may be, lie in or contain when no allowed folder is configured."""
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NOFOLLOW = _DIR_FLAGS | os.O_NOFOLLOW


class HostDirError(Exception):
    """A data folder that may not be touched; the message names it and why."""


@dataclass
class Prepared:
    """What :func:`ensure_dirs` did."""

    created: list[str] = field(default_factory=list)
    """The requested folders that did not exist before (not their parents)."""
    warnings: list[str] = field(default_factory=list)


def is_inside(path: str, parent: str) -> bool:
    """``path`` strictly below ``parent`` (both normalised)."""
    path, parent = posixpath.normpath(path), posixpath.normpath(parent)
    return path != parent and path.startswith(parent.rstrip("/") + "/")


def allowed_folders(environ: Mapping[str, str] | None = None, *, allowed_env: str = ALLOWED_ENV) -> list[str]:
    """The operator's ``CODEX_DATA_ROOT_ALLOWED`` (or ``allowed_env``), normalised; empty when unset."""
    value = (os.environ if environ is None else environ).get(allowed_env, "")
    return [posixpath.normpath(item) for item in value.split(":") if item.strip()]


def protected_problem(path: str) -> str | None:
    """Why ``path`` (absolute, normalised) is a system folder, lies in one or contains one; or None."""
    for folder in PROTECTED:
        if path == folder or is_inside(path, folder):
            return f"it is inside the system folder {folder}"
        if is_inside(folder, path) or path == "/":
            return f"it contains the system folder {folder}"
    return None


def root_problem(
    root: str, *, environ: Mapping[str, str] | None = None, allowed_env: str = ALLOWED_ENV, word: str = "data"
) -> str | None:
    """Why ``root`` may not be a data root (``word`` root), judged on its text alone; None when it may."""
    normal = posixpath.normpath(root)
    if not posixpath.isabs(normal) or normal.strip("/") == "":  # normpath keeps "//" as it is
        return f"{word} root {root!r} must be an absolute folder other than /"
    allowed = allowed_folders(environ, allowed_env=allowed_env)
    if allowed:
        if any(normal == folder or is_inside(normal, folder) for folder in allowed):
            return None
        return f"{word} root {normal!r} is not inside {allowed_env} ({':'.join(allowed)})"
    problem = protected_problem(normal)
    if problem is not None:
        return f"{word} root {normal!r} is not allowed: {problem} (set {allowed_env} on the runner)"
    if normal.count("/") < 2:
        return f"{word} root {normal!r} is directly under /: allow it explicitly with {allowed_env} on the runner"
    return None


@contextmanager
def opened_folder(root: str, path: str, *, create: bool, allowed_env: str, word: str) -> Iterator[int]:
    """``path`` (strictly inside ``root``) as an open folder, walked from the allowed folder without
    following a link, under the rules of a data root; the caller must not close the fd."""
    parts = _parts_below(root, path)
    with _opened_root(root, create=create, allowed_env=allowed_env, word=word) as (root_fd, real_root):
        if root_fd < 0:
            raise FileNotFoundError(path)
        _check_resolved(posixpath.join(real_root, *parts), shown=path, allowed_env=allowed_env)
        fd = _walk(root_fd, parts, create=create, shown=path, created=[], base=root)
        try:
            yield fd
        finally:
            os.close(fd)


def ensure_dirs(*, root: str, folders: Sequence[str], mode: int) -> Prepared:
    """Create each folder (each strictly inside ``root``; parents first) and chmod it to ``mode``.

    The root is created if missing but never chmod-ed; an existing link anywhere below the
    allowed folder is an error, never followed.
    """
    done = Prepared()
    with _opened_root(root, create=True) as (root_fd, real_root):
        for folder in folders:
            parts = _parts_below(root, folder)
            _check_resolved(posixpath.join(real_root, *parts), shown=folder)
            made: list[str] = []
            fd = _walk(root_fd, parts, create=True, shown=folder, created=made, base=root)
            if posixpath.join(root, *parts) in made:
                done.created.append(posixpath.normpath(folder))
            try:
                os.fchmod(fd, mode)
            except OSError as error:
                done.warnings.append(f"could not chmod {folder}: {error.strerror}")
            finally:
                os.close(fd)
    return done


def remove_tree_nofollow(root: str, path: str) -> bool:
    """Delete ``path`` (strictly inside ``root``) and everything in it; False when it is not there.

    No link is followed: a link on the way down is an error; a link at ``path`` itself is
    removed, not what it points to; inside ``path``, :func:`shutil.rmtree` works on file
    descriptors and removes links without following them.
    """
    import shutil

    parts = _parts_below(root, path)
    with _opened_root(root, create=False) as (root_fd, real_root):
        if root_fd < 0:
            return False
        _check_resolved(posixpath.join(real_root, *parts), shown=path)
        try:
            parent = _walk(root_fd, parts[:-1], create=False, shown=path, created=[], base=root)
        except FileNotFoundError:
            return False
        try:
            try:
                info = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                return False
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(parts[-1], dir_fd=parent)
            else:
                os.unlink(parts[-1], dir_fd=parent)
            return True
        finally:
            os.close(parent)


def remove_dir_if_empty(root: str, path: str) -> bool:
    """Remove the folder ``path`` (strictly inside ``root``) if it is empty; never through a link."""
    parts = _parts_below(root, path)
    with _opened_root(root, create=False) as (root_fd, _real_root):
        if root_fd < 0:
            return False
        try:
            parent = _walk(root_fd, parts[:-1], create=False, shown=path, created=[], base=root)
        except FileNotFoundError:
            return False
        try:
            os.rmdir(parts[-1], dir_fd=parent)
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                return False
            raise
        finally:
            os.close(parent)
        return True


# -- internals


def _parts_below(root: str, path: str) -> list[str]:
    root, path = posixpath.normpath(root), posixpath.normpath(path)
    if not is_inside(path, root):
        raise HostDirError(f"refusing data folder {path!r}: not inside the data root {root!r}")
    parts = path[len(root.rstrip("/")) + 1 :].split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise HostDirError(f"refusing data folder {path!r}: not a plain path")
    return parts


@contextmanager
def _opened_root(
    root: str, *, create: bool, allowed_env: str = ALLOWED_ENV, word: str = "data"
) -> Iterator[tuple[int, str]]:
    """The root as an open folder and its real path; ``(-1, "")`` when it is missing and not created.

    The trusted start is the allowed folder holding the root, else the root's deepest existing
    folder, whose real path must pass :func:`protected_problem`; the rest is walked without
    following links.
    """
    root = posixpath.normpath(root)
    problem = root_problem(root, allowed_env=allowed_env, word=word)
    if problem is not None:
        raise HostDirError(f"refusing {problem}")
    allowed = allowed_folders(allowed_env=allowed_env)
    if allowed:
        start = max((folder for folder in allowed if root == folder or is_inside(root, folder)), key=len)
    else:
        start = root
        while not os.path.lexists(start) and start != "/":
            start = posixpath.dirname(start)
    try:
        start_fd = os.open(start, _DIR_FLAGS)
    except FileNotFoundError:
        if not create:
            yield -1, ""
            return
        raise HostDirError(f"refusing data root {root!r}: the allowed folder {start} does not exist") from None
    except NotADirectoryError:
        raise HostDirError(f"refusing data root {root!r}: {start} is not a folder") from None
    try:
        real_start = _real_path(start_fd, start)
        rest = [] if start == root else _parts_below(start, root)
        _check_resolved(posixpath.join(real_start, *rest), shown=root, root=True, allowed_env=allowed_env)
        try:
            root_fd = _walk(start_fd, rest, create=create, shown=root, created=[], base=start)
        except FileNotFoundError:
            yield -1, ""
            return
        try:
            yield root_fd, posixpath.join(real_start, *rest)
        finally:
            os.close(root_fd)
    finally:
        os.close(start_fd)


def _walk(fd: int, parts: Sequence[str], *, create: bool, shown: str, created: list[str], base: str) -> int:
    """Open ``parts`` one by one below ``fd`` without following links; a new fd the caller closes.

    Raises FileNotFoundError for a missing folder when not creating.
    """
    current = os.dup(fd)
    path = base
    try:
        for part in parts:
            path = posixpath.join(path, part)
            try:
                following = os.open(part, _NOFOLLOW, dir_fd=current)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, 0o755, dir_fd=current)
                    created.append(path)
                except FileExistsError:
                    pass
                following = _open_nofollow(part, current, path=path, shown=shown)
            except OSError as error:
                raise _link_error(error, part=part, fd=current, path=path, shown=shown) from None
            os.close(current)
            current = following
    except BaseException:
        os.close(current)
        raise
    return current


def _open_nofollow(part: str, fd: int, *, path: str, shown: str) -> int:
    try:
        return os.open(part, _NOFOLLOW, dir_fd=fd)
    except OSError as error:
        raise _link_error(error, part=part, fd=fd, path=path, shown=shown) from None


def _link_error(error: OSError, *, part: str, fd: int, path: str, shown: str) -> Exception:
    """A link or a file where a folder should be (``O_NOFOLLOW | O_DIRECTORY`` says ELOOP or ENOTDIR)."""
    if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        try:
            is_link = stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode)
        except OSError:
            is_link = error.errno != errno.ENOTDIR
        what = "a symbolic link (never followed)" if is_link else "not a folder"
        return HostDirError(f"refusing data folder {shown!r}: {path} is {what}")
    return HostDirError(f"data folder {shown!r}: {path}: {error.strerror}")


def _real_path(fd: int, fallback: str) -> str:
    """The real path of an open folder (Linux: its ``/proc/self/fd`` link), else ``realpath``."""
    try:
        return posixpath.normpath(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return posixpath.realpath(fallback)


def _check_resolved(path: str, *, shown: str, root: bool = False, allowed_env: str = ALLOWED_ENV) -> None:
    """Without an allowed folder, the real place of a root or data folder may not be a system folder."""
    if allowed_folders(allowed_env=allowed_env):
        return
    problem = protected_problem(path)
    if problem is not None:
        what = "data root" if root else "data folder"
        raise HostDirError(f"refusing {what} {shown!r}: it resolves to {path}, and {problem}")
