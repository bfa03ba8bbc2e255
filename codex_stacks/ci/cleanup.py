"""Destroy and remove slot stacks, their namespaces and their host data dirs: on close, or by gc."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pulumi.automation import LocalWorkspace, Stack
from pulumi.automation.errors import CommandError, ConcurrentUpdateError, StackNotFoundError

from codex_stacks.ci.durations import human_duration
from codex_stacks.ci.errors import CiError, ExternalError, pulumi_error_line
from codex_stacks.ci.namespaces import NamespaceRemoval, delete_namespace
from codex_stacks.ci.slots import Binding, SlotInfo, list_slots, slot_number

if TYPE_CHECKING:
    from codex_stacks.plan import Target


@dataclass(frozen=True, slots=True)
class Removal:
    stack: str
    data_dir: Path | None
    note: str = ""
    namespace: NamespaceRemoval | None = None


def safe_data_dir(*, root: str, env_dir: str) -> Path:
    """``env_dir`` if deleting it cannot hurt anything else: strictly inside ``root``, never ``/``."""
    root_path = Path(root).resolve()
    target = Path(env_dir).resolve()
    if root_path == Path("/") or target == Path("/") or target == root_path or root_path not in target.parents:
        raise CiError(
            f"refusing to delete data dir {env_dir}: not strictly inside dataPaths.root {root}",
            hint="check dataPaths.root/envDir in services.yaml",
        )
    return target


def slot_target(*, stack: str, project_dir: Path, program_dir: Path | None = None) -> Target | None:
    """The resolved target of a slot stack (env ``ai`` with a slot); None for every other stack."""
    if slot_number(stack) is None:
        return None
    from codex_stacks.plan import resolve_stack
    from codex_stacks.plan.target import SLOT_ENVIRONMENT
    from codex_stacks.stackconfig import stack_request

    request = stack_request(stack, project_dir=project_dir, program_dir=program_dir, mode="normal")
    target = resolve_stack(request)
    return target if target.is_slot and target.env == SLOT_ENVIRONMENT else None


def slot_data_dir(*, stack: str, project_dir: Path) -> Path | None:
    """The host data dir of a slot stack (the plan's ``storage.env_dir``), checked for safety."""
    target = slot_target(stack=stack, project_dir=project_dir)
    if target is None:
        return None
    return safe_data_dir(root=target.storage.root, env_dir=target.storage.env_dir)


def _namespace_output(handle: Stack) -> str | None:
    """The ``namespace`` output of the last update (read before destroy empties the outputs)."""
    try:
        outputs = handle.outputs()
    except CommandError:
        return None
    value = outputs.get("namespace")
    return value.value if value is not None and isinstance(value.value, str) and value.value else None


def remove_stack(
    workspace: LocalWorkspace,
    *,
    stack: str,
    project_dir: Path,
    keep_data: bool = False,
    keep_namespace: bool = False,
    namespace_timeout: float = 300.0,
    retries: int = 3,
    backoff: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    remove_namespace: Callable[..., NamespaceRemoval] = delete_namespace,
) -> Removal:
    """``destroy`` (waiting out lock conflicts), the slot's namespace, ``stack rm``, then the slot's data dir.

    Only slot stacks (environment ``ai`` with a slot) lose their namespace: the program retains it on
    delete, with its PVCs and the secrets hooks made, and the next issue taking the slot must start
    clean. The namespace is deleted before ``stack rm``, so a failure there leaves the (empty) stack
    for a rerun; a stack that is already gone still gets its namespace and data dir removed.
    """
    program_dir = Path(workspace.work_dir)
    target = slot_target(stack=stack, project_dir=project_dir, program_dir=program_dir)
    data_dir = (
        None if keep_data or target is None else safe_data_dir(root=target.storage.root, env_dir=target.storage.env_dir)
    )
    try:
        handle = Stack.select(stack, workspace)
    except StackNotFoundError:
        handle = None
    namespace = None
    if target is not None and not keep_namespace:
        namespace = (_namespace_output(handle) if handle is not None else None) or target.namespace
    if handle is not None:
        for attempt in range(retries + 1):
            try:
                handle.destroy(color="never")
                break
            except ConcurrentUpdateError:
                if attempt == retries:
                    raise ExternalError(f"{stack} stayed locked by another update; not destroyed") from None
                sleep(backoff * 2**attempt)
            except CommandError as exc:
                raise ExternalError(f"destroy of {stack} failed: {_last_error(exc)}") from None
    removed_namespace = None
    if namespace is not None and target is not None:
        removed_namespace = remove_namespace(
            namespace, context=target.environment.kube_context, timeout=namespace_timeout
        )
    if handle is not None:
        try:
            workspace.remove_stack(stack)
        except CommandError as exc:
            raise ExternalError(f"removing stack {stack} failed: {_last_error(exc)}") from None
    if data_dir is not None and data_dir.exists():
        shutil.rmtree(data_dir)
    note = "" if handle is not None else "stack did not exist"
    return Removal(stack=stack, data_dir=data_dir, note=note, namespace=removed_namespace)


def _last_error(exc: CommandError) -> str:
    return pulumi_error_line(exc)


@dataclass(frozen=True, slots=True)
class GcCandidate:
    slot: SlotInfo
    reason: str


@dataclass(frozen=True, slots=True)
class GcProblem:
    """A slot gc could not decide or remove, and why (gc goes on with the others)."""

    stack: str
    error: CiError


def gc_candidates(
    workspace: LocalWorkspace,
    *,
    now: datetime,
    older_than: float | None,
    is_closed: Callable[[Binding], bool] | None,
) -> tuple[list[GcCandidate], list[GcProblem]]:
    """Slot stacks idle longer than ``older_than`` seconds, or bound to a closed issue/PR.

    A failed lookup (GitHub unreachable, 404, …) is a problem of that slot only: it is returned
    beside the candidates, and the other slots are still looked at.
    """
    picked: list[GcCandidate] = []
    problems: list[GcProblem] = []
    for info in list_slots(workspace):
        if older_than is not None and info.last_used is not None:
            idle = (now - info.last_used).total_seconds()
            if idle > older_than:
                picked.append(GcCandidate(slot=info, reason=f"idle for {human_duration(idle)}"))
                continue
        if is_closed is not None and info.binding is not None:
            try:
                closed = is_closed(info.binding)
            except CiError as exc:
                problems.append(GcProblem(stack=info.stack, error=exc))
                continue
            if closed:
                picked.append(GcCandidate(slot=info, reason=f"{info.binding} is closed"))
    return picked, problems
