"""The ``--target`` list of a repair run: exactly what the program registers in repair mode."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from codex_stacks.offline.runner import run_program


def repair_targets(
    stack: str, *, project_dir: Path | None = None, extra_config: Mapping[str, str] | None = None
) -> list[str]:
    """URNs of every resource of the repair set (components, objects, hooks, the provider).

    Derived by running the same program offline in repair mode, so the list cannot drift from
    what ``pulumi up -c codex:mode=repair`` registers. A repair run must pass these as
    ``--target``: without them Pulumi would delete everything outside the repair set.
    ``extra_config`` is the stack's ``codex:*`` config; ``project_dir``, when given, wins over it.
    """
    config = {**(extra_config or {}), "codex:mode": "repair"}
    if project_dir is not None:
        config["codex:projectDir"] = str(project_dir)
    run = run_program(stack, config)
    return sorted(registration.urn for registration in run.registrations)
