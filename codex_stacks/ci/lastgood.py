"""The project as it was at this stack's last successful normal up, for when services.yaml is broken.

``ci up`` tags a stack with the commit of its project folder after every successful normal up
(``codex:last-good-commit``). When services.yaml itself no longer loads, nothing can be planned
from it — not even the agent that should fix it — so ``ci up --fallback-repair`` (or ``--mode
repair``) plans the repair set from that commit's project folder instead, else from the default
branch's, and the infra report tells the agent that services.yaml is broken (docs/repair.md).

The old tree comes out of git itself (``git archive``), fetched shallowly when the checkout lacks
it, and is written with the tar ``data`` filter: no links out, no devices, no absolute paths;
the whole archive is bounded in size like any project read (codex_stacks/config/limits.py).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from codex_stacks.ci.errors import CiError
from codex_stacks.config import limits

LAST_GOOD_TAG = "codex:last-good-commit"
DEFAULT_BRANCH_ENV = "CODEX_DEFAULT_BRANCH"
"""The default branch to fall back to; else the remote's HEAD (what ``origin`` calls default)."""
GIT_TIMEOUT = 120.0
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class OldProject:
    commit: str
    project_dir: Path
    source: str
    """Where the commit came from: ``last good up`` or ``default branch <name>``."""


def _git(repo: Path, *args: str, limit: int = 1 << 20) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, timeout=GIT_TIMEOUT, env=env, check=False
        )
    except FileNotFoundError:
        raise CiError("git is not installed: it is needed to read the last good services.yaml") from None
    except subprocess.TimeoutExpired:
        raise CiError(f"git {args[0]} took more than {GIT_TIMEOUT:.0f}s") from None
    if len(done.stdout) > limit:
        raise CiError(f"git {args[0]} printed more than {limit:,} bytes")
    return done


def _first_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:300] if lines else ""


def is_commit(text: str) -> bool:
    return 7 <= len(text) <= 64 and set(text) <= _HEX


def current_commit(project_dir: Path) -> str | None:
    """The commit the project folder is checked out at, or None outside git."""
    done = _git(project_dir, "rev-parse", "--verify", "-q", "HEAD")
    text = done.stdout.decode("ascii", "replace").strip()
    return text if done.returncode == 0 and is_commit(text) else None


def _has_commit(repo: Path, commit: str) -> bool:
    return _git(repo, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


def _fetch(repo: Path, ref: str) -> str | None:
    """Fetch one commit or branch shallowly (a workflow's checkout has depth 1); its commit id."""
    done = _git(repo, "fetch", "--no-tags", "--depth=1", "origin", ref)
    if done.returncode != 0:
        return None
    head = _git(repo, "rev-parse", "--verify", "-q", "FETCH_HEAD")
    text = head.stdout.decode("ascii", "replace").strip()
    return text if head.returncode == 0 and is_commit(text) else None


def _default_branch(repo: Path) -> tuple[str | None, str]:
    """The default branch's commit and its name, fetched when missing."""
    name = os.environ.get(DEFAULT_BRANCH_ENV, "").strip()
    if not name:
        symbolic = _git(repo, "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD")
        name = symbolic.stdout.decode("utf-8", "replace").strip().removeprefix("origin/")
    if name:
        local = _git(repo, "rev-parse", "--verify", "-q", f"refs/remotes/origin/{name}")
        text = local.stdout.decode("ascii", "replace").strip()
        if local.returncode == 0 and is_commit(text):
            return text, name
    return _fetch(repo, name or "HEAD"), name or "the remote's HEAD"


def _extract(repo: Path, commit: str, prefix: str, dest: Path) -> None:
    budget = limits.current().project_bytes
    archive = _git(repo, "archive", "--format=tar", commit, "--", prefix or ".", limit=budget)
    if archive.returncode != 0:
        raise CiError(f"git archive {commit[:12]}: {_first_line(archive.stderr)}")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout), mode="r:") as tar:
        tar.extractall(dest, filter="data")


def old_project(project_dir: Path, *, last_good: str | None, dest: Path) -> OldProject | None:
    """The project folder at ``last_good`` (else the default branch) written under ``dest``;
    None when neither can be had (not a git checkout, no remote, nothing recorded)."""
    top = _git(project_dir, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        return None
    repo = Path(top.stdout.decode("utf-8", "replace").strip())
    prefix = _git(project_dir, "rev-parse", "--show-prefix").stdout.decode("utf-8", "replace").strip()
    commit: str | None = None
    source = ""
    if last_good and is_commit(last_good) and (_has_commit(repo, last_good) or _fetch(repo, last_good) == last_good):
        commit, source = last_good, "last good up"
    if commit is None:
        commit, branch = _default_branch(repo)
        source = f"default branch {branch}"
    if commit is None:
        return None
    _extract(repo, commit, prefix.rstrip("/"), dest)
    return OldProject(commit=commit, project_dir=dest / prefix.rstrip("/"), source=source)
