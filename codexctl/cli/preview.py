"""``codexctl preview``: the real program under the SDK's mocks, shown as a tree and as files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from rich.markup import escape
from rich.tree import Tree

from codexctl.cli.output import console, out
from codexctl.offline.runner import ProgramRun, Registration, Secret, run_program
from codexctl.plan.kinds import pod_spec, tier

MASK = "[secret]"
COMPONENT_PREFIX = "codex:stack:"
HOOK_PREFIX = "pulumi-python:dynamic/codex-hooks:"
_STAGE_ORDER = ("beforeAll", "afterDestroy", "beforeApply", "afterApply", "beforeDestroy", "afterAll")
_BEFORE_OBJECTS = frozenset({"beforeAll", "afterDestroy", "beforeApply"})
_WRITTEN_RE = re.compile(r"^\d{2}-[a-z0-9-]+\.yaml$")


def reveal(value: Any, *, show_secrets: bool) -> Any:
    """Secret values masked (keys stay visible), or shown when asked."""
    if isinstance(value, Secret):
        inner = reveal(value.value, show_secrets=show_secrets)
        return inner if show_secrets else _mask(inner)
    if isinstance(value, dict):
        return {key: reveal(item, show_secrets=show_secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item, show_secrets=show_secrets) for item in value]
    return value


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return MASK


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def manifest_of(registration: Registration, *, show_secrets: bool) -> dict[str, Any]:
    """The Kubernetes object a resource registration stands for, in a stable key order."""
    inputs = _sorted(reveal(dict(registration.inputs), show_secrets=show_secrets))
    first = {key: inputs.pop(key) for key in ("apiVersion", "kind", "metadata") if key in inputs}
    return {**first, **{key: value for key, value in inputs.items() if value is not None}}


def components_of(run: ProgramRun) -> list[Registration]:
    """Component registrations in plan order (registration order varies between runs)."""
    order = {name: index for index, name in enumerate(run.outputs.get("components") or [])}
    found = [r for r in run.registrations if r.type.startswith(COMPONENT_PREFIX)]
    return sorted(found, key=lambda r: (order.get(r.name, len(order)), r.name))


def objects_of(run: ProgramRun, component: Registration) -> list[Registration]:
    """A component's Kubernetes objects in apply order."""
    children = [c for c in run.children(component.urn) if c.type.startswith("kubernetes:")]
    return sorted(children, key=lambda c: (tier(c.type.rsplit(":", 1)[-1]), c.name))


def hooks_of(run: ProgramRun, parent_urn: str) -> list[Registration]:
    """Hook steps registered under ``parent_urn``, by stage, then in file order (their chain)."""
    steps = [r for r in run.children(parent_urn) if r.type.startswith(HOOK_PREFIX)]
    by_urn = {step.urn: step for step in steps}

    def position(step: Registration) -> int:
        depth, current = 0, step
        while True:
            previous = [by_urn[dep] for dep in current.dependencies if dep in by_urn]
            same = [dep for dep in previous if dep.inputs.get("stage") == current.inputs.get("stage")]
            if not same:
                return depth
            depth, current = depth + 1, same[0]

    def stage_rank(step: Registration) -> int:
        stage = str(step.inputs.get("stage"))
        return _STAGE_ORDER.index(stage) if stage in _STAGE_ORDER else len(_STAGE_ORDER)

    return sorted(steps, key=lambda step: (stage_rank(step), position(step), step.name))


def _hook_label(registration: Registration) -> str:
    stage = registration.inputs.get("stage")
    action = registration.inputs.get("action")
    what = "run: script" if action == "run" else f"use: {action}"
    when = " [dim](runs on destroy)[/dim]" if stage in ("beforeDestroy", "afterDestroy") else ""
    return f"[magenta]hook {stage}[/magenta] {registration.inputs.get('step')} [dim]({what})[/dim]{when}"


