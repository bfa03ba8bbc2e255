"""Slot stacks ``ai-slot-<N>`` of a repository, bound to an issue or a pull request.

The claim (a Lease in the cluster, codex_stacks/ci/claims.py) says whose a slot is; the stack is
created after the claim and carries the same binding in its tags, with the repository, for
people and for ``ci slots``. A claim that fails half-way is rolled back: the stack it created is
removed and the Lease deleted, so nothing is left that gc would have to find.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from codex_stacks.ci.errors import CiError, ExternalError

if TYPE_CHECKING:
    from pulumi.automation import LocalWorkspace

    from codex_stacks.ci.claims import Claim, ClaimStore

BINDING_TAG = "codex:binding"
"""``owner/repo#issue-42``: the claim's binding, repository included, on the stack for people and gc."""
USED_TAG = "codex:last-used"
RESULT_TAG = "codex:last-result"
MODE_TAG = "codex:last-mode"
SLOT_PREFIX = "ai-slot-"
_SLOT_RE = re.compile(r"^(?:.*/)?ai-slot-(\d+)$")
_BINDING_RE = re.compile(r"^(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#(?P<kind>issue|pr)-(?P<number>\d+)$")
_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
CLAIMING_STALE_AFTER = 600.0
"""Seconds after which another run's claiming lock for the same issue counts as abandoned."""


def check_repository(repository: str | None) -> str:
    """``owner/name``, from --repository or $GITHUB_REPOSITORY."""
    if not repository:
        raise CiError(
            "the repository is needed: slots are claimed per repository",
            hint="pass --repository owner/name (GitHub Actions sets $GITHUB_REPOSITORY)",
        )
    if not _REPOSITORY_RE.match(repository.strip()):
        raise CiError(f"--repository {repository!r} is not owner/name")
    return repository.strip()


@dataclass(frozen=True, slots=True)
class Binding:
    """What a slot works for: an issue or a pull request of one repository."""

    repository: str
    kind: Literal["issue", "pr"]
    number: int

    def __str__(self) -> str:
        return f"{self.repository}#{self.kind}-{self.number}"

    @property
    def short(self) -> str:
        return f"{self.kind}-{self.number}"

    @classmethod
    def parse(cls, text: str) -> Binding | None:
        match = _BINDING_RE.match(text.strip())
        if match is None:
            return None
        kind: Literal["issue", "pr"] = "issue" if match["kind"] == "issue" else "pr"
        return cls(repository=match["repo"], kind=kind, number=int(match["number"]))

    @classmethod
    def from_options(cls, *, repository: str, issue: int | None, pr: int | None) -> Binding:
        if (issue is None) == (pr is None):
            raise CiError("give exactly one of --issue N or --pr N")
        if issue is not None:
            return cls(repository=repository, kind="issue", number=issue)
        return cls(repository=repository, kind="pr", number=pr or 0)


def slot_stack(slot: int) -> str:
    return f"{SLOT_PREFIX}{slot}"


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


@dataclass(frozen=True, slots=True)
class SlotClaim:
    stack: str
    slot: int
    reused: bool
    binding: Binding


@dataclass(slots=True)
class Slot:
    """A slot of the repository as the cluster and the backend know it."""

    slot: int
    stack: str
    claim: Claim | None = None
    exists: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def binding(self) -> Binding | None:
        if self.claim is not None and self.claim.binding is not None:
            return self.claim.binding
        return Binding.parse(self.tags.get(BINDING_TAG, ""))

    @property
    def claimed_at(self) -> datetime | None:
        return self.claim.claimed_at if self.claim else None

    @property
    def last_used(self) -> datetime | None:
        return parse_time(self.tags.get(USED_TAG)) or self.claimed_at

    @property
    def repository(self) -> str | None:
        return self.binding.repository if self.binding else None


