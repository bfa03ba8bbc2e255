"""``codexctl validate``: services.yaml and every rendered object against the Kubernetes schemas."""

from __future__ import annotations

from pathlib import Path

from codexctl.cli.output import console, fail, out
from codexctl.kubeschema import NoSchemaError, check_object
from codexctl.plan import PlanRequest, build_plan


def run_validate(*, stack: str, mode: str, project_dir: Path, kubernetes_version: str) -> None:
    plan = build_plan(PlanRequest(stack=stack, project_dir=project_dir, mode=mode))
    problems: list[str] = []
    unchecked: set[str] = set()
    checked = 0
    for component in plan.components:
        for obj in component.objects:
            try:
                found = check_object(obj.manifest, version=kubernetes_version)
            except NoSchemaError:
                unchecked.add(f"{obj.api_version} {obj.kind}")
                continue
            checked += 1
            where = f"{obj.source}:{obj.line}" if obj.line else component.name
            problems.extend(f"{where}: {obj.key}: {problem.message}" for problem in found)
    for kind in sorted(unchecked):
        console.print(f"[dim]note: no schema for {kind} (a custom resource): structure checked only[/dim]")
    if problems:
        for problem in problems[1:]:
            console.print(f"  {problem}", markup=False)
        more = f" (and {len(problems) - 1} more above)" if len(problems) > 1 else ""
        fail(f"{problems[0]}{more}")
    out.print(
        f"ok: services.yaml and {checked} objects of stack {stack} "
        f"({len(plan.components)} components) match Kubernetes {kubernetes_version}"
    )
