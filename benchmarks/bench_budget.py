"""The cost of the template budget: the same templates in Jinja's plain sandbox and in
``BudgetedEnvironment`` (codex_stacks/config/budget.py), measured in the same run.

``.venv/bin/python -m benchmarks.bench_budget [--quick]`` prints the table; ``bench_budget`` returns
the rows for the suite. Templates are compiled afresh in each measured run, as each ``codexctl``
process does, except in the "render only" rows.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from benchmarks.harness import Result, interleave, table, use_clock
from benchmarks.synthetic import STACK, services_for, write_project
from codex_stacks.config.budget import budgeted_environment
from codex_stacks.plan import PlanRequest, build_plan

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = (REPO_ROOT / "examples" / "project-example", REPO_ROOT / "examples" / "alimentor")
COLD_TARGET = 1.10
"""Compiling and rendering, as each ``codexctl`` process does: the plan benchmark may grow by 10%
at most, and templates are only part of a plan."""
WARM_TARGET = 2.0
"""Rendering an already compiled template: every operator, filter and call is measured, so the
template's own work costs more; it is a small part of a cold render."""
LOOP_TARGET = 3.5
"""A template that is nothing but loops, macro calls and filters: the worst case, for the record."""
_SLUG_RE = re.compile(r"[^a-z0-9]+")

# A template heavier than any manifest: loops, a macro, filters, tests, ``~`` and comparisons.
SYNTHETIC = """\
{%- macro container(name, port) -%}
- name: {{ name | lower }}
  image: "{{ registry ~ '/' ~ name ~ ':' ~ version }}"
  ports: [{{ port }}]
  env: {{ {'NAME': name, 'PORT': port | string} | tojson }}
{%- endmacro %}
{% for service in services %}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ service.name | replace('_', '-') }}
  labels: {{ {'app': service.name, 'tier': 'backend' if service.port > 8000 else 'front'} | tojson }}
spec:
  replicas: {{ 2 if service.name in critical else 1 }}
  template:
    spec:
      containers:
{%- for index in range(3) %}
{{ container(service.name ~ '-' ~ index, service.port + index) | indent(8, first=true) }}
{%- endfor %}
{%- if service.tags is defined and service.tags | length > 0 %}
      tags: "{{ service.tags | join(',') }}"
{%- endif %}
{%- endfor %}
"""


def _helpers(env: jinja2.Environment) -> jinja2.Environment:
    """The two helpers the project's templates call (``slug``, ``env_or``), as templating.py has them."""
    env.filters["slug"] = lambda value: _SLUG_RE.sub("-", str(value).lower()).strip("-")
    env.globals["env_or"] = lambda name, default="": os.environ.get(name) or str(default)
    return env


def environments() -> dict[str, Callable[[], jinja2.Environment]]:
    options: dict[str, Any] = {"undefined": jinja2.StrictUndefined, "keep_trailing_newline": True}
    return {
        "plain": lambda: _helpers(SandboxedEnvironment(**options)),
        "budget": lambda: _helpers(budgeted_environment(**options)),
    }


def _templated(value: Any) -> list[str]:
    """Every string value of a loaded YAML document that holds a template."""
    if isinstance(value, str):
        return [value] if "{{" in value else []
    if isinstance(value, dict):
        return [text for item in value.values() for text in _templated(item)]
    if isinstance(value, list):
        return [text for item in value for text in _templated(item)]
    return []


def example_files() -> list[tuple[list[tuple[Path, str]], dict[str, Any]]]:
    """Per example: every manifest its ai-slot-3 plan rendered and every templated value of its
    services.yaml, with the plan's context (``env_or`` from ``_helpers``)."""
    out = []
    for project in EXAMPLES:
        request = PlanRequest(stack=STACK, project_dir=project, mode="normal")
        plan = build_plan(request)
        context = {name: plan.context[name] for name in plan.context if name != "env_or"}
        sources = dict.fromkeys(obj.source for obj in plan.objects if obj.source.is_relative_to(project))
        files = [(path, path.read_text(encoding="utf-8")) for path in sources]
        document = yaml.safe_load(request.services_path.read_text(encoding="utf-8"))
        files.extend((request.services_path, text) for text in _templated(document))
        out.append((files, context))
    return out


