"""Benchmark 1: offline preview (``codexctl preview``'s ``run_program``) against the SDK floor."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from benchmarks.bench_plan import raw_render_and_load
from benchmarks.harness import Result, best_of, interleave, seconds
from benchmarks.synthetic import STACK, services_for, write_project
from benchmarks.templates import cold_templates

FLOOR_PROGRAM = Path(__file__).resolve().parent / "floor_program.py"
ROOT = FLOOR_PROGRAM.parent.parent
"""The program folder the floor runs in (this repository's Pulumi.yaml: the same project name)."""
TARGET = 1.2


def bench_preview(objects: int, *, repeats: int) -> Result:
    """The real program on a synthetic project of about ``objects`` Kubernetes objects, against
    the lower bound of any program that does its work through the SDK: as many plain resources
    (one per object, component and provider) carrying the objects' manifests as inputs, under
    the same mock monitor, plus raw Jinja2/PyYAML of the same files. The floor (tiny inputs) is
    in the notes."""
    from codex_stacks.offline.runner import run_program
    from codex_stacks.plan import PlanRequest, build_plan

    with tempfile.TemporaryDirectory(prefix="codex-bench-") as folder:
        project = write_project(Path(folder) / "project", services=services_for(objects))
        config = {"codex:projectDir": str(project.root), "codex:mode": "normal"}
        request = PlanRequest(stack=STACK, project_dir=project.root)
        probe = run_program(STACK, config)  # also warms imports and the SDK
        registrations = len(probe.registrations)
        kube_objects = sum(1 for r in probe.registrations if r.type.startswith("kubernetes:") and r.custom)
        plan = build_plan(request)
        manifests = Path(folder) / "manifests.json"
        manifests.write_text(json.dumps([dict(obj.manifest) for obj in plan.objects]), encoding="utf-8")
        sources = (obj.source for obj in plan.objects if obj.source.is_relative_to(project.root.resolve()))
        files = [request.services_path, *dict.fromkeys(sources)]
        floor_config = {"bench:resources": str(registrations)}
        inputs_config = {**floor_config, "bench:manifests": str(manifests)}

        timings = interleave(
            {
                "preview": lambda: run_program(STACK, config),
                "floor": lambda: run_program(STACK, floor_config, program=FLOOR_PROGRAM, program_dir=ROOT),
                "same inputs": lambda: run_program(STACK, inputs_config, program=FLOOR_PROGRAM, program_dir=ROOT),
            },
            repeats=repeats,
            warmups=0,
            before=cold_templates,
        )
        plan_seconds, _ = best_of(lambda: build_plan(request), runs=1, before=cold_templates)
        raw_seconds, _ = best_of(lambda: raw_render_and_load(files, plan.context), runs=1)

    preview, floor, same_inputs = (timings[key].best for key in ("preview", "floor", "same inputs"))
    pulumi_layer = max(preview - plan_seconds - same_inputs, 0.0)
    composite = same_inputs + raw_seconds
    return Result(
        name=f"preview, {kube_objects} objects",
        measured=preview,
        baseline=composite,
        target=TARGET,
        notes=[
            f"{registrations} registrations ({kube_objects} objects, {registrations - kube_objects} components "
            f"and the provider); the floor registers {registrations} plain resources with tiny inputs, "
            f"{seconds(floor / registrations)} each; best of {repeats}",
            f"the same plain resources carrying the objects' manifests as inputs: {seconds(same_inputs)} "
            f"({same_inputs / floor:.2f}x the floor); the preview is {preview / same_inputs:.2f}x that",
            f"preview = inputs floor {seconds(same_inputs)} + build_plan {seconds(plan_seconds)} "
            f"+ the rest of the Pulumi layer (components, dependencies, provider) "
            f"{seconds(pulumi_layer)}",
            f"inputs floor + raw Jinja2/PyYAML of the same {len(files)} files ({seconds(raw_seconds)}) = "
            f"{seconds(composite)}",
            f"the baseline is that lower bound of any program that renders these files and registers these "
            f"objects through the SDK: {composite / floor:.2f}x the floor (raw rendering alone adds "
            f"{raw_seconds / floor:.2f}x, the manifests as inputs {same_inputs / floor - 1:.2f}x); the preview is "
            f"{preview / floor:.2f}x the floor",
        ],
    )
