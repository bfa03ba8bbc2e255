"""Remove a slot and everything it held, in the one safe order, on close or by gc.

1. delete the slot's namespace and wait until it is gone (a slot handed out again must not
   inherit a terminating namespace, its PVCs or its secrets);
2. destroy the stack (lock conflicts and other transient failures retried, as ``ci up`` does)
   and remove it;
3. delete the slot's host data dir (only inside ``dataPaths.root``, never through a symbolic
   link: codex_stacks.hostdirs);
4. release the claim — last, so the slot is free only when nothing of it is left.

A step that fails stops the cleanup there, keeping what comes after (the claim above all): a
rerun or gc finishes the job. A namespace still terminating at the end of the wait keeps the
stack and the claim, when there are any; with neither left (a rerun after the rest was removed)
there is nothing to keep back, so the data dir goes and the cleanup ends saying the namespace
is still terminating. Stacks that are not slots (staging, dev) are destroyed and removed, and
keep their namespace and data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pulumi.automation import LocalWorkspace, Stack
from pulumi.automation.errors import CommandError, StackNotFoundError

from codex_stacks.ci.durations import human_duration
from codex_stacks.ci.errors import CiError, ExternalError, pulumi_error_line
from codex_stacks.ci.failures import TRANSIENT, classify
from codex_stacks.ci.namespaces import NamespaceRemoval, delete_namespace
from codex_stacks.ci.settings import StackSettings
from codex_stacks.ci.slots import CLAIMING_STALE_AFTER, Binding, Slot, slot_number
from codex_stacks.hostdirs import HostDirError, is_inside, remove_tree_nofollow, root_problem

if TYPE_CHECKING:
    from codex_stacks.ci.claims import Claim, ClaimStore
    from codex_stacks.ci.workspace import TrackedPulumiCommand
    from codex_stacks.plan import Target


@dataclass(frozen=True, slots=True)
class Removal:
    stack: str
    data_dir: Path | None
    note: str = ""
    namespace: NamespaceRemoval | None = None
    released: str | None = None
    """The claim (Lease) released, if the slot had one."""


def safe_data_dir(*, root: str, env_dir: str) -> Path:
    """``env_dir`` if its text names a folder strictly inside a root data may live in (never
    ``/``, never a system folder: codex_stacks.hostdirs); checked before anything is deleted.
    The folders themselves are checked again, link by link, when it is removed."""
    problem = root_problem(root)
    if problem is not None or not is_inside(env_dir, root):
        why = problem or f"not strictly inside dataPaths.root {root}"
        raise CiError(
            f"refusing to delete data dir {env_dir}: {why}", hint="check dataPaths.root/envDir in services.yaml"
        )
    return Path(env_dir)


def remove_data_dir(*, root: str, data_dir: Path) -> bool:
    """Delete the slot's data dir without following a symbolic link (a link at the folder itself
    is removed, one on the way down is refused); False when it was not there."""
    try:
        return remove_tree_nofollow(root, str(data_dir))
    except HostDirError as exc:
        raise CiError(
            f"refusing to delete data dir {data_dir}: {exc}", hint="check dataPaths.root/envDir in services.yaml"
        ) from None
    except OSError as exc:
        raise ExternalError(f"deleting data dir {data_dir} failed: {exc.strerror or exc}") from None


def slot_target(settings: StackSettings) -> Target | None:
    """The resolved target of a slot stack (env ``ai`` with a slot), from the stack's own settings;
    None for every other stack."""
    from codex_stacks.plan.target import SLOT_ENVIRONMENT

    if slot_number(settings.stack) is None:
        return None
    target = settings.target(mode="normal")
    return target if target.is_slot and target.env == SLOT_ENVIRONMENT else None


def _namespace_output(handle: Stack) -> str | None:
    """The ``namespace`` output of the last successful update ({} for a stack never deployed)."""
    try:
        outputs = handle.outputs()
    except CommandError:
        return None
    value = outputs.get("namespace")
    return value.value if value is not None and isinstance(value.value, str) and value.value else None


@dataclass(frozen=True, slots=True)
class DestroyPolicy:
    retries: int = 3
    backoff: float = 10.0
    lock_max_age: float | None = None
    """A foreign lock older than this is stale (None: only this host's dead processes' are)."""


def destroy(
    handle: Stack,
    *,
    stack: str,
    workspace: LocalWorkspace,
    command: TrackedPulumiCommand | None,
    policy: DestroyPolicy,
    progress: Callable[[str], None],
    sleep: Callable[[float], None],
    interrupted: Callable[[], bool] = lambda: False,
) -> None:
    """``pulumi destroy``, retrying transient failures (locks, network) like ``ci up``; after a
    signal to codexctl (passed on to pulumi) nothing is tried again."""
    from codex_stacks.ci.up import clear_stale_locks

    for attempt in range(policy.retries + 1):
        try:
            handle.destroy(color="never", continue_on_error=True)
            return
        except CommandError as exc:
            if interrupted():
                raise ExternalError(f"destroy of {stack} was interrupted (a signal to codexctl)") from None
            kind = classify(exc)
            if kind not in TRANSIENT or attempt == policy.retries:
                if kind == "locked":
                    raise ExternalError(f"{stack} stayed locked by another update; not destroyed") from None
                raise ExternalError(f"destroy of {stack} failed: {pulumi_error_line(exc)}") from None
            if kind == "locked" and command is not None:
                clear_stale_locks(
                    str(exc),
                    stack=stack,
                    workspace=workspace,
                    command=command,
                    max_age=policy.lock_max_age,
                    progress=progress,
                )
            delay = policy.backoff * 2**attempt
            progress(f"destroy of {stack}: {kind}; retrying in {delay:.0f}s")
            sleep(delay)


def remove_slot(
    workspace: LocalWorkspace,
    *,
    settings: StackSettings,
    claim: Claim | None = None,
    store: ClaimStore | None = None,
    command: TrackedPulumiCommand | None = None,
    keep_data: bool = False,
    keep_namespace: bool = False,
    namespace_timeout: float = 300.0,
    policy: DestroyPolicy | None = None,
    progress: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
    remove_namespace: Callable[..., NamespaceRemoval] = delete_namespace,
    interrupted: Callable[[], bool] = lambda: False,
) -> Removal:
    """Namespace (and wait), destroy + ``stack rm``, data dir, claim: in that order."""
    stack = settings.stack
    target = slot_target(settings)
    data_dir = (
        None if keep_data or target is None else safe_data_dir(root=target.storage.root, env_dir=target.storage.env_dir)
    )
    try:
        handle: Stack | None = Stack.select(stack, workspace)
    except StackNotFoundError:
        handle = None
    removed_namespace = None
    if target is not None and not keep_namespace:
        namespace = (_namespace_output(handle) if handle is not None else None) or target.namespace
        progress(f"deleting namespace {namespace} and waiting for it to go")
        removed_namespace = remove_namespace(
            namespace, context=target.environment.kube_context, timeout=namespace_timeout
        )
        if removed_namespace.state == "terminating":
            kept = [stack] if handle is not None else []
            if claim is not None:
                kept.append("its claim" if kept else f"the claim of {stack}")
            if kept:
                verb = "are" if len(kept) > 1 else "is"
                raise ExternalError(
                    f"{removed_namespace.describe()}: {' and '.join(kept)} {verb} kept until it is gone",
                    hint="look for finalizers (kubectl get namespace -o yaml), then run the cleanup again",
                )
            progress(
                f"{removed_namespace.describe()}; nothing else of {stack} is left to keep back (no stack, no claim): "
                "look for finalizers (kubectl get namespace -o yaml)"
            )
    if handle is not None:
        progress(f"destroying {stack}")
        destroy(
            handle,
            stack=stack,
            workspace=workspace,
            command=command,
            policy=policy or DestroyPolicy(),
            progress=progress,
            sleep=sleep,
            interrupted=interrupted,
        )
        try:
            workspace.remove_stack(stack)
        except CommandError as exc:
            raise ExternalError(f"removing stack {stack} failed: {pulumi_error_line(exc)}") from None
    if data_dir is not None and target is not None:
        remove_data_dir(root=target.storage.root, data_dir=data_dir)
    released = None
    if claim is not None and store is not None:
        store.release(claim)
        released = claim.name
    note = "" if handle is not None else "stack did not exist"
    return Removal(stack=stack, data_dir=data_dir, note=note, namespace=removed_namespace, released=released)


@dataclass(frozen=True, slots=True)
class GcCandidate:
    slot: Slot
    reason: str
    kind: str = "slot"
    """``slot`` (remove the slot), ``claim`` (a claim without a stack: release it only)."""


@dataclass(frozen=True, slots=True)
class GcProblem:
    """A slot gc could not decide or remove, and why (gc goes on with the others)."""

    stack: str
    error: CiError


def gc_candidates(
    slots: list[Slot],
    *,
    repository: str,
    now: datetime,
    older_than: float | None,
    orphan_age: float,
    is_closed: Callable[[Binding], bool] | None,
) -> tuple[list[GcCandidate], list[GcProblem]]:
    """What gc removes: slots idle longer than ``older_than``, slots bound to a closed issue/PR,
    claims without a stack and stacks without a claim (of this repository) older than ``orphan_age``.

    A failed lookup (GitHub unreachable, 404, …) is a problem of that slot only.
    """
    picked: list[GcCandidate] = []
    problems: list[GcProblem] = []
    for slot in slots:
        claimed = slot.claimed_at
        if slot.claim is not None and not slot.exists:
            age = slot.claim.age(now)
            if age > orphan_age:
                picked.append(GcCandidate(slot, f"claimed {human_duration(age)} ago but no stack", kind="claim"))
            continue
        if slot.claim is None:
            if slot.repository != repository:
                continue  # not this repository's (or from before claims): never removed by gc
            used = slot.last_used
            age = (now - used).total_seconds() if used else float("inf")
            if age > orphan_age:
                picked.append(GcCandidate(slot, f"stack without a claim, unused for {human_duration(age)}"))
            continue
        if older_than is not None:
            used = slot.last_used or claimed
            if used is not None and (idle := (now - used).total_seconds()) > older_than:
                picked.append(GcCandidate(slot, f"idle for {human_duration(idle)}"))
                continue
        binding = slot.binding
        if is_closed is not None and binding is not None:
            try:
                closed = is_closed(binding)
            except CiError as exc:
                problems.append(GcProblem(stack=slot.stack, error=exc))
                continue
            if closed:
                picked.append(GcCandidate(slot, f"{binding.short} is closed"))
    return picked, problems


def stale_claiming_locks(claims: list[Claim], *, now: datetime) -> list[Claim]:
    """Claiming locks of runs that stopped mid-claim (older than CLAIMING_STALE_AFTER)."""
    return [claim for claim in claims if claim.role == "claiming" and claim.age(now) > CLAIMING_STALE_AFTER]
