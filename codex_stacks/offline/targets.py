"""``--target`` lists for ``pulumi up``: exactly what the program registers, or part of it by name.

Derived by running the same program offline, so a list cannot drift from what ``pulumi up``
registers. ``codexctl targets`` prints them; a repair run's list (``codexctl repair-targets``,
the ``repairTargets`` output) is the one in repair mode. Part of a stack by name
(``--only-services`` …, codex_stacks/plan/filters.py) is its components, everything under them
and the Kubernetes provider they use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from codex_stacks.config.loader import load_document
from codex_stacks.offline.runner import ProgramRun, Registration, run_program
from codex_stacks.plan.filters import NameFilters
from codex_stacks.stackconfig import plan_request

COMPONENT_PREFIX = "codex:stack:"
AGENT_SERVICE = "codex"


def _component_selected(registration: Registration, filters: NameFilters) -> bool:
    kind = registration.type.removeprefix(COMPONENT_PREFIX)
    if kind == "InfrastructureGroup":
        return filters.includes("infrastructure", registration.name)
    if kind == "ServiceComponent":
        return filters.includes("services", registration.name)
    if kind == "CodexAgent":
        return filters.includes("services", AGENT_SERVICE)
    return False


def select(run: ProgramRun, filters: NameFilters | None) -> ProgramRun:
    """The part of a run that ``filters`` keeps: the selected components and all under them, the
    provider, and a namespace registered on its own (every component waits for it)."""
    if filters is None:
        return run
    by_parent: dict[str, list[Registration]] = {}
    for registration in run.registrations:
        by_parent.setdefault(registration.parent, []).append(registration)
    kept: list[Registration] = []
    for registration in run.registrations:
        if registration.type.startswith(COMPONENT_PREFIX):
            if _component_selected(registration, filters):
                stack = [registration]
                while stack:
                    current = stack.pop()
                    kept.append(current)
                    stack.extend(by_parent.get(current.urn, []))
        elif registration.parent.split("::")[2:3] == ["pulumi:pulumi:Stack"] and (
            registration.type.startswith("pulumi:providers:") or registration.type == "kubernetes:core/v1:Namespace"
        ):
            kept.append(registration)
    order = {id(registration): index for index, registration in enumerate(run.registrations)}
    kept.sort(key=lambda registration: order[id(registration)])
    return dataclasses.replace(run, registrations=kept)


def check_filters(
    stack: str, config: Mapping[str, str], filters: NameFilters | None, *, program_dir: Path | None = None
) -> None:
    """Every name the filters give is an item of services.yaml (a typo would select nothing)."""
    if filters is None:
        return
    document = load_document(plan_request(stack, config, program_dir=program_dir).services_path)
    filters.check([ref.name for ref in document.infrastructure], [ref.name for ref in document.services])


def targets(
    stack: str,
    *,
    extra_config: Mapping[str, str] | None = None,
    filters: NameFilters | None = None,
    mode: str = "normal",
    program_dir: Path | None = None,
) -> list[str]:
    """URNs for ``pulumi up --target``: everything the program of ``program_dir`` registers in
    ``mode``, or the part ``filters`` keeps. ``extra_config`` is the stack's ``codex:*`` config."""
    config = {**(extra_config or {}), "codex:mode": mode}
    check_filters(stack, config, filters, program_dir=program_dir)
    run = select(run_program(stack, config, program_dir=program_dir), filters)
    return sorted(registration.urn for registration in run.registrations)


def repair_targets(
    stack: str,
    *,
    project_dir: Path | None = None,
    extra_config: Mapping[str, str] | None = None,
    program_dir: Path | None = None,
) -> list[str]:
    """URNs of every resource of the repair set (components, objects, hooks, the provider).

    A repair run must pass these as ``--target``: without them Pulumi would delete everything
    outside the repair set. ``project_dir``, when given, wins over ``extra_config``.
    """
    config = dict(extra_config or {})
    if project_dir is not None:
        config["codex:projectDir"] = str(project_dir)
    return targets(stack, extra_config=config, mode="repair", program_dir=program_dir)
