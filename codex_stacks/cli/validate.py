"""``codexctl validate``: services.yaml and every rendered object against the Kubernetes schemas.

The plan itself refuses what the API server would refuse in code (names, labels, Secret data:
:mod:`codex_stacks.plan.kube_rules`); the schemas add types and field names. Every problem of a
pass is reported, each at its line.
"""

from __future__ import annotations

from pathlib import Path

from codex_stacks.cli.output import console, out
from codex_stacks.errors import CodexError, Location, PlanError, raise_all
from codex_stacks.kubeschema import NoSchemaError, check_object, schema_version
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.check import check_everything
from codex_stacks.plan.kube_rules import object_problem


def run_validate(*, request: PlanRequest, kubernetes_version: str) -> None:
    version = schema_version(kubernetes_version)  # an unknown version fails before any work
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
    components = len(plan.components)
    out.print(
        f"ok: services.yaml and {checked} object{'s' if checked != 1 else ''} of stack {request.stack} "
        f"({components} component{'s' if components != 1 else ''}) match Kubernetes {version}"
    )
