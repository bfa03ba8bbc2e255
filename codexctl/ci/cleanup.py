"""Destroy and remove slot stacks (and their host data dirs): on close, or by gc."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pulumi.automation import LocalWorkspace, Stack
from pulumi.automation.errors import CommandError, ConcurrentUpdateError, StackNotFoundError

from codexctl.ci.errors import CiError, pulumi_error_line
from codexctl.ci.slots import Binding, SlotInfo, list_slots, slot_number


@dataclass(frozen=True, slots=True)
class Removal:
    stack: str
    data_dir: Path | None
    note: str = ""


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


def slot_data_dir(*, stack: str, project_dir: Path) -> Path | None:
    """The host data dir of a slot stack (the plan's ``storage.env_dir``), checked for safety."""
    if slot_number(stack) is None:
        return None
    from codexctl.plan import PlanRequest, load_settings

    target, _, _ = load_settings(PlanRequest(stack=stack, project_dir=project_dir))
    return safe_data_dir(root=target.storage.root, env_dir=target.storage.env_dir)


def remove_stack(
    workspace: LocalWorkspace,
    *,
    stack: str,
    project_dir: Path,
    keep_data: bool = False,
    retries: int = 3,
    backoff: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Removal:
    """``destroy`` (waiting out lock conflicts), then ``stack rm``, then the slot's data dir."""
    data_dir = None if keep_data else slot_data_dir(stack=stack, project_dir=project_dir)
    try:
        handle = Stack.select(stack, workspace)
    except StackNotFoundError:
        handle = None
    if handle is not None:
        for attempt in range(retries + 1):
            try:
                handle.destroy(color="never")
                break
            except ConcurrentUpdateError:
                if attempt == retries:
                    raise CiError(f"{stack} stayed locked by another update; not destroyed") from None
                sleep(backoff * 2**attempt)
            except CommandError as exc:
                raise CiError(f"destroy of {stack} failed: {_last_error(exc)}") from None
        try:
            workspace.remove_stack(stack)
        except CommandError as exc:
            raise CiError(f"removing stack {stack} failed: {_last_error(exc)}") from None
    if data_dir is not None and data_dir.exists():
        shutil.rmtree(data_dir)
    note = "" if handle is not None else "stack did not exist"
    return Removal(stack=stack, data_dir=data_dir if data_dir is not None and not keep_data else None, note=note)


def _last_error(exc: CommandError) -> str:
    return pulumi_error_line(exc)


@dataclass(frozen=True, slots=True)
class GcCandidate:
    slot: SlotInfo
    reason: str


def gc_candidates(
    workspace: LocalWorkspace,
    *,
    now: datetime,
    older_than: float | None,
    is_closed: Callable[[Binding], bool] | None,
) -> list[GcCandidate]:
    """Slot stacks idle longer than ``older_than`` seconds, or bound to a closed issue/PR."""
    picked: list[GcCandidate] = []
    for info in list_slots(workspace):
        if older_than is not None and info.last_used is not None:
            idle = (now - info.last_used).total_seconds()
            if idle > older_than:
                picked.append(GcCandidate(slot=info, reason=f"idle for {idle / 3600:.1f}h"))
                continue
        if is_closed is not None and info.binding is not None and is_closed(info.binding):
            picked.append(GcCandidate(slot=info, reason=f"{info.binding} is closed"))
    return picked
