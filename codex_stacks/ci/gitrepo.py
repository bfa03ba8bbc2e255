"""git on the runner's own working copy, for ``ci sync-sources`` and ``ci deliver``.

git only ever runs in a repository the runner made (the workflow's checkout), never in the
agent's ``.git``: a repository's config and hooks run commands (``core.fsmonitor``,
``core.hooksPath``, filters), so the agent's could run code on the runner next to its deploy
credentials. Hooks are switched off for every call anyway. The token for the remote travels in
the environment only, read by a one-line credential helper: never in an argument, a URL or
``.git/config``; it is replaced by ``[secret]`` in every error. Every call is bounded in time.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_stacks.ci.errors import CiError, ExternalError

TOKEN_ENV = "CODEX_GIT_TOKEN"
"""Where the credential helper reads the token from (set only in git's own environment)."""
_HELPER = '!f() { test "$1" = get && echo username=x-access-token && echo "password=$' + TOKEN_ENV + '"; }; f'
_SAFE = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "protocol.file.allow=always",
    "-c",
    "advice.detachedHead=false",
)
SHORT = 60.0
NETWORK = 600.0


@dataclass(frozen=True, slots=True)
class GitResult:
    code: int
    out: str
    err: str


class Git:
    """One working copy; ``token`` is sent to https remotes only, through the credential helper."""

    def __init__(self, root: Path, *, token: str | None = None) -> None:
        self.root = root
        self._token = token or None

    def _env(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "LOGNAME")
        env = {key: os.environ[key] for key in keep if key in os.environ}
        env.update(
            {
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_AUTHOR_NAME": os.environ.get("CODEX_GIT_AUTHOR_NAME", "codex"),
                "GIT_AUTHOR_EMAIL": os.environ.get("CODEX_GIT_AUTHOR_EMAIL", "codex@users.noreply.github.com"),
            }
        )
        env["GIT_COMMITTER_NAME"] = env["GIT_AUTHOR_NAME"]
        env["GIT_COMMITTER_EMAIL"] = env["GIT_AUTHOR_EMAIL"]
        if self._token:
            env[TOKEN_ENV] = self._token
        return env

    def _clean(self, text: str) -> str:
        return text.replace(self._token, "[secret]") if self._token else text

    def run(
        self, *args: str, timeout: float = SHORT, check: bool = True, stdin: str | None = None, network: bool = False
    ) -> GitResult:
        helper: tuple[str, ...] = ("-c", "credential.helper=", "-c", f"credential.helper={_HELPER}") if network else ()
        argv = ["git", *_SAFE, *helper, "-C", str(self.root), *args]
        try:
            done = subprocess.run(
                argv,
                input=stdin,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                env=self._env(),
                check=False,
            )
        except FileNotFoundError:
            raise CiError("git is not installed on the runner", hint="install git (apt-get install git)") from None
        except subprocess.TimeoutExpired:
            raise ExternalError(f"git {args[0]} did not finish within {timeout:.0f}s in {self.root}") from None
        result = GitResult(code=done.returncode, out=done.stdout, err=self._clean(done.stderr))
        if check and result.code != 0:
            raise ExternalError(f"git {args[0]} failed in {self.root}: {last_line(result.err)}")
        return result

    def rev(self, ref: str) -> str | None:
        found = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return found.out.strip() or None if found.code == 0 else None

    def remote_url(self) -> str:
        return self.run("remote", "get-url", "origin").out.strip()

    def default_branch(self) -> str:
        """The remote's default branch, as its HEAD names it (``git ls-remote --symref``)."""
        found = self.run("ls-remote", "--symref", "origin", "HEAD", timeout=NETWORK, network=True)
        for line in found.out.splitlines():
            if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                return line[len("ref: refs/heads/") : -len("\tHEAD")]
        raise ExternalError(f"the remote of {self.root} names no default branch (git ls-remote --symref origin HEAD)")

    def fetch_branch(self, branch: str) -> str | None:
        """Fetch ``origin/<branch>``; its commit, or None when the remote has no such branch."""
        listed = self.run("ls-remote", "--heads", "origin", f"refs/heads/{branch}", timeout=NETWORK, network=True)
        if not listed.out.strip():
            return None
        self.run(
            "fetch",
            "--quiet",
            "--no-tags",
            "origin",
            f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
            timeout=NETWORK,
            network=True,
        )
        return self.rev(f"refs/remotes/origin/{branch}")

    def paths(self, *args: str) -> list[str]:
        """NUL-separated paths a command prints (``-z``)."""
        return [item for item in self.run(*args).out.split("\0") if item]


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "no message")[:300]


def is_repository(folder: Path) -> bool:
    return (folder / ".git").exists()


def toplevel(folder: Path) -> Path:
    """The working copy holding ``folder`` (the workflow's checkout of the project)."""
    found = Git(folder).run("rev-parse", "--show-toplevel", check=False)
    if found.code != 0:
        raise CiError(
            f"{folder} is not inside a git working copy",
            hint="pass --source DIR: the workflow's checkout of the repository",
        )
    return Path(found.out.strip())


def commits_between(git: Git, base: str, tip: str) -> Sequence[str]:
    return git.run("rev-list", f"{base}..{tip}").out.split()
