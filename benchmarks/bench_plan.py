"""Benchmarks 2 and 3: the pure plan against raw Jinja2 + PyYAML, and its scaling."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
import yaml

from benchmarks.harness import Result, interleave, seconds
from benchmarks.synthetic import STACK, write_project
from benchmarks.templates import cold_templates
from codex_stacks.plan import PlanRequest, build_plan

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = REPO_ROOT / "examples" / "project-example"
RAW_TARGET = 2.0
SCALING_TARGET = 11.0
_SLUG_RE = re.compile(r"[^a-z0-9]+")
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _raw_environment() -> jinja2.Environment:
    """A plain (unsandboxed) environment with the same two helpers the templates call."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    env.filters["slug"] = lambda value: _SLUG_RE.sub("-", str(value).lower()).strip("-")
    env.globals["env_or"] = lambda name, default="": os.environ.get(name) or str(default)
    return env


def _render_values(value: Any, env: jinja2.Environment, context: Mapping[str, Any]) -> Any:
    """Every templated scalar of a loaded YAML value rendered (what a structure-first file needs)."""
    if isinstance(value, str):
        return env.from_string(value).render(context) if "{{" in value else value
    if isinstance(value, dict):
        return {key: _render_values(item, env, context) for key, item in value.items()}
    if isinstance(value, list):
        return [_render_values(item, env, context) for item in value]
    return value


def raw_render_and_load(files: list[Path], context: Mapping[str, Any]) -> int:
    """Read, render (plain Jinja2, compiled afresh) and load (safe, C loader) every file once:
    services.yaml loaded first and its templated values rendered, manifests rendered as text and
    loaded; the number of documents, so nothing is optimised away."""
    env = _raw_environment()
    services, manifests = files[0], files[1:]
    _render_values(yaml.load(services.read_text(encoding="utf-8"), Loader=_Loader), env, context)
    documents = 1
    for path in manifests:
        text = env.from_string(path.read_text(encoding="utf-8")).render(context)
        documents += sum(1 for doc in yaml.load_all(text, Loader=_Loader) if doc is not None)
    return documents


def bench_plan_vs_raw(*, repeats: int) -> Result:
    """``build_plan`` of the example's ai-slot-3 against rendering and loading the same files:
    services.yaml and every manifest the plan rendered objects from."""
    request = PlanRequest(stack=STACK, project_dir=EXAMPLE, mode="normal")
    plan = build_plan(request)
    manifests = list(dict.fromkeys(obj.source for obj in plan.objects if obj.source.is_relative_to(EXAMPLE)))
    files = [request.services_path, *manifests]
    context = {name: plan.context[name] for name in plan.context if name != "env_or"}

    timings = interleave(
        {"plan": lambda: build_plan(request), "raw": lambda: raw_render_and_load(files, context)},
        repeats=repeats,
        warmups=2,
        before=cold_templates,
    )
    return Result(
        name="plan of the example (ai-slot-3)",
        measured=timings["plan"].best,
        baseline=timings["raw"].best,
        target=RAW_TARGET,
        notes=[
            f"{len(plan.objects)} objects from {len(manifests)} manifest files; the baseline loads services.yaml "
            f"and renders its templated values, renders each of those files with a plain jinja2.Environment "
            f"and loads them with yaml.load_all(CSafeLoader); best of {repeats}, templates compiled afresh on "
            "both sides",
        ],
    )


def _plans(request: PlanRequest, times: int) -> None:
    """``times`` plans of one project, each compiling its templates afresh."""
    for _ in range(times):
        cold_templates()
        build_plan(request)


def bench_scaling(*, small: int = 100, large: int = 1000, repeats: int) -> Result:
    """``build_plan`` of a synthetic project of ``large`` services against ``large // small``
    plans of one of ``small`` services, in rounds: both samples do the same amount of work and
    last as long, so a busy machine skews neither side."""
    factor = large // small
    with tempfile.TemporaryDirectory(prefix="codex-bench-") as folder:
        projects = {size: write_project(Path(folder) / str(size), services=size) for size in (small, large)}
        requests = {size: PlanRequest(stack=STACK, project_dir=project.root) for size, project in projects.items()}
        _plans(requests[small], 1)  # warm-up: imports, the model's validators
        timings = interleave(
            {"small": partial(_plans, requests[small], factor), "large": partial(_plans, requests[large], 1)},
            repeats=repeats,
            warmups=0,
        )
    objects = {size: project.objects for size, project in projects.items()}
    best = {small: timings["small"].best / factor, large: timings["large"].best}
    return Result(
        name=f"plan scaling, {small} → {large} services",
        measured=best[large],
        baseline=best[small],
        target=SCALING_TARGET,
        notes=[
            f"{objects[small]} → {objects[large]} objects; {seconds(best[small] / objects[small])} → "
            f"{seconds(best[large] / objects[large])} per object; the baseline is the best of {repeats} runs of "
            f"{factor} plans of the small project, divided by {factor}",
        ],
    )
