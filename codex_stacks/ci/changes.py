"""Whether a pull request changes what runs with deploy secrets, so its deploy needs a person.

``ci up`` renders the change's ``services.yaml`` and manifests, runs its ``run:`` hooks, builds
its Dockerfiles and loads its stack files on a runner that holds the Pulumi passphrase, the
agent's credentials and a kubeconfig. A change to any of those deploys only after a reviewer of
the repository's deploy environment approves it; any other change (application code, docs)
deploys at once (docs/security-workflows.md, "Workflows and hooks"). The list is read from git, never by
running the change.
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_stacks.ci.errors import CiError

SYMLINK_MODE = "120000"
SUBMODULE_MODE = "160000"
MAX_FILES = 20_000
"""More changed files than this: not worth listing, the change needs a person anyway."""
GIT_TIMEOUT = 120.0
_REV = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")

DEPLOY_FOLDERS = ("deploy", "stacks", "prompts", "hooks")
"""Folders of the project (relative to its services.yaml) that only hold deploy input."""
DEPLOY_SUFFIXES = (".yaml", ".yml", ".json", ".j2", ".jinja", ".jinja2", ".toml")
"""Anywhere in the repository: services.yaml, manifests (which services.yaml may name from any
folder), templates, stack files, tool config."""
PROGRAM_NAMES = re.compile(
    r"^(__main__\.py|Pulumi(\..*)?\.ya?ml|requirements.*\.txt|setup\.py|setup\.cfg|pyproject\.toml)$"
)
IMAGE_NAMES = re.compile(r"^(Dockerfile.*|Containerfile.*|.*\.dockerfile|\.dockerignore)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ChangedPath:
    """One path of the diff, with its file mode before and after (``000000`` when absent)."""

    path: str
    old_mode: str = "100644"
    new_mode: str = "100644"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision, and the paths (with why) that made it."""

    needs_approval: bool
    reasons: tuple[str, ...]


def reason_for(change: ChangedPath, *, project_dir: str = ".") -> str | None:
    """Why this path can reach deploy secrets, or None when it cannot."""
    path = posixpath.normpath(change.path)
    name = posixpath.basename(path)
    if SYMLINK_MODE in (change.old_mode, change.new_mode):
        return "a symbolic link (data roots and manifests may follow it)"
    if SUBMODULE_MODE in (change.old_mode, change.new_mode):
        return "a submodule (it replaces a whole folder)"
    if path == ".github" or path.startswith(".github/"):
        return "workflows and actions"
    project = posixpath.normpath(project_dir)
    inside = path if project == "." else (path[len(project) + 1 :] if path.startswith(project + "/") else None)
    if inside is not None and inside.split("/", 1)[0] in DEPLOY_FOLDERS and "/" in inside:
        return f"the project's {inside.split('/', 1)[0]}/ folder"
    if PROGRAM_NAMES.match(name):
        return "the Pulumi program or its dependencies"
    if name.lower().endswith(DEPLOY_SUFFIXES):
        return "services.yaml, manifests, templates or stack files"
    if IMAGE_NAMES.match(name):
        return "an image build (Dockerfile)"
    return None


def classify(changes: Sequence[ChangedPath], *, project_dir: str = ".") -> Verdict:
    """Approval is needed when any path can reach deploy secrets."""
    reasons = []
    for change in changes:
        reason = reason_for(change, project_dir=project_dir)
        if reason is not None:
            reasons.append(f"{change.path}: {reason}")
    return Verdict(needs_approval=bool(reasons), reasons=tuple(reasons))


def changed_paths(repo: Path, *, base: str, head: str) -> list[ChangedPath]:
    """The paths that differ between ``base`` and ``head`` as a pull request shows them (from the
    merge base), renames as a deletion and an addition, with their modes; both commits must be in ``repo``."""
    for name, rev in (("--base", base), ("--head", head)):
        if not _REV.match(rev):
            raise CiError(f"{name} {rev!r} is not a full commit id")
    command = ["git", "-C", str(repo), "diff", "--raw", "-z", "--no-renames", "--no-ext-diff", f"{base}...{head}"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CiError(f"git diff in {repo} failed: {error}") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        said = lines[-1] if lines else f"exit {done.returncode}"
        raise CiError(f"git diff {base[:12]}...{head[:12]} in {repo} failed: {said}")
    return parse_raw_diff(done.stdout)


def parse_raw_diff(output: bytes) -> list[ChangedPath]:
    """``git diff --raw -z --no-renames``: ``:<old mode> <new mode> <old> <new> <status>`` NUL path NUL …"""
    fields = output.decode("utf-8", "surrogateescape").split("\0")
    changes: list[ChangedPath] = []
    index = 0
    while index + 1 < len(fields) and fields[index].startswith(":"):
        meta = fields[index][1:].split()
        if len(meta) < 5:
            raise CiError("git diff printed a line it should not have")
        changes.append(ChangedPath(path=fields[index + 1], old_mode=meta[0], new_mode=meta[1]))
        if len(changes) > MAX_FILES:
            raise CiError(f"the change has more than {MAX_FILES} files")
        index += 2
    return changes