def slot_stacks(workspace: LocalWorkspace) -> dict[int, str]:
    """Slot number → stack name, for every slot stack of the project in the backend."""
    found: dict[int, str] = {}
    for summary in workspace.list_stacks():
        number = slot_number(summary.name)
        if number is not None:
            found[number] = summary.name.rsplit("/", 1)[-1]
    return found


def read_tags(workspace: LocalWorkspace, stack: str) -> dict[str, str] | None:
    """The stack's tags; None when the stack is gone (removed meanwhile)."""
    from pulumi.automation.errors import StackNotFoundError

    try:
        tags = workspace.list_tags(stack)
    except StackNotFoundError:
        return None
    return {str(k): str(v) for k, v in (tags or {}).items()}


def list_slots(store: ClaimStore, workspace: LocalWorkspace) -> list[Slot]:
    """Every slot of the repository: claimed ones, and slot stacks of the project without a claim."""
    slots: dict[int, Slot] = {}
    for claim in store.slots():
        assert claim.slot is not None
        slots[claim.slot] = Slot(slot=claim.slot, stack=slot_stack(claim.slot), claim=claim)
    for number, name in slot_stacks(workspace).items():
        tags = read_tags(workspace, name)
        if tags is None:
            continue
        entry = slots.setdefault(number, Slot(slot=number, stack=name))
        entry.exists = True
        entry.tags = tags
    return [slots[number] for number in sorted(slots)]


def find_bound(store: ClaimStore, binding: Binding) -> Claim | None:
    """The lowest slot claimed for ``binding``, if any."""
    bound = [claim for claim in store.slots() if claim.binding == binding]
    return min(bound, key=lambda c: c.slot or 0) if bound else None


class NoFreeSlotError(ExternalError):
    """Every slot up to maxSlots is claimed: the same call may work after a cleanup (exit 1)."""


