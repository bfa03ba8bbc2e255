"""``pulumi up`` as every workflow needs it: retries, backoff, a soft deadline, a repair fallback.

The seed's point: each project's workflow had its own retry loop around ``apply`` and its own
``kubectl wait`` with backoff. This is the one tested implementation they call instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pulumi.automation import ConfigValue, LocalWorkspace, Stack
from pulumi.automation.errors import CommandError, CompilationError, ConcurrentUpdateError, RuntimeError
from pulumi.automation.events import EngineEvent

from codex_stacks.ci.errors import pulumi_error_line
from codex_stacks.ci.report import FailedComponent, InfraReport
from codex_stacks.ci.slots import USED_TAG, format_time, now_utc, slot_number
from codex_stacks.ci.workspace import TrackedPulumiCommand, select_or_create

Outcome = Literal["succeeded", "locked", "pending", "failed", "broken", "deadline"]
Result = Literal["succeeded", "repaired", "failed", "deadline"]
_PENDING_MARKERS = ("pending operations", "interrupted while", "pending_operations")
_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True, slots=True)
class UpPolicy:
    """How hard to try: attempts after the first, backoff base, soft deadline, grace after cancelling."""

    retries: int = 3
    backoff: float = 10.0
    deadline: float | None = None
    grace: float = 300.0


@dataclass(frozen=True, slots=True)
class Attempt:
    mode: str
    number: int
    outcome: Outcome
    message: str = ""
    failed: tuple[FailedComponent, ...] = ()


@dataclass(slots=True)
class UpOutcome:
    stack: str
    mode: str
    result: Result
    infra_ready: bool
    attempts: list[Attempt] = field(default_factory=list)
    failed: list[FailedComponent] = field(default_factory=list)

    def report(self) -> InfraReport:
        if self.infra_ready:
            return InfraReport(healthy=True, summary=f"{self.stack}: up succeeded in {self.mode} mode")
        last = next((a.message for a in reversed(self.attempts) if a.message), "")
        names = ", ".join(f.component for f in self.failed) or "unknown components"
        summary = {
            "repaired": f"{self.stack}: the full up failed ({names}); only the repair set was deployed",
            "failed": f"{self.stack}: up failed in {self.mode} mode ({names})",
            "deadline": f"{self.stack}: up was cancelled at its deadline in {self.mode} mode",
            "succeeded": f"{self.stack}: only the repair set was deployed (repair mode)",
        }[self.result]
        return InfraReport(healthy=False, failed=list(self.failed), summary=f"{summary}. {last}".strip())


def component_of(urn: str) -> str | None:
    """The services.yaml item a URN belongs to: components are named after it, children ``<item>/…``."""
    parts = urn.split("::")
    if len(parts) < 4 or parts[2].split("$")[-1] == _STACK_TYPE:
        return None
    return parts[-1].split("/", 1)[0] or None


def one_line(error: CommandError) -> str:
    """The most telling line of a failed CLI run (its last ``error:`` line)."""
    return pulumi_error_line(error)


def classify(error: CommandError) -> Outcome:
    text = str(error)
    if isinstance(error, ConcurrentUpdateError):
        return "locked"
    if any(marker in text for marker in _PENDING_MARKERS):
        return "pending"
    if isinstance(error, (RuntimeError, CompilationError)):
        return "broken"
    return "failed"


class _Failures:
    """Collects the failed resources from the engine's events, grouped by component."""

    def __init__(self) -> None:
        self.by_component: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, event: EngineEvent) -> None:
        urn, reason = None, ""
        if event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
            urn, reason = event.diagnostic_event.urn, event.diagnostic_event.message.strip()
        elif event.res_op_failed_event is not None:
            urn, reason = event.res_op_failed_event.metadata.urn, "resource operation failed"
        component = component_of(urn) if urn else None
        if component is None:
            return
        with self._lock:
            if component not in self.by_component or not self.by_component[component]:
                self.by_component[component] = reason.splitlines()[0][:300] if reason else ""

    def items(self) -> tuple[FailedComponent, ...]:
        with self._lock:
            return tuple(FailedComponent(component=c, reason=r) for c, r in sorted(self.by_component.items()))


