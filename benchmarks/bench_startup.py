"""Benchmark 4: ``codexctl --help`` start-up, against ``python -c pass``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import Result, seconds, time_child

TARGET_SECONDS = 0.3
HEAVY_PACKAGES = ("pulumi", "pulumi_kubernetes", "grpc", "google", "pydantic", "jinja2", "yaml", "kubernetes_validate")
"""Packages ``--help`` has no use for; any of them at start-up is a lazy import gone eager."""


def _bin(name: str) -> Path:
    return Path(sys.executable).parent / name


def _run(command: Sequence[str], **extra_env: str) -> float:
    return time_child(
        lambda: subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_environment(**extra_env)
        )
    )


def _environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["COLUMNS"] = "100"  # the same help layout whatever the terminal
    env.update(extra)
    return env


@dataclass(frozen=True)
class ImportCost:
    package: str
    seconds: float


def import_costs(command: Sequence[str]) -> list[ImportCost]:
    """Own import time summed per top-level package, of every module ``command`` imports
    (``python -X importtime``): the part of start-up each package is responsible for."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )
    costs: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        if not own.strip().isdigit():
            continue  # the header line
        package = name.strip().split(".")[0]
        costs[package] = costs.get(package, 0.0) + int(own) / 1e6
    return sorted((ImportCost(p, s) for p, s in costs.items()), key=lambda c: c.seconds, reverse=True)


def bench_startup(*, repeats: int) -> Result:
    """Best of ``repeats`` runs of the console script, after one warm-up run of each."""
    help_command = [str(_bin("codexctl")), "--help"]
    pass_command = [sys.executable, "-c", "pass"]
    _run(help_command)
    _run(pass_command)
    measured = min(_run(help_command) for _ in range(repeats))
    baseline = min(_run(pass_command) for _ in range(repeats))
    result = Result(
        name="codexctl --help start-up",
        measured=measured,
        baseline=baseline,
        target=TARGET_SECONDS,
        absolute_target=True,
    )
    costs = import_costs([str(_bin("codexctl")), "--help"])
    loaded = {cost.package for cost in costs}
    heavy = [name for name in HEAVY_PACKAGES if name in loaded]
    result.notes.append(
        f"best of {repeats}; heavy packages imported by --help: {', '.join(heavy) if heavy else 'none'}"
    )
    if not result.passed:
        plain = min(_run(help_command, TYPER_USE_RICH="0") for _ in range(repeats))
        result.notes.append(
            f"with TYPER_USE_RICH=0 (click's plain help instead of typer.rich_utils, which imports "
            f"rich.markdown, markdown_it and pygments): {seconds(plain)}"
        )
        top = ", ".join(f"{cost.package} {seconds(cost.seconds)}" for cost in costs[:8])
        result.notes.append(f"import time by package (-X importtime, own time summed): {top}")
    return result
