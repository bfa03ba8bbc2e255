"""A project's repository as the agent-loop tests need it: the seed folder committed as ``main``,
pushed to a bare remote (the "GitHub" side), and a clone of it (the runner's checkout)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def publish(seed: Path, where: Path) -> tuple[Path, Path]:
    """Commit ``seed`` as ``main``, push it to ``where/remote.git`` and clone that to
    ``where/checkout``; returns the remote and the checkout."""
    remote = where / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(seed)], check=True)
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=dev", "-c", "user.email=dev@example.org", "commit", "--quiet", "-m", "base")
    git(seed, "push", "--quiet", str(remote), "main")
    checkout = where / "checkout"
    subprocess.run(["git", "clone", "--quiet", str(remote), str(checkout)], check=True)
    return remote, checkout
