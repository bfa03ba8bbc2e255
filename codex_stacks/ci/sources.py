"""``codexctl ci sync-sources``: the issue's branch as a git working copy in the slot's workspace.

``codex.workspace.source: hostPath``: the runner's checkout (``--source``) is put on the issue's
branch (the remote branch's tip when it exists, else the checkout's commit) and copied into
``<codeRoot>/<slot>/src`` like ``rsync -a --delete --no-perms --no-owner``
(codex_stacks/ci/mirror.py), ``.git`` included; the folder is reached without following a link
and must lie inside the runner's ``CODEX_CODE_ROOT_ALLOWED`` (codex_stacks/hostdirs.py). What
was synced — the branch, its commit and a digest of the tree — is recorded in
``<codeRoot>/<slot>/sync.json``, beside the agent's folder; ``ci deliver`` updates it after a
push. A working copy that differs from the record holds work not yet delivered: a re-sync
refuses to touch it without ``--force``.

``source: pvc``: the agent's init container clones the repository into its claim when the pod
starts (codex_stacks/plan/workspace.py); there is nothing to copy from the runner.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
from dataclasses import asdict, dataclass
from pathlib import Path

from codex_stacks.ci.errors import CiError, ExternalError
from codex_stacks.ci.gitrepo import Git
from codex_stacks.ci.mirror import MirrorError, mirror, read_bounded, tree_digest
from codex_stacks.ci.slots import format_time, now_utc, slot_number
from codex_stacks.hostdirs import HostDirError, opened_folder

CODE_ROOT_ALLOWED_ENV = "CODEX_CODE_ROOT_ALLOWED"
"""Absolute folders (``:``-separated) the runner's operator allows code roots in."""
RECORD = "sync.json"
SOURCE = "src"
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class SyncRecord:
    """What the slot's working copy held when codexctl last wrote it (a sync or a delivery)."""

    branch: str
    commit: str
    tree: str
    at: str


@dataclass(frozen=True, slots=True)
class SlotFolder:
    """``<codeRoot>/<key>``: the slot's folder on the node; ``src`` is the agent's working copy."""

    code_root: str
    key: str

    @property
    def folder(self) -> str:
        return posixpath.join(self.code_root, self.key)

    @property
    def source(self) -> str:
        return posixpath.join(self.folder, SOURCE)

    def opened(self, *, create: bool, path: str | None = None) -> _Opened:
        return _Opened(self, path or self.source, create=create)

    def read_record(self) -> SyncRecord | None:
        try:
            with opened_folder(
                self.code_root, self.folder, create=False, allowed_env=CODE_ROOT_ALLOWED_ENV, word="code"
            ) as fd:
                raw = read_bounded(fd, RECORD, limit=64 * 1024)
        except FileNotFoundError:
            return None
        except HostDirError as exc:
            raise CiError(str(exc)) from None
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return SyncRecord(**{key: str(data[key]) for key in ("branch", "commit", "tree", "at")})
        except (ValueError, KeyError, TypeError):
            raise ExternalError(f"{self.folder}/{RECORD} is unreadable: remove it and sync with --force") from None

    def write_record(self, record: SyncRecord) -> None:
        with opened_folder(
            self.code_root, self.folder, create=True, allowed_env=CODE_ROOT_ALLOWED_ENV, word="code"
        ) as fd:
            temporary = f".{RECORD}.new"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=fd)
            out = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=fd)
            try:
                os.write(out, json.dumps(asdict(record), indent=2).encode())
            finally:
                os.close(out)
            os.replace(temporary, RECORD, src_dir_fd=fd, dst_dir_fd=fd)


class _Opened:
    """A context manager: the folder's fd, reached without following a link (created when asked)."""

    def __init__(self, slot: SlotFolder, path: str, *, create: bool) -> None:
        self._manager = opened_folder(
            slot.code_root, path, create=create, allowed_env=CODE_ROOT_ALLOWED_ENV, word="code"
        )

    def __enter__(self) -> int:
        try:
            return self._manager.__enter__()
        except HostDirError as exc:
            raise CiError(
                str(exc), hint=f"the runner's operator allows code roots with ${CODE_ROOT_ALLOWED_ENV}"
            ) from None

    def __exit__(self, *exc: object) -> None:
        self._manager.__exit__(None, None, None)


def slot_key(stack: str, env: str) -> str:
    """``<codeRoot>/<key>``: the slot number for slot stacks, else the environment's name."""
    number = slot_number(stack)
    return str(number) if number is not None else env


@dataclass(frozen=True, slots=True)
class SyncResult:
    target: str
    branch: str
    commit: str
    written: int
    removed: int


def check_checkout(git: Git) -> None:
    """The runner's checkout carries no credential (actions/checkout's persist-credentials)."""
    found = git.run("config", "--local", "--get-regexp", r"^http\..*extraheader$|^url\..*|^credential\..*", check=False)
    if found.out.strip():
        raise CiError(
            f"{git.root}/.git/config holds a credential (an extraheader or credential helper): copying it would "
            "give the agent the runner's token",
            hint="check out with persist-credentials: false",
        )
    if "@" in git.remote_url().split("://", 1)[-1].split("/", 1)[0]:
        raise CiError(f"the origin URL of {git.root} holds a credential", hint="check out without one in the URL")


def undelivered(fd: int, record: SyncRecord | None) -> str | None:
    """Why the working copy holds work not yet delivered; None when it matches the record."""
    if not os.listdir(fd):
        return None
    if record is None:
        return "it holds files no sync recorded"
    if tree_digest(fd) != record.tree:
        return f"it differs from what was last synced or delivered ({record.branch} at {record.commit[:12]})"
    return None


def sync_host_path(*, source: Path, slot: SlotFolder, branch: str, force: bool, token: str | None) -> SyncResult:
    """Put ``source`` on ``branch`` and copy it into the slot's working copy (see the module docs)."""
    git = Git(source, token=token)
    check_checkout(git)
    tip = git.fetch_branch(branch)
    base = tip or git.rev("HEAD")
    if base is None:
        raise CiError(f"{source} has no commit to sync")
    git.run("checkout", "--quiet", "-B", branch, base)
    record = slot.read_record()
    try:
        with slot.opened(create=True) as target:
            why = undelivered(target, record)
            if why is not None and not force:
                raise ExternalError(
                    f"the working copy {slot.source} has work not yet delivered: {why}",
                    hint="run codexctl ci deliver first, or pass --force to replace it",
                )
            source_fd = os.open(source, _DIR)
            try:
                done = mirror(source_fd, target, skip_git=False)
            finally:
                os.close(source_fd)
            digest = tree_digest(target)
    except MirrorError as exc:
        raise CiError(f"syncing {source} into {slot.source}: {exc}") from None
    slot.write_record(SyncRecord(branch=branch, commit=base, tree=digest, at=format_time(now_utc())))
    return SyncResult(
        target=slot.source, branch=branch, commit=base, written=len(done.written), removed=len(done.removed)
    )