def _label(registration: Registration) -> str:
    kind = registration.type.rsplit(":", 1)[-1]
    if registration.type.startswith(COMPONENT_PREFIX):
        return f"[bold]{kind}[/bold] {registration.name}"
    metadata = registration.inputs.get("metadata") or {}
    name = metadata.get("name", registration.name) if isinstance(metadata, Mapping) else registration.name
    namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    suffix = f" [dim]({namespace})[/dim]" if namespace else ""
    spec = pod_spec(registration.inputs)
    containers = spec.get("containers") if spec else None
    if containers and isinstance(containers[0], Mapping) and containers[0].get("image"):
        suffix += f" [dim]image {escape(str(containers[0]['image']))}[/dim]"
    return f"{kind} {escape(str(name))}{suffix}"


def write_components(run: ProgramRun, folder: Path, *, show_secrets: bool) -> list[Path]:
    """One YAML file per component (``NN-name.yaml``), replacing the files of an earlier run."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if _WRITTEN_RE.match(old.name):
            old.unlink()
    written = []
    for index, component in enumerate(components_of(run), start=1):
        objects = [manifest_of(child, show_secrets=show_secrets) for child in objects_of(run, component)]
        path = folder / f"{index:02d}-{component.name}.yaml"
        path.write_text(yaml.safe_dump_all(objects, sort_keys=False, width=120), encoding="utf-8")
        written.append(path)
    return written


def render_tree(run: ProgramRun) -> Tree:
    outputs = run.outputs
    where = ", ".join(
        f"{key} {outputs[key]}" for key in ("env", "slot", "namespace", "mode") if outputs.get(key) is not None
    )
    tree = Tree(f"[bold]stack {run.stack}[/bold] ({where})")
    root = next((r.parent for r in run.registrations if r.parent.endswith("::codex-" + run.stack)), "")
    stack_hooks = hooks_of(run, root) if root else []
    for step in stack_hooks:
        if step.inputs.get("stage") in _BEFORE_OBJECTS:
            tree.add(_hook_label(step))
    for registration in run.registrations:
        top_level = registration.parent.endswith("pulumi:pulumi:Stack::codex-" + run.stack)
        if top_level and registration.type.startswith("kubernetes:"):
            tree.add(_label(registration))
    for component in components_of(run):
        branch = tree.add(_label(component))
        steps = hooks_of(run, component.urn)
        for step in steps:
            if step.inputs.get("stage") in _BEFORE_OBJECTS:
                branch.add(_hook_label(step))
        for child in objects_of(run, component):
            branch.add(_label(child))
        for step in steps:
            if step.inputs.get("stage") not in _BEFORE_OBJECTS:
                branch.add(_hook_label(step))
    for step in stack_hooks:
        if step.inputs.get("stage") not in _BEFORE_OBJECTS:
            tree.add(_hook_label(step))
    return tree


def run_preview(*, stack: str, mode: str, project_dir: Path, out: Path, show_secrets: bool) -> None:
    config = {"codex:projectDir": str(project_dir), "codex:mode": mode}
    console.print(f"previewing stack [bold]{stack}[/bold] of {project_dir} (offline, mode {mode}) …")
    run = run_program(stack, config)
    _print(run, out, show_secrets=show_secrets)


def _print(run: ProgramRun, folder: Path, *, show_secrets: bool) -> None:
    from codexctl.cli.output import out as stdout

    stdout.print(render_tree(run))
    for name, reason in (run.outputs.get("skipped") or {}).items():
        stdout.print(f"  [dim]skipped {name}: {reason}[/dim]")
    for link in run.outputs.get("links") or []:
        stdout.print(f"  {link['title']}: {link['url']}")
    if run.outputs.get("mode") == "repair":
        console.print(
            "[bold yellow]warning:[/bold yellow] repair mode registers only the repair set; "
            "`pulumi up` without targets would delete the rest of the stack. "
            "Use `codexctl repair-targets --stack "
            f"{run.stack}` for the --target list, or `codexctl ci up --mode repair`."
        )
    written = write_components(run, folder, show_secrets=show_secrets)
    objects = sum(1 for r in run.registrations if r.type.startswith("kubernetes:") and r.custom)
    console.print(
        f"{len(written)} components, {objects} objects; manifests written to {folder}"
        + ("" if show_secrets else " (secrets masked)")
    )


__all__ = ["out", "reveal", "run_preview", "write_components"]
