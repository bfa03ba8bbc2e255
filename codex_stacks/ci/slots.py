"""Slot stacks ``ai-slot-<N>`` bound to an issue or PR; the binding lives on the stack as tags.

Claiming a slot is creating its stack: stack creation fails when the stack already exists, so
two runners asking at once can never end up with the same slot.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pulumi.automation import LocalWorkspace
from pulumi.automation.errors import CommandError, StackAlreadyExistsError, StackNotFoundError

from codex_stacks.ci.errors import CiError

BINDING_TAG = "codex:binding"
CLAIMED_TAG = "codex:claimed-at"
USED_TAG = "codex:last-used"
_SLOT_RE = re.compile(r"^(?:.*/)?ai-slot-(\d+)$")
_BINDING_RE = re.compile(r"^(issue|pr)-(\d+)$")


@dataclass(frozen=True, slots=True)
class Binding:
    """What a slot works for: an issue or a pull request of the repository."""

    kind: Literal["issue", "pr"]
    number: int

    def __str__(self) -> str:
        return f"{self.kind}-{self.number}"

    @classmethod
    def parse(cls, text: str) -> Binding | None:
        match = _BINDING_RE.match(text.strip())
        if match is None:
            return None
        kind: Literal["issue", "pr"] = "issue" if match.group(1) == "issue" else "pr"
        return cls(kind=kind, number=int(match.group(2)))

    @classmethod
    def from_options(cls, *, issue: int | None, pr: int | None) -> Binding:
        if (issue is None) == (pr is None):
            raise CiError("give exactly one of --issue N or --pr N")
        return cls(kind="issue", number=issue) if issue is not None else cls(kind="pr", number=pr or 0)


@dataclass(frozen=True, slots=True)
class SlotInfo:
    """A slot stack as the backend knows it."""

    stack: str
    slot: int
    binding: Binding | None
    last_used: datetime | None


@dataclass(frozen=True, slots=True)
class SlotClaim:
    stack: str
    slot: int
    reused: bool


def slot_stack(slot: int) -> str:
    return f"ai-slot-{slot}"


def slot_number(stack: str) -> int | None:
    match = _SLOT_RE.match(stack)
    return int(match.group(1)) if match else None


def now_utc() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def existing_slots(workspace: LocalWorkspace) -> dict[int, str]:
    """Slot number → stack name, for every slot stack of the project in the backend."""
    found: dict[int, str] = {}
    for summary in workspace.list_stacks():
        number = slot_number(summary.name)
        if number is not None:
            found[number] = summary.name.rsplit("/", 1)[-1]
    return found


def read_slot(workspace: LocalWorkspace, *, stack: str) -> SlotInfo | None:
    """The slot's tags; None when the stack vanished meanwhile (another runner removed it)."""
    number = slot_number(stack)
    if number is None:
        return None
    try:
        tags = workspace.list_tags(stack)
    except StackNotFoundError:
        return None
    binding = Binding.parse(tags.get(BINDING_TAG, ""))
    last_used = parse_time(tags.get(USED_TAG)) or parse_time(tags.get(CLAIMED_TAG))
    return SlotInfo(stack=stack, slot=number, binding=binding, last_used=last_used)


def list_slots(workspace: LocalWorkspace) -> list[SlotInfo]:
    infos = (read_slot(workspace, stack=name) for _, name in sorted(existing_slots(workspace).items()))
    return [info for info in infos if info is not None]


def find_bound(workspace: LocalWorkspace, binding: Binding) -> SlotInfo | None:
    """The lowest slot bound to ``binding``, if any."""
    for info in list_slots(workspace):
        if info.binding == binding:
            return info
    return None


def ensure_slot(workspace: LocalWorkspace, *, binding: Binding, max_slots: int) -> SlotClaim:
    """Reuse the slot bound to ``binding``, else claim the lowest free one in ``1..max_slots``.

    ``max_slots`` 0 means no limit (SPEC §2 ``maxSlots``): the lowest free slot number is claimed.
    """
    if max_slots < 0:
        raise CiError(f"maxSlots is {max_slots}: use 0 (no limit) or a positive number", hint="pass --max N")
    slots = list_slots(workspace)
    bound = next((info for info in slots if info.binding == binding), None)
    if bound is not None:
        workspace.set_tag(bound.stack, USED_TAG, format_time(now_utc()))
        return SlotClaim(stack=bound.stack, slot=bound.slot, reused=True)
    taken = {info.slot for info in slots}
    numbers = itertools.count(1) if max_slots == 0 else range(1, max_slots + 1)
    for number in numbers:
        if number in taken:
            continue
        name = slot_stack(number)
        try:
            workspace.create_stack(name)
        except StackAlreadyExistsError:
            continue
        stamp = format_time(now_utc())
        workspace.set_tag(name, BINDING_TAG, str(binding))
        workspace.set_tag(name, CLAIMED_TAG, stamp)
        workspace.set_tag(name, USED_TAG, stamp)
        return _settle(workspace, binding=binding, claimed=number)
    raise CiError(
        f"no free slot for {binding}: all {max_slots} slot stacks are taken",
        hint="wait for a cleanup, run `codexctl ci gc --closed`, or raise maxSlots",
    )


def _settle(workspace: LocalWorkspace, *, binding: Binding, claimed: int, polls: int = 15) -> SlotClaim:
    """Two runners for the same issue may both have claimed; the lower slot wins, the other is freed.

    A lower slot without a binding yet may be a runner between creating and tagging its stack:
    wait for it briefly, so both runners agree on the winner.
    """
    lower: list[SlotInfo] = []
    for _ in range(polls):
        names = [name for number, name in sorted(existing_slots(workspace).items()) if number < claimed]
        lower = [info for info in (read_slot(workspace, stack=name) for name in names) if info is not None]
        if all(info.binding is not None for info in lower):
            break
        time.sleep(0.2)
    winner = next((info for info in lower if info.binding == binding), None)
    if winner is not None:
        with contextlib.suppress(CommandError):
            workspace.remove_stack(slot_stack(claimed))
        return SlotClaim(stack=winner.stack, slot=winner.slot, reused=True)
    return SlotClaim(stack=slot_stack(claimed), slot=claimed, reused=False)
