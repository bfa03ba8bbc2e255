"""``codexctl validate``: services.yaml and every rendered object against the Kubernetes schemas."""

from __future__ import annotations

from rich.markup import escape

from codex_stacks.cli.output import console, fail, out
from codex_stacks.config.yamlio import line_of
from codex_stacks.errors import raise_all
from codex_stacks.kubeschema import NoSchemaError, SchemaProblem, check_object, schema_version
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.check import check_everything
from codex_stacks.plan.objects import KubeObject


def _document(text: str, first_line: int) -> str:
    """The YAML document that starts on ``first_line`` (1-based), up to the next ``---``."""
    lines = text.splitlines()[first_line - 1 :]
    end = next((index for index, line in enumerate(lines) if line.startswith("---")), len(lines))
    return "\n".join(lines[:end])


def _line_of_problem(obj: KubeObject, problem: SchemaProblem) -> int:
    """The line of the offending field in the manifest file, else the object's first line.

    The template is read again (only on the error path); when Jinja makes it unparsable as
    YAML, or the field is not in it, the object's line is the best there is."""
    if not problem.path:
        return obj.line
    try:
        text = obj.source.read_text(encoding="utf-8")
    except OSError:
        return obj.line
    lines = text.splitlines()
    start = obj.line + 1 if 0 < obj.line <= len(lines) and lines[obj.line - 1].startswith("---") else obj.line
    found = line_of(_document(text, start), list(problem.path))
    return start + found - 1 if found else obj.line


def run_validate(*, request: PlanRequest, kubernetes_version: str) -> None:
    version = schema_version(kubernetes_version)  # an unknown version fails before any work
    raise_all(check_everything(request))  # every environment, every value: not only this stack's
    plan = build_plan(request)
    problems: list[str] = []
    unchecked: set[str] = set()
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
                where = f"{obj.source}:{_line_of_problem(obj, schema_problem)}" if obj.line else component.name
                problems.append(f"{where}: {obj.key}: {schema_problem.message}")
    for kind in sorted(unchecked):
        console.print(f"[dim]note: no schema for {kind} (a custom resource): structure checked only[/dim]")
    if problems:
        for problem in problems[1:]:
            console.print(f"  {problem}", markup=False)
        more = f" (and {len(problems) - 1} more above)" if len(problems) > 1 else ""
        fail(escape(f"{problems[0]}{more}"))
    components = len(plan.components)
    out.print(
        f"ok: services.yaml and {checked} object{'s' if checked != 1 else ''} of stack {request.stack} "
        f"({components} component{'s' if components != 1 else ''}) match Kubernetes {version}"
    )