def _compile_and_render(env: jinja2.Environment, files: Sequence[tuple[Path, str]], context: Mapping[str, Any]) -> int:
    return sum(len(env.from_string(text).render(context)) for _path, text in files)  # no cache: compiled afresh


def _render(templates: Sequence[jinja2.Template], context: Mapping[str, Any]) -> int:
    return sum(len(template.render(context)) for template in templates)


def _compiling(
    built: Mapping[str, jinja2.Environment], files: Sequence[tuple[Path, str]], context: Mapping[str, Any]
) -> dict[str, Callable[[], object]]:
    return {key: partial(_compile_and_render, env, files, context) for key, env in built.items()}


def _rendering(
    built: Mapping[str, jinja2.Environment], texts: Sequence[str], context: Mapping[str, Any]
) -> dict[str, Callable[[], object]]:
    return {key: partial(_render, [env.from_string(text) for text in texts], context) for key, env in built.items()}


def _rows(quick: bool) -> list[Result]:
    repeats = 5 if quick else 30
    envs = environments()
    results: list[Result] = []

    def compare(name: str, cases: dict[str, Callable[[], object]], note: str, target: float = COLD_TARGET) -> None:
        timings = interleave(cases, repeats=repeats, warmups=2)
        results.append(
            Result(name, timings["budget"].best, timings["plain"].best, target, notes=[f"{note}; best of {repeats}"])
        )

    for (files, context), project in zip(example_files(), EXAMPLES, strict=True):
        built = {key: make() for key, make in envs.items()}
        values = sum(1 for path, _ in files if path.name == "services.yaml")
        note = f"{len(files) - values} manifests of its ai-slot-3 plan and {values} templated services.yaml values"
        compare(f"{project.name}: compile + render", _compiling(built, files, context), note)
        texts = [text for _path, text in files]
        compare(
            f"{project.name}: render only", _rendering(built, texts, context), "the same, compiled once", WARM_TARGET
        )

    with tempfile.TemporaryDirectory(prefix="codex-bench-") as folder:
        synthetic = write_project(Path(folder) / "project", services=services_for(1000))
        request = PlanRequest(stack=STACK, project_dir=synthetic.root, mode="normal")
        plan = build_plan(request)
        context = {name: plan.context[name] for name in plan.context if name != "env_or"}
        sources = dict.fromkeys(obj.source for obj in plan.objects)
        files = [(path, path.read_text(encoding="utf-8")) for path in sources]
        built = {key: make() for key, make in envs.items()}
        compare(
            "synthetic project, 1000 objects: compile + render",
            _compiling(built, files, context),
            f"{len(files)} manifests from benchmarks/synthetic.py",
        )

    services = [{"name": f"svc_{i}", "port": 7990 + i, "tags": ["a", "b"]} for i in range(300)]
    context = {"services": services, "registry": "r.local", "version": "1.0", "critical": ["svc_1", "svc_7"]}
    built = {key: make() for key, make in envs.items()}
    lines = len(built["plain"].from_string(SYNTHETIC).render(context).splitlines())
    compare(
        "synthetic template, loops and macros: render only",
        _rendering(built, [SYNTHETIC], context),
        f"300 services x 3 containers: {lines} lines through a macro, filters and tests",
        LOOP_TARGET,
    )
    return results


def bench_budget(*, quick: bool = False) -> list[Result]:
    return _rows(quick)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_budget", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args(argv)
    use_clock(args.clock)
    results = bench_budget(quick=args.quick)
    print(table(results))
    for result in results:
        for note in result.notes:
            print(f"- {result.name}: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