def ensure_slot(
    store: ClaimStore,
    workspace: LocalWorkspace,
    *,
    binding: Binding,
    max_slots: int,
    progress: Callable[[str], None] = lambda _: None,
    wait: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SlotClaim:
    """Reuse the slot claimed for ``binding``, else claim the lowest free one in ``1..max_slots``
    (``max_slots`` 0: no limit), then create its stack and tag it; roll back on any failure."""
    if max_slots < 0:
        raise CiError(f"maxSlots is {max_slots}: use 0 (no limit) or a positive number", hint="pass --max N")
    others = store.other_repositories()
    if others:
        raise CiError(
            f"Pulumi project {store.project!r} also holds slots of {', '.join(sorted(others))} on this cluster: "
            "their ai-slot-N stacks would be this repository's on a shared backend",
            hint="give each repository its own project name (name: in its Pulumi.yaml)",
        )
    bound = find_bound(store, binding)
    if bound is not None and not _claiming(store, binding):
        return _reuse(workspace, bound, binding)
    lock = _lock_binding(store, binding, wait=wait, sleep=sleep, clock=clock, progress=progress)
    try:
        bound = find_bound(store, binding)
        if bound is not None:
            return _reuse(workspace, bound, binding)
        return _claim_free(store, workspace, binding=binding, max_slots=max_slots, progress=progress)
    finally:
        store.release(lock)


def _claiming(store: ClaimStore, binding: Binding) -> Claim | None:
    """Another run's claiming lock for ``binding`` (it may be creating the slot's stack right now)."""
    return next((c for c in store.claims() if c.role == "claiming" and c.binding == binding), None)


def _lock_binding(
    store: ClaimStore,
    binding: Binding,
    *,
    wait: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Callable[[str], None],
) -> Claim:
    """Hold ``binding``'s claiming lock, waiting while another run holds it: that run may be
    between claiming the slot and finishing its stack, and its slot is reused once it is done."""
    end = clock() + wait
    told = False
    while True:
        lock = store.lock_binding(binding, now=now_utc())
        if lock is not None:
            return lock
        held = _claiming(store, binding)
        if held is not None and held.age(now_utc()) > CLAIMING_STALE_AFTER:
            progress(f"another run's claim for {binding} was abandoned {held.age(now_utc()):.0f}s ago: clearing it")
            store.release(held)
            continue
        if clock() >= end:
            raise ExternalError(
                f"another run has been claiming a slot for {binding} for more than {wait:.0f}s",
                hint="run again once it is done",
            )
        if not told:
            progress(f"another run is claiming a slot for {binding}: waiting for it")
            told = True
        sleep(1.0)


def _reuse(workspace: LocalWorkspace, claim: Claim, binding: Binding) -> SlotClaim:
    """The slot is ours already: its stack exists (it is created if a run stopped in between)."""
    assert claim.slot is not None
    from pulumi.automation.errors import StackAlreadyExistsError

    name = slot_stack(claim.slot)
    if read_tags(workspace, name) is None:
        with contextlib.suppress(StackAlreadyExistsError):  # made meanwhile by the run that claimed it
            workspace.create_stack(name)
        _tag(workspace, name, binding)
    else:
        workspace.set_tag(name, USED_TAG, format_time(now_utc()))
    return SlotClaim(stack=name, slot=claim.slot, reused=True, binding=binding)


def _tag(workspace: LocalWorkspace, name: str, binding: Binding) -> None:
    """Two tags, two backend round trips: the binding (repository included) and when it was used."""
    workspace.set_tag(name, BINDING_TAG, str(binding))
    workspace.set_tag(name, USED_TAG, format_time(now_utc()))


def _claim_free(
    store: ClaimStore,
    workspace: LocalWorkspace,
    *,
    binding: Binding,
    max_slots: int,
    progress: Callable[[str], None],
) -> SlotClaim:
    from pulumi.automation.errors import StackAlreadyExistsError

    taken = {claim.slot for claim in store.slots()}
    numbers = itertools.count(1) if max_slots == 0 else range(1, max_slots + 1)
    leftovers: list[str] = []
    for number in numbers:
        if number in taken:
            continue
        moment = now_utc()
        claim = store.claim_slot(number, binding, now=moment)
        if claim is None:
            continue  # another runner claimed it a moment ago
        name = slot_stack(number)
        created = False
        try:
            try:
                workspace.create_stack(name)
                created = True
            except StackAlreadyExistsError:
                tags = read_tags(workspace, name) or {}
                if tags.get(BINDING_TAG) != str(binding):
                    # a stack without a claim: a cleanup that stopped half-way, or a slot from before
                    # claims existed. Never hand it out; gc removes it (docs/operations.md).
                    leftovers.append(name)
                    progress(f"{name} exists without a claim (left by an unfinished cleanup): skipping it")
                    store.release(claim)
                    continue
            _tag(workspace, name, binding)
        except BaseException:
            _rollback(store, workspace, claim, name if created else None, progress)
            raise
        return SlotClaim(stack=name, slot=number, reused=False, binding=binding)
    note = f"; {', '.join(leftovers)} must be removed first (codexctl ci gc)" if leftovers else ""
    raise NoFreeSlotError(
        f"no free slot for {binding}: all {max_slots} slots of {binding.repository} are claimed{note}",
        hint="wait for a cleanup, run `codexctl ci gc --closed`, or raise maxSlots",
    )


def _rollback(
    store: ClaimStore, workspace: LocalWorkspace, claim: Claim, created: str | None, progress: Callable[[str], None]
) -> None:
    """Undo a claim that failed half-way: the stack it created, then the Lease."""
    from pulumi.automation.errors import CommandError

    if created is not None:
        try:
            workspace.remove_stack(created)
        except CommandError as exc:
            progress(f"rollback: removing {created} failed ({str(exc).strip().splitlines()[-1][:200]})")
    try:
        store.release(claim)
    except CiError as exc:
        progress(f"rollback: releasing {claim.name} failed ({exc.message}); gc will collect it")
