"""``codexctl preview``: the real program under the SDK's mocks, shown as a tree and as files.

It ends with a summary like ``pulumi preview``'s (objects per component and kind, the counts);
``--output json`` prints the same as one document (docs/architecture.md, "Scripting"); ``--diff``
adds what a ``pulumi preview`` of the stack's state would change (:mod:`codex_stacks.cli.diff`).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from rich.markup import escape
from rich.tree import Tree

from codex_stacks.cli.output import console, fail, out
from codex_stacks.offline.runner import ProgramRun, Registration, Secret, run_program
from codex_stacks.offline.targets import check_filters, select
from codex_stacks.plan.filters import NameFilters
from codex_stacks.plan.kinds import pod_spec, tier

if TYPE_CHECKING:
    from codex_stacks.cli.diff import StackDiff

MASK = "[secret]"
COMPONENT_PREFIX = "codex:stack:"
HOOK_PREFIX = "pulumi-python:dynamic/codex-hooks:"
_STAGE_ORDER = ("beforeAll", "afterDestroy", "beforeApply", "afterApply", "beforeDestroy", "afterAll")
_BEFORE_OBJECTS = frozenset({"beforeAll", "afterDestroy", "beforeApply"})
_WRITTEN_RE = re.compile(r"^\d{2}-[a-z0-9-]+\.yaml$")
MARKER = ".codexctl-preview"
"""Lists the files preview wrote into a folder: the only ones a later preview replaces."""
_MARKER_HEADER = (
    "# Written by `codexctl preview`. The files listed below are replaced by the next preview\n"
    "# into this folder; other files here are never touched.\n"
)
_SECRET_VISIBLE = frozenset({"apiVersion", "kind", "metadata", "type", "immutable"})
"""The fields of a Secret shown as they are; every other one (data, stringData, a misspelt
``stringDta``) is masked, so a typo cannot put a value in plain text."""


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
    if not show_secrets and inputs.get("kind") == "Secret" and inputs.get("apiVersion") == "v1":
        inputs = {key: value if key in _SECRET_VISIBLE else _mask(value) for key, value in inputs.items()}
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


def _previous_files(folder: Path, *, default: bool = False) -> list[str] | None:
    """The files an earlier preview wrote into ``folder`` (None: preview never wrote there).

    The default folder (``preview/<stack>``) is preview's own: one written before the marker
    file existed holds only what preview wrote, so its ``NN-name.yaml`` files count as such.
    """
    try:
        text = (folder / MARKER).read_text(encoding="utf-8")
    except FileNotFoundError:
        if default and folder.is_dir():
            return sorted(path.name for path in folder.iterdir() if _WRITTEN_RE.match(path.name))
        return None
    names = (line.removeprefix("#").strip() for line in text.splitlines())
    return [name for name in names if _WRITTEN_RE.match(name)]


def check_out_folder(folder: Path, *, default: bool = False) -> None:
    """Fail (exit 2) unless preview can write into ``folder``, before any work is done.

    Nothing is created yet: a bad project must leave no folder behind. A folder preview did
    not write (no marker file) must be empty, so the user's own files are never replaced.
    """
    if folder.exists():
        if not folder.is_dir():
            fail(f"--out: {folder} is a file, not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            fail(f"--out: cannot write into {folder} (permission denied)")
        if _previous_files(folder, default=default) is None and any(folder.iterdir()):
            fail(
                f"--out: {folder} is not empty and was not written by codexctl preview; "
                "give a new or empty folder (preview replaces only files it wrote itself)"
            )
        return
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        fail(f"--out: cannot create {folder}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        fail(f"--out: cannot create {folder} (permission denied in {parent})")


def write_components(run: ProgramRun, folder: Path, *, show_secrets: bool, default: bool = False) -> list[Path]:
    """One YAML file per component (``NN-name.yaml``), replacing only the files an earlier
    preview wrote there (listed in the folder's marker file)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in _previous_files(folder, default=default) or []:
            (folder / name).unlink(missing_ok=True)
        written = []
        for index, component in enumerate(components_of(run), start=1):
            objects = [manifest_of(child, show_secrets=show_secrets) for child in objects_of(run, component)]
            path = folder / f"{index:02d}-{component.name}.yaml"
            path.write_text(yaml.safe_dump_all(objects, sort_keys=False, width=120), encoding="utf-8")
            written.append(path)
        listing = "".join(f"# {path.name}\n" for path in written)
        (folder / MARKER).write_text(_MARKER_HEADER + listing, encoding="utf-8")
    except OSError as exc:
        fail(f"--out: cannot write into {folder}: {exc.strerror or exc}")
    return written


def _is_stack(urn: str) -> bool:
    return urn.split("::")[2:3] == ["pulumi:pulumi:Stack"]


def stack_root(run: ProgramRun) -> str:
    """The URN of the run's root stack resource (the parent of top-level registrations)."""
    return next((r.parent for r in run.registrations if _is_stack(r.parent)), "")


def top_level_objects(run: ProgramRun) -> list[Registration]:
    """Kubernetes objects registered directly under the stack, outside every component."""
    return [r for r in run.registrations if _is_stack(r.parent) and r.type.startswith("kubernetes:")]


def _marked(label: str, urn: str, diff: StackDiff | None) -> str:
    if diff is None:
        return label
    return f"{diff.marker(urn)} {label}"


def render_tree(run: ProgramRun, diff: StackDiff | None = None) -> Tree:
    outputs = run.outputs
    where = ", ".join(
        f"{key} {outputs[key]}" for key in ("env", "slot", "namespace", "mode") if outputs.get(key) is not None
    )
    tree = Tree(f"[bold]stack {escape(run.stack)}[/bold] ({escape(where)})")
    root = stack_root(run)
    stack_hooks = hooks_of(run, root) if root else []
    for step in stack_hooks:
        if step.inputs.get("stage") in _BEFORE_OBJECTS:
            tree.add(_marked(_hook_label(step), step.urn, diff))
    for registration in top_level_objects(run):
        tree.add(_marked(_label(registration), registration.urn, diff))
    for component in components_of(run):
        branch = tree.add(_marked(_label(component), component.urn, diff))
        steps = hooks_of(run, component.urn)
        for step in steps:
            if step.inputs.get("stage") in _BEFORE_OBJECTS:
                branch.add(_marked(_hook_label(step), step.urn, diff))
        for child in objects_of(run, component):
            branch.add(_marked(_label(child), child.urn, diff))
        for step in steps:
            if step.inputs.get("stage") not in _BEFORE_OBJECTS:
                branch.add(_marked(_hook_label(step), step.urn, diff))
    for step in stack_hooks:
        if step.inputs.get("stage") not in _BEFORE_OBJECTS:
            tree.add(_marked(_hook_label(step), step.urn, diff))
    if diff is not None:
        for urn in diff.deleted:
            name = escape(urn.rsplit("::", 1)[-1])
            tree.add(f"{diff.marker(urn)} [red]{name}[/red] [dim](deleted: {escape(urn)})[/dim]")
    return tree


def _kind(registration: Registration) -> str:
    return registration.type.rsplit(":", 1)[-1]


def _object_entry(registration: Registration, diff: StackDiff | None) -> dict[str, Any]:
    metadata = registration.inputs.get("metadata") or {}
    metadata = metadata if isinstance(metadata, Mapping) else {}
    entry: dict[str, Any] = {
        "kind": registration.inputs.get("kind") or _kind(registration),
        "api_version": registration.inputs.get("apiVersion"),
        "name": metadata.get("name", registration.name),
        "namespace": metadata.get("namespace"),
        "urn": registration.urn,
    }
    if diff is not None:
        entry["change"] = diff.op(registration.urn)
    return entry


def _hook_entry(registration: Registration, diff: StackDiff | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "stage": registration.inputs.get("stage"),
        "step": registration.inputs.get("step"),
        "action": registration.inputs.get("action"),
        "urn": registration.urn,
    }
    if diff is not None:
        entry["change"] = diff.op(registration.urn)
    return entry


def summary_of(run: ProgramRun) -> dict[str, Any]:
    """Counts like ``pulumi preview``'s: components, objects (per kind), hook steps."""
    objects = [r for r in run.registrations if r.type.startswith("kubernetes:") and r.custom]
    hooks = [r for r in run.registrations if r.type.startswith(HOOK_PREFIX)]
    return {
        "components": len(components_of(run)),
        "objects": len(objects),
        "hooks": len(hooks),
        "by_kind": dict(sorted(Counter(str(r.inputs.get("kind") or _kind(r)) for r in objects).items())),
    }


def preview_document(
    run: ProgramRun, *, files: Mapping[str, str], out: Path | None, diff: StackDiff | None = None
) -> dict[str, Any]:
    """What ``preview --output json`` prints (a stable shape: docs/architecture.md, "Scripting")."""
    root = stack_root(run)
    components = []
    for component in components_of(run):
        components.append(
            {
                "name": component.name,
                "type": _kind(component),
                "urn": component.urn,
                "file": files.get(component.name),
                "objects": [_object_entry(child, diff) for child in objects_of(run, component)],
                "hooks": [_hook_entry(step, diff) for step in hooks_of(run, component.urn)],
            }
        )
    outputs = run.outputs
    return {
        "stack": run.stack,
        "project": run.project,
        "env": outputs.get("env"),
        "slot": outputs.get("slot"),
        "namespace": outputs.get("namespace"),
        "mode": outputs.get("mode"),
        "components": components,
        "stack_objects": [_object_entry(r, diff) for r in top_level_objects(run)],
        "stack_hooks": [_hook_entry(step, diff) for step in (hooks_of(run, root) if root else [])],
        "skipped": dict(outputs.get("skipped") or {}),
        "links": list(outputs.get("links") or []),
        "pod_security": outputs.get("podSecurity"),
        "summary": summary_of(run),
        "out": str(out) if out is not None else None,
        "diff": diff.as_json() if diff is not None else None,
    }


def summary_lines(run: ProgramRun, diff: StackDiff | None = None) -> list[str]:
    """The closing summary (rich markup), like ``pulumi preview``'s "Resources:" block."""
    lines = ["", "[bold]Resources:[/bold]"]
    width = max((len(f"{_kind(c)} {c.name}") for c in components_of(run)), default=0)
    for component in components_of(run):
        children = objects_of(run, component)
        kinds = Counter(str(child.inputs.get("kind") or _kind(child)) for child in children)
        steps = len(hooks_of(run, component.urn))
        label = f"{_kind(component)} {component.name}".ljust(width)
        detail = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
        hooks = f", {steps} hook step{'s' if steps != 1 else ''}" if steps else ""
        lines.append(
            f"    {escape(label)}  {len(children):>3} object{'s' if len(children) != 1 else ' '}"
            f"{hooks}  [dim]{escape(detail)}[/dim]"
        )
    total = summary_of(run)
    every_kind = ", ".join(f"{kind} {count}" for kind, count in total["by_kind"].items())
    lines.append(
        f"    [bold]{total['objects']} object{'s' if total['objects'] != 1 else ''}[/bold] in "
        f"{total['components']} component{'s' if total['components'] != 1 else ''}, "
        f"{total['hooks']} hook step{'s' if total['hooks'] != 1 else ''}: [dim]{escape(every_kind)}[/dim]"
    )
    if diff is not None:
        lines.extend(diff.summary_lines())
    return lines


def run_preview(
    *,
    stack: str,
    config: Mapping[str, str],
    out: Path | None,
    show_secrets: bool,
    filters: NameFilters | None = None,
    program_dir: Path | None = None,
    diff: bool = False,
    as_json: bool = False,
) -> None:
    """Preview ``stack`` of the program folder ``program_dir`` with its ``codex:*`` config (the
    stack file's, with the options on top) into ``out`` (default ``preview/<stack>``); ``filters``
    keep part of it by name; ``diff`` compares with the stack's state on the backend."""
    default = out is None
    out = Path("preview") / stack if out is None else out
    check_out_folder(out, default=default)
    mode = config.get("codex:mode") or "normal"
    project_dir = escape(str(config.get("codex:projectDir")))
    console.print(f"previewing stack [bold]{escape(stack)}[/bold] of {project_dir} (offline, mode {escape(mode)}) …")
    check_filters(stack, config, filters, program_dir=program_dir)
    run = select(run_program(stack, dict(config), program_dir=program_dir), filters)
    changes = None
    if diff:
        from codex_stacks.cli.diff import stack_diff

        changes = stack_diff(run, config=config, program_dir=program_dir)
    _print(run, out, show_secrets=show_secrets, default=default, diff=changes, as_json=as_json)


def _print_pod_security(security: object) -> None:
    """One line with the level the namespace enforces, then what keeps it from a stricter one."""
    from codex_stacks.cli.output import out as stdout

    if not isinstance(security, Mapping):
        return
    enforce = str(security.get("enforce"))
    because = [str(line) for line in security.get("because") or []]
    stricter = {"privileged": "baseline", "baseline": "restricted"}.get(enforce)
    more = f", not {stricter}, because:" if because and stricter else ""
    stdout.print(f"  pod security: enforce {escape(enforce)}{escape(more)}")
    for line in because:
        stdout.print(f"    [dim]{escape(line)}[/dim]")


def _print(
    run: ProgramRun, folder: Path, *, show_secrets: bool, default: bool, diff: StackDiff | None, as_json: bool
) -> None:
    from codex_stacks.cli.output import out as stdout
    from codex_stacks.cli.output import print_json

    if not as_json:
        stdout.print(render_tree(run, diff))
        for name, reason in (run.outputs.get("skipped") or {}).items():
            stdout.print(f"  [dim]skipped {escape(str(name))}: {escape(str(reason))}[/dim]")
        for link in run.outputs.get("links") or []:
            stdout.print(f"  {escape(str(link['title']))}: {escape(str(link['url']))}")
        _print_pod_security(run.outputs.get("podSecurity"))
    if run.outputs.get("mode") == "repair":
        console.print(
            "[dim]note: this is the repair set; `pulumi up` in repair mode registers the rest of the "
            "stack again from the last normal run's store (repairStore), or refuses without one "
            f"(docs/repair.md). The --target list: codexctl repair-targets --stack {escape(run.stack)}[/dim]"
        )
    written = write_components(run, folder, show_secrets=show_secrets, default=default)
    if as_json:
        names = {component.name: path.name for component, path in zip(components_of(run), written, strict=True)}
        print_json(preview_document(run, files=names, out=folder, diff=diff))
    else:
        for line in summary_lines(run, diff):
            stdout.print(line)
    objects = sum(1 for r in run.registrations if r.type.startswith("kubernetes:") and r.custom)
    console.print(
        f"{len(written)} component{'s' if len(written) != 1 else ''}, {objects} object{'s' if objects != 1 else ''}; "
        f"manifests written to {escape(str(folder))}" + ("" if show_secrets else " (secrets masked)"),
    )


__all__ = ["MARKER", "check_out_folder", "out", "reveal", "run_preview", "write_components"]