class UpRunner:
    """Runs ``up`` on one stack with a policy; time and sleep are injectable so tests stay fast."""

    def __init__(
        self,
        *,
        workspace: LocalWorkspace,
        command: TrackedPulumiCommand,
        stack: str,
        project_dir: Path,
        policy: UpPolicy,
        repair_targets: Callable[[], list[str]],
        progress: Callable[[str], None] = lambda _: None,
        output: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workspace = workspace
        self.command = command
        self.name = stack
        self.project_dir = project_dir
        self.policy = policy
        self.repair_targets = repair_targets
        self.progress = progress
        self.output = output
        """Each line pulumi prints while it works (its progress), streamed as it comes."""
        self.sleep = sleep
        self.clock = clock

    def run(self, *, mode: str, fallback_repair: bool) -> UpOutcome:
        stack = select_or_create(self.workspace, self.name)
        self._touch()
        attempts = self._run_mode(stack, mode=mode)
        last = attempts[-1]
        if last.outcome == "succeeded":
            return UpOutcome(
                stack=self.name, mode=mode, result="succeeded", infra_ready=mode == "normal", attempts=attempts
            )
        failed = list(last.failed) or [FailedComponent(component="stack", reason=last.message)]
        if not (fallback_repair and mode == "normal"):
            result: Result = "deadline" if last.outcome == "deadline" else "failed"
            return UpOutcome(
                stack=self.name, mode=mode, result=result, infra_ready=False, attempts=attempts, failed=failed
            )
        self.progress("full up failed: falling back to the repair set")
        repair = self._run_mode(stack, mode="repair")
        result = "repaired" if repair[-1].outcome == "succeeded" else "failed"
        return UpOutcome(
            stack=self.name, mode="repair", result=result, infra_ready=False, attempts=attempts + repair, failed=failed
        )

    def _touch(self) -> None:
        if slot_number(self.name) is not None:
            self.workspace.set_tag(self.name, USED_TAG, format_time(now_utc()))

    def _run_mode(self, stack: Stack, *, mode: str) -> list[Attempt]:
        """Every attempt of one mode, under one deadline; the mode is always set explicitly."""
        stack.set_config("codex:mode", ConfigValue(value=mode))
        stack.set_config("codex:projectDir", ConfigValue(value=str(self.project_dir)))
        targets = self.repair_targets() if mode == "repair" else None
        deadline_at = None if self.policy.deadline is None else self.clock() + self.policy.deadline
        attempts: list[Attempt] = []
        refresh_first = False
        for number in range(1, self.policy.retries + 2):
            if refresh_first:
                self._refresh(stack)
            remaining = None if deadline_at is None else deadline_at - self.clock()
            if remaining is not None and remaining <= 0:
                attempts.append(Attempt(mode=mode, number=number, outcome="deadline", message="deadline reached"))
                break
            self.progress(f"{mode} up of {self.name}: attempt {number}/{self.policy.retries + 1}")
            attempt = self._attempt(stack=stack, mode=mode, number=number, targets=targets, remaining=remaining)
            attempts.append(attempt)
            if attempt.outcome in ("succeeded", "deadline", "broken") or number > self.policy.retries:
                break
            refresh_first = attempt.outcome == "pending"
            delay = self.policy.backoff * 2 ** (number - 1)
            if deadline_at is not None:
                delay = max(0.0, min(delay, deadline_at - self.clock()))
            self.progress(f"{attempt.outcome}: {attempt.message}; retrying in {delay:.0f}s")
            self.sleep(delay)
        return attempts

    def _refresh(self, stack: Stack) -> None:
        """An interrupted run leaves pending operations; a refresh that clears them lets ``up`` go on."""
        self.progress(f"refreshing {self.name} to clear pending operations")
        try:
            stack.refresh(clear_pending_creates=True, color="never")
        except CommandError as exc:
            self.progress(f"refresh failed: {one_line(exc)}")

    def _attempt(
        self, *, stack: Stack, mode: str, number: int, targets: list[str] | None, remaining: float | None
    ) -> Attempt:
        failures = _Failures()
        box: dict[str, BaseException] = {}

        def work() -> None:
            try:
                # continue_on_error: one failing group must not hold back the others (SPEC §4.3);
                # the CLI then still schedules every resource that does not depend on the failure.
                stack.up(
                    target=targets,
                    color="never",
                    on_event=failures,
                    on_output=self.output,
                    on_error=self.output,
                    continue_on_error=True,
                )
            except BaseException as exc:
                box["error"] = exc

        worker = threading.Thread(target=work, name=f"pulumi-up-{self.name}", daemon=True)
        worker.start()
        worker.join(remaining)
        if worker.is_alive():
            self._cancel(stack, worker)
            return Attempt(
                mode=mode, number=number, outcome="deadline", message="soft deadline reached: update cancelled"
            )
        error = box.get("error")
        if error is None:
            return Attempt(mode=mode, number=number, outcome="succeeded")
        if not isinstance(error, CommandError):
            raise error
        return Attempt(
            mode=mode, number=number, outcome=classify(error), message=one_line(error), failed=failures.items()
        )

    def _cancel(self, stack: Stack, worker: threading.Thread) -> None:
        """Soft deadline: interrupt the CLI like Ctrl-C, then ``pulumi cancel`` if it is still busy; never kill."""
        self.progress(f"deadline reached: interrupting the update of {self.name}")
        if self.command.interrupt(subcommand="up"):
            worker.join(self.policy.grace)
        if not worker.is_alive():
            return
        self.progress(f"still running after {self.policy.grace:.0f}s: pulumi cancel")
        try:
            stack.cancel()
        except CommandError as exc:
            self.progress(f"cancel: {one_line(exc)}")
        worker.join(self.policy.grace)
