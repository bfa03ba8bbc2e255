"""``codexctl preview --diff``: what a ``pulumi preview`` of the stack's state would change.

The offline preview shows what the program registers; ``--diff`` runs ``pulumi preview`` on the
same program folder through the Automation API (it needs the Pulumi CLI, the stack's backend and
the cluster the provider talks to) and marks each registration with the engine's step for it:
create, update, replace, delete or same. The preview runs with the stack's own config file, with
``codex:mode`` and ``codex:projectDir`` set as the offline run had them, through a copy
(``--config-file``): ``pulumi preview -c`` would save them into the stack's file.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from codex_stacks.errors import CodexError, ConfigError, Location
from codex_stacks.offline.runner import ProgramRun
from codex_stacks.stackconfig import NAMESPACE, ProgramFolder, program_folder, stack_settings

_MARKERS = {
    "create": "[green]+[/green]",
    "update": "[yellow]~[/yellow]",
    "replace": "[magenta]+-[/magenta]",
    "delete": "[red]-[/red]",
    "same": "[dim]=[/dim]",
}
_REPLACE_OPS = frozenset({"replace", "create-replacement", "delete-replaced"})
_WORDS = {
    "create": "to create",
    "update": "to update",
    "replace": "to replace",
    "delete": "to delete",
    "same": "unchanged",
}


class DiffError(CodexError):
    """The stack's state could not be read or previewed (the CLI, the backend or the cluster)."""

    exit_code = 1


def _op(raw: str) -> str:
    """The engine's step, in the five words the summary uses (replacement steps are one replace)."""
    if raw in _REPLACE_OPS:
        return "replace"
    if raw in ("create", "update", "delete"):
        return raw
    if raw in ("import", "import-replacement"):
        return "create"
    return "same"


@dataclass
class StackDiff:
    """The engine's step for every URN of one ``pulumi preview``, and the ones it deletes."""

    stack: str
    ops: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)

    def op(self, urn: str) -> str:
        """The step for ``urn``; one the engine did not mention stays as it is (same)."""
        return self.ops.get(urn, "same")

    def marker(self, urn: str) -> str:
        return _MARKERS[self.op(urn)]

    @property
    def deleted(self) -> list[str]:
        return sorted(urn for urn, op in self.ops.items() if op == "delete")

    def counts(self, run: ProgramRun | None = None) -> dict[str, int]:
        """How many steps of each kind; with ``run``, its registrations the engine did not mention count as same."""
        counted = Counter(self.ops.values())
        if run is not None:
            counted["same"] += sum(1 for r in run.registrations if r.urn not in self.ops)
        return {op: counted.get(op, 0) for op in ("create", "update", "replace", "delete", "same")}

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "counts": self.counts(),
            "deleted": [{"urn": urn, "type": self.types.get(urn)} for urn in self.deleted],
        }

    def summary_lines(self) -> list[str]:
        lines = ["", f"[bold]Changes against the state of stack {self.stack}[/bold] (pulumi preview):"]
        for op, count in self.counts().items():
            if count:
                lines.append(f"    {_MARKERS[op]} {count} {_WORDS[op]}")
        if not any(count for op, count in self.counts().items() if op != "same"):
            lines.append("    no changes")
        return lines


def from_events(stack: str, events: list[Any]) -> StackDiff:
    """The steps of an Automation API event stream (``resourcePreEvent``s)."""
    diff = StackDiff(stack=stack)
    for event in events:
        pre = getattr(event, "resource_pre_event", None)
        if pre is None or pre.metadata is None:
            continue
        meta = pre.metadata
        op = _op(str(getattr(meta.op, "value", meta.op)))
        if meta.type == "pulumi:pulumi:Stack":
            continue
        if diff.ops.get(meta.urn) != "replace":  # a replacement's steps (create-, delete-replaced) are one
            diff.ops[meta.urn] = op
        diff.types[meta.urn] = meta.type
    return diff


def _config_copy(program: ProgramFolder, stack: str, config: Mapping[str, str], folder: Path) -> Path:
    """The stack's config file with this run's mode and project folder: a copy, the file stays as it is."""
    data = dict(stack_settings(program, stack))
    values = dict(data.get("config") or {})
    for key in ("mode", "projectDir"):
        value = config.get(f"{NAMESPACE}:{key}")
        if value is not None:
            values[f"{NAMESPACE}:{key}"] = value
    data["config"] = values
    copy = folder / program.stack_file(stack).name
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return copy


def stack_diff(run: ProgramRun, *, config: Mapping[str, str], program_dir: Path | None) -> StackDiff:
    """``pulumi preview`` of ``run.stack`` in the program folder, as a :class:`StackDiff`."""
    from pulumi.automation import Stack
    from pulumi.automation.errors import CommandError, StackNotFoundError

    from codex_stacks.ci.errors import CiError
    from codex_stacks.ci.workspace import open_workspace

    folder = program_folder(program_dir)
    try:
        workspace, _ = open_workspace(program_dir=folder.root)
    except CiError as error:
        raise DiffError(f"--diff: {error.message}", hint=error.hint) from None
    try:
        stack = Stack.select(run.stack, workspace)
    except StackNotFoundError:
        raise ConfigError(
            f"--diff: stack {run.stack} does not exist on the backend of {folder.root}",
            location=Location(file=folder.project_file),
            hint="without a stack there is no state to compare with: everything would be created",
        ) from None
    except CommandError as error:
        raise DiffError(f"--diff: cannot select stack {run.stack}: {_first_line(error)}") from None
    events: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="codexctl-diff-") as scratch:
        copy = _config_copy(folder, run.stack, config, Path(scratch))
        try:
            stack.preview(on_event=events.append, config_file=str(copy), color="never")
        except CommandError as error:
            raise DiffError(f"--diff: pulumi preview of {run.stack} failed: {_first_line(error)}") from None
    return from_events(run.stack, events)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("stderr:"):
            line = line.removeprefix("stderr:").strip()
        if line and not line.startswith(("code:", "stdout:")):
            return line
    return text[:200]


__all__ = ["DiffError", "StackDiff", "from_events", "stack_diff"]
