"""Stale locks of self-managed backends: a lock whose process is gone blocks its stack forever.

The CLI's "locked" error names every lock (pulumi's pkg/backend/diy/lock.go checkForLock):

    the stack is currently locked by 1 lock(s). Either wait for … `pulumi cancel`.
      file:///state/.pulumi/locks/organization/p/s/<id>.json?no_tmp_dir=true: created by u@host (pid 42) at <RFC3339>

A lock is stale when it was written on this host by a process that no longer runs, or on another
host longer ago than any update of ours may take (the deadline plus the cancel grace). Stale
locks are cleared with a log line: a ``file://`` lock file is deleted by its path; elsewhere
``pulumi cancel`` deletes the stack's lock files, and codexctl runs it only when every lock it
was told about is stale and no CLI process of its own is running.
"""

from __future__ import annotations

import errno
import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

_LOCK_LINE = re.compile(
    r"^\s*(?P<url>\S+): created by (?P<user>.*)@(?P<host>[^@\s]+) \(pid (?P<pid>-?\d+)\) at (?P<time>\S+)\s*$"
)


@dataclass(frozen=True, slots=True)
class Lock:
    url: str
    user: str
    host: str
    pid: int
    created: datetime | None

    def describe(self) -> str:
        when = self.created.strftime("%Y-%m-%d %H:%M:%S UTC") if self.created else "an unknown time"
        return f"{self.user}@{self.host} (pid {self.pid}) since {when}"


def parse_locks(text: str) -> list[Lock]:
    """Every lock a "currently locked" error names."""
    found = []
    for line in text.splitlines():
        match = _LOCK_LINE.match(line)
        if match is None:
            continue
        try:
            created: datetime | None = datetime.fromisoformat(match["time"].replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            created = None
        found.append(Lock(match["url"], match["user"], match["host"], int(match["pid"]), created))
    return found


def pid_alive(pid: int) -> bool:
    """kill(pid, 0): EPERM means it runs under another user (alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def stale_reason(lock: Lock, *, now: datetime, max_age: float | None, hostname: str | None = None) -> str | None:
    """Why ``lock`` is stale, or None when it may belong to a running update."""
    here = hostname or socket.gethostname()
    if lock.host == here:
        return None if pid_alive(lock.pid) else f"pid {lock.pid} no longer runs on this host"
    if max_age is None or lock.created is None:
        return None
    age = (now - lock.created).total_seconds()
    if age > max_age:
        return f"written on {lock.host} {age:.0f}s ago, longer than any update may take ({max_age:.0f}s)"
    return None


def file_path(lock: Lock) -> Path | None:
    """The lock file of a ``file://`` backend, or None for any other store."""
    parts = urlsplit(lock.url)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))
