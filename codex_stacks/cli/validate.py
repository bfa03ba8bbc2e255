"""``codexctl validate``: services.yaml and every rendered object against the Kubernetes schemas.

The plan itself refuses what the API server would refuse in code (names, labels, Secret data:
:mod:`codex_stacks.plan.kube_rules`); the schemas add types and field names. Every problem of a
pass is reported, each at its line. ``--output json`` prints the outcome as one document, the
problems too (docs/architecture.md, "Scripting").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_stacks.cli.output import console, out, print_json
from codex_stacks.errors import CodexError, CombinedError, Location, PlanError, raise_all
from codex_stacks.kubeschema import NoSchemaError, check_object, schema_version
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.check import check_everything
from codex_stacks.plan.kube_rules import object_problem


def problem_entry(problem: CodexError) -> dict[str, Any]:
    """One problem as JSON: the message and where it is (never a value the message left out)."""
    where = problem.location
    return {
        "message": problem.message,
        "file": str(where.file) if where.file is not None else None,
        "line": where.line,
        "path": where.path,
        "hint": problem.hint,
    }


def run_validate(*, request: PlanRequest, kubernetes_version: str, as_json: bool = False) -> None:
    """Validate ``request``'s stack; with ``as_json`` the outcome (or the problems) goes to stdout
    as one document, and the problems still end the run with exit 2."""
    version = schema_version(kubernetes_version)  # an unknown version fails before any work
    try:
        checked, components, unchecked = _validate(request, version)
    except CodexError as error:
        if as_json:
            problems = error.problems if isinstance(error, CombinedError) else (error,)
            print_json(
                {
                    "ok": False,
                    "stack": request.stack,
                    "kubernetes_version": version,
                    "problems": [problem_entry(problem) for problem in problems],
                }
            )
        raise
    if as_json:
        print_json(
            {
                "ok": True,
                "stack": request.stack,
                "kubernetes_version": version,
                "objects": checked,
                "components": components,
                "unchecked_kinds": sorted(unchecked),
                "problems": [],
            }
        )
        return
    out.print(
        f"ok: services.yaml and {checked} object{'s' if checked != 1 else ''} of stack {request.stack} "
        f"({components} component{'s' if components != 1 else ''}) match Kubernetes {version}"
    )


def _validate(request: PlanRequest, version: str) -> tuple[int, int, set[str]]:
    raise_all(check_everything(request))  # every environment, every value: not only this stack's
    plan = build_plan(request)
    problems: list[CodexError] = []
    unchecked: set[str] = set()
    texts: dict[Path, str | None] = {}
    checked = 0
    for component in plan.components:
        for obj in component.objects:
            try:
                found = check_object(obj.manifest, version=version)
            except NoSchemaError:
                unchecked.add(f"{obj.api_version} {obj.kind}")
                continue
            checked += 1
            for schema_problem in found:
                if obj.line > 0:
                    problems.append(
                        object_problem(
                            obj,
                            schema_problem.path,
                            schema_problem.message,
                            texts=texts,
                            line_path=schema_problem.line_path,
                        )
                    )
                else:  # built by codexctl itself (the agent's objects): no file to point at
                    where = Location(path=component.name)
                    field = ".".join(str(part) for part in schema_problem.path) or "(top level)"
                    problems.append(PlanError(f"{obj.key}: {field}: {schema_problem.message}", location=where))
    for kind in sorted(unchecked):
        console.print(f"[dim]note: no schema for {kind} (a custom resource): structure checked only[/dim]")
    raise_all(problems)
    return checked, len(plan.components), unchecked
