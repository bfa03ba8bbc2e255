"""``codexctl render`` in process against raw Jinja2 + PyYAML of the same files (target at most 1.5 times)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from benchmarks.bench_plan import EXAMPLE, _raw_environment, _render_values
from benchmarks.harness import Result, interleave
from benchmarks.synthetic import STACK
from benchmarks.templates import cold_templates
from codex_stacks.cli.render import render_plan
from codex_stacks.plan import PlanRequest, build_plan

TARGET = 1.5
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def raw_render(files: list[Path], context: dict[str, Any]) -> str:
    """services.yaml loaded and its templated values rendered, every manifest rendered (plain
    Jinja2) and loaded, and all the documents written back as one stream (sorted keys)."""
    env = _raw_environment()
    services, manifests = files[0], files[1:]
    _render_values(yaml.load(services.read_text(encoding="utf-8"), Loader=_Loader), env, context)
    documents: list[Any] = []
    for path in manifests:
        text = env.from_string(path.read_text(encoding="utf-8")).render(context)
        documents.extend(doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None)
    return yaml.dump_all(documents, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=1_000_000)


def bench_render(*, repeats: int) -> Result:
    request = PlanRequest(stack=STACK, project_dir=EXAMPLE, mode="normal")
    plan = build_plan(request)
    manifests = list(dict.fromkeys(obj.source for obj in plan.objects if obj.source.is_relative_to(EXAMPLE)))
    files = [request.services_path, *manifests]
    context = {name: plan.context[name] for name in plan.context if name != "env_or"}
    timings = interleave(
        {"render": lambda: render_plan(build_plan(request)), "raw": lambda: raw_render(files, context)},
        repeats=repeats,
        warmups=2,
        before=cold_templates,
    )
    return Result(
        name="render of the example (ai-slot-3)",
        measured=timings["render"].best,
        baseline=timings["raw"].best,
        target=TARGET,
        notes=[
            f"codexctl render in process (the plan, then one YAML stream of its {len(plan.objects)} objects) "
            f"against rendering the same {len(files)} files with a plain jinja2.Environment, loading them with "
            "PyYAML and writing the documents back with yaml.dump_all (both sides with PyYAML's C loader and "
            f"emitter); best of {repeats}",
        ],
    )
