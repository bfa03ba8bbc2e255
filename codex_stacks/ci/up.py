"""``pulumi up`` as every workflow needs it: one update at a time, one deadline, a repair fallback.

* **One update at a time.** At the deadline the running CLI gets SIGINT (it cancels cleanly),
  then a second SIGINT, then SIGKILL as a last resort; the refresh and the fallback start only
  once the process is gone. ``pulumi cancel`` is never sent to a live update on a self-managed
  backend: there it only deletes the lock files while the update goes on (pulumi's diy
  CancelCurrentUpdate), and the fallback would update the stack beside it.
* **One deadline** (``--deadline``) covers the whole run: refreshes, retries, waits and the
  fallback, which keeps ``--fallback-reserve`` of it (a quarter by default).
* **Retries only for what passes**: a lock, the network, an API server's 5xx/429, an update cut
  short (codex_stacks/ci/failures.py). A resource that failed goes to the repair fallback at once.
* **Stale locks** (a killed run's) are cleared with a log line (codex_stacks/ci/locks.py).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pulumi.automation import ConfigValue, LocalWorkspace, Stack
from pulumi.automation.errors import CommandError

from codex_stacks.ci import locks
from codex_stacks.ci.errors import pulumi_error_line
from codex_stacks.ci.failures import TRANSIENT, EngineFailures, Kind, classify
from codex_stacks.ci.lastgood import LAST_GOOD_TAG, is_commit
from codex_stacks.ci.report import BrokenConfig, FailedComponent, InfraReport
from codex_stacks.ci.settings import StackSettings
from codex_stacks.ci.slots import MODE_TAG, RESULT_TAG, USED_TAG, format_time, now_utc, slot_number
from codex_stacks.ci.workspace import TrackedPulumiCommand, is_self_managed, select_or_create
from codex_stacks.plan.store import TARGETED_ENV

Outcome = Kind | Literal["succeeded", "deadline", "stopped"]
Result = Literal["succeeded", "repaired", "failed", "deadline", "interrupted"]
_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True, slots=True)
class UpPolicy:
    """How hard to try: attempts after the first (transient failures only), the first backoff
    (doubling, with jitter), the overall deadline, the grace after the first SIGINT, and the part
    of the deadline kept for the repair fallback (None: a quarter)."""

    retries: int = 3
    backoff: float = 10.0
    deadline: float | None = None
    grace: float = 300.0
    fallback_reserve: float | None = None

    def reserve(self) -> float:
        if self.deadline is None:
            return 0.0
        if self.fallback_reserve is not None:
            return min(self.fallback_reserve, self.deadline)
        return self.deadline / 4


@dataclass(frozen=True, slots=True)
class Attempt:
    mode: str
    number: int
    outcome: Outcome
    message: str = ""
    failed: tuple[FailedComponent, ...] = ()
    error: str = field(default="", repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "number": self.number, "outcome": self.outcome, "message": self.message}


@dataclass(slots=True)
class UpOutcome:
    stack: str
    mode: str
    result: Result
    infra_ready: bool
    attempts: list[Attempt] = field(default_factory=list)
    failed: list[FailedComponent] = field(default_factory=list)
    broken: BrokenConfig | None = None
    """services.yaml did not load: the repair set came from ``broken.commit`` (if any)."""

    def report(self) -> InfraReport:
        if self.broken is not None:
            where = f"{self.broken.file}:{self.broken.line}" if self.broken.line else self.broken.file
            done = (
                f"the repair set was deployed from commit {self.broken.commit[:12]}"
                if self.result == "repaired"
                else f"the repair set could not be deployed ({self.result})"
            )
            summary = f"{self.stack}: services.yaml is broken ({where}: {self.broken.message}); {done}"
            return InfraReport(healthy=False, failed=list(self.failed), summary=summary, services_yaml=self.broken)
        if self.infra_ready:
            return InfraReport(healthy=True, summary=f"{self.stack}: up succeeded in {self.mode} mode")
        last = next((a.message for a in reversed(self.attempts) if a.message), "")
        names = ", ".join(f.title for f in self.failed) or "unknown components"
        summary = {
            "repaired": f"{self.stack}: the full up failed ({names}); only the repair set was deployed",
            "failed": f"{self.stack}: up failed in {self.mode} mode ({names})",
            "deadline": f"{self.stack}: up was stopped at its deadline in {self.mode} mode",
            "interrupted": f"{self.stack}: up was interrupted (a signal to codexctl); nothing else was started",
            "succeeded": f"{self.stack}: only the repair set was deployed (repair mode)",
        }[self.result]
        return InfraReport(healthy=False, failed=list(self.failed), summary=f"{summary}. {last}".strip())


def failure_of(urn: str, reason: str) -> FailedComponent | None:
    """What a failed resource's URN names: a provider (``pulumi:providers:<pkg>``), a stack-level
    hook step (``hook/<stage>/<step>``), a hook step of an item (``<item>/hook/<stage>/<step>``)
    or an item's object (``<item>/…``); None for the Stack itself."""
    parts = urn.split("::")
    if len(parts) < 4:
        return None
    kind, name = parts[2].split("$")[-1], parts[-1]
    if kind == _STACK_TYPE or not name:
        return None
    if kind.startswith("pulumi:providers:"):
        return FailedComponent(component=name, reason=reason, kind="provider")
    if name.startswith("hook/"):
        return FailedComponent(component=name.removeprefix("hook/"), reason=reason, kind="stack hook")
    item, _, rest = name.partition("/")
    step = rest.removeprefix("hook/") if rest.startswith("hook/") else ""
    return FailedComponent(component=item, reason=reason, step=step)


def failed_components(events: EngineFailures) -> tuple[FailedComponent, ...]:
    found: dict[tuple[str, str], FailedComponent] = {}
    for failure in events.failures():
        reason = failure.message.splitlines()[0][:300] if failure.message else ""
        failed = failure_of(failure.urn, reason)
        if failed is None:
            continue
        key = (failed.kind, failed.component)
        known = found.get(key)
        # an item's own hook step names the cause better than its objects that failed after it
        if known is None or (not known.reason and reason) or (failed.step and not known.step):
            found[key] = failed
    if not found and events.program:
        found[("program", "stack")] = FailedComponent(
            component="stack", reason=events.program[0].splitlines()[0][:300], kind="program"
        )
    return tuple(found[key] for key in sorted(found, key=lambda k: (k[1], k[0])))


def with_project(urns: list[str], project: str) -> list[str]:
    """URNs made offline (project ``codex``) as the engine makes them for this Pulumi project."""
    fixed = []
    for urn in urns:
        parts = urn.split("::")
        if len(parts) >= 4:
            parts[1] = project
        fixed.append("::".join(parts))
    return fixed


class UpRunner:
    """Runs ``up`` on one stack under a policy; time, sleep and jitter are injectable for tests."""

    def __init__(
        self,
        *,
        workspace: LocalWorkspace,
        command: TrackedPulumiCommand,
        stack: str,
        settings: StackSettings,
        policy: UpPolicy,
        repair_targets: Callable[[], list[str]],
        progress: Callable[[str], None] = lambda _: None,
        output: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        commit: str | None = None,
        branch: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.branch = branch
        """The slot's branch (``codex:branch``): a pvc workspace's clone checks it out."""
        self.commit = commit
        """The project folder's commit: recorded as the last good one after a successful normal up."""
        self.command = command
        self.name = stack
        self.settings = settings
        self.policy = policy
        self.repair_targets = repair_targets
        self.progress = progress
        self.output = output
        """Each line pulumi prints while it works (its progress), streamed as it comes."""
        self.sleep = sleep
        """Waits between attempts; by default real time, cut short by a signal."""
        self.clock = clock
        self.jitter = jitter
        self.stopping: int | None = None
        """The signal codexctl got (forwarded to the CLI already): nothing new starts."""

    def on_signal(self, signum: int) -> None:
        if self.stopping is None:
            self.progress(f"signal {signum}: passed on to pulumi; waiting for it to end, nothing else starts")
        self.stopping = signum

    def run(self, *, mode: str, fallback_repair: bool) -> UpOutcome:
        stack = select_or_create(self.workspace, self.name)
        self._tag(USED_TAG, format_time(now_utc()))
        end = None if self.policy.deadline is None else self.clock() + self.policy.deadline
        falls_back = fallback_repair and mode == "normal"
        first_end = end - self.policy.reserve() if end is not None and falls_back else end
        attempts = self._run_mode(stack, mode=mode, until=first_end)
        outcome = self._outcome(mode=mode, attempts=attempts, falls_back=falls_back)
        if outcome is None:
            last = attempts[-1]
            self.progress("full up failed: falling back to the repair set")
            refresh = last.outcome in ("deadline", "interrupted")
            repair = self._run_mode(stack, mode="repair", until=end, refresh_first=refresh)
            failed = list(last.failed) or [FailedComponent(component="stack", reason=last.message)]
            if self.stopping is not None:
                result: Result = "interrupted"
            elif repair[-1].outcome == "succeeded":
                result = "repaired"
            else:
                result = "deadline" if repair[-1].outcome == "deadline" else "failed"
            outcome = UpOutcome(
                stack=self.name,
                mode="repair",
                result=result,
                infra_ready=False,
                attempts=attempts + repair,
                failed=failed,
            )
        self._tag(RESULT_TAG, outcome.result)
        self._tag(MODE_TAG, outcome.mode)
        if outcome.mode == "normal" and outcome.result == "succeeded" and self.commit and self.stopping is None:
            try:  # every stack, not only slots: a broken services.yaml is repaired from here
                self.workspace.set_tag(self.name, LAST_GOOD_TAG, self.commit)
            except CommandError as exc:
                self.progress(f"could not record the last good commit of {self.name}: {pulumi_error_line(exc)}")
        return outcome

    def last_good(self) -> str | None:
        """The commit of this stack's last successful normal up, if one was recorded."""
        try:
            value = self.workspace.get_tag(self.name, LAST_GOOD_TAG)
        except CommandError:
            return None  # no such stack or no such tag
        return value if isinstance(value, str) and is_commit(value.strip()) else None

    def _outcome(self, *, mode: str, attempts: list[Attempt], falls_back: bool) -> UpOutcome | None:
        """The outcome of the first mode, or None when the repair fallback is to run."""
        last = attempts[-1]
        if last.outcome == "succeeded":
            return UpOutcome(
                stack=self.name, mode=mode, result="succeeded", infra_ready=mode == "normal", attempts=attempts
            )
        failed = list(last.failed) or [FailedComponent(component="stack", reason=last.message)]
        if self.stopping is not None or not falls_back:
            result: Result = "interrupted" if self.stopping is not None else "failed"
            if result == "failed" and last.outcome == "deadline":
                result = "deadline"
            return UpOutcome(
                stack=self.name, mode=mode, result=result, infra_ready=False, attempts=attempts, failed=failed
            )
        return None

    def _tag(self, key: str, value: str) -> None:
        """Slot stacks carry when they were used and how the last up ended (``ci slots`` shows it)."""
        if slot_number(self.name) is None or self.stopping is not None:
            return
        try:
            self.workspace.set_tag(self.name, key, value)
        except CommandError as exc:
            self.progress(f"could not tag {self.name} ({key}): {pulumi_error_line(exc)}")

    def _left(self, until: float | None) -> float | None:
        return None if until is None else until - self.clock()

    def _run_mode(self, stack: Stack, *, mode: str, until: float | None, refresh_first: bool = False) -> list[Attempt]:
        """Every attempt of one mode until ``until``; the mode is always set explicitly, the project
        folder only when the command line gave one (else the stack file's stays in force)."""
        stack.set_config("codex:mode", ConfigValue(value=mode))
        if self.settings.explicit_project_dir is not None:
            stack.set_config("codex:projectDir", ConfigValue(value=str(self.settings.explicit_project_dir)))
        if self.branch is not None:
            # only when known: a change of the init container's environment restarts the agent's pod
            # (stack rm at cleanup removes the stack's config with the slot)
            stack.set_config("codex:branch", ConfigValue(value=self.branch))
        targets = self.repair_targets() if mode == "repair" else None
        # The program registers the repair store again unless told the run passes the repair set's
        # targets (docs/repair.md); a targeted run needs no store, so a stack never deployed
        # normally can still be repaired.
        env = dict(self.workspace.env_vars or {})
        if targets is not None:
            env[TARGETED_ENV] = "1"
        else:
            env.pop(TARGETED_ENV, None)
        self.workspace.env_vars = env
        attempts: list[Attempt] = []
        needs_refresh = refresh_first
        number = 0
        while True:
            number += 1
            if self.stopping is not None:
                attempts.append(Attempt(mode=mode, number=number, outcome="stopped", message="interrupted"))
                break
            if needs_refresh:
                needs_refresh = False
                if not self._refresh(stack, until=until):
                    attempts.append(
                        Attempt(mode=mode, number=number, outcome="deadline", message="deadline reached in refresh")
                    )
                    break
            left = self._left(until)
            if left is not None and left <= 0:
                attempts.append(Attempt(mode=mode, number=number, outcome="deadline", message="deadline reached"))
                break
            self.progress(f"{mode} up of {self.name}: attempt {number}/{self.policy.retries + 1}")
            attempt = self._attempt(stack=stack, mode=mode, number=number, targets=targets, until=until)
            attempts.append(attempt)
            if attempt.outcome not in TRANSIENT or number > self.policy.retries or self.stopping is not None:
                break
            if attempt.outcome == "locked":
                self._clear_stale_locks(attempt.error)
            needs_refresh = attempt.outcome == "interrupted"
            delay = self.policy.backoff * 2 ** (number - 1)
            delay = delay / 2 + self.jitter() * delay / 2
            left = self._left(until)
            if left is not None:
                delay = max(0.0, min(delay, left))
            self.progress(f"{attempt.outcome}: {attempt.message}; retrying in {delay:.0f}s")
            self._pause(delay)
        return attempts

    def _pause(self, seconds: float) -> None:
        """Wait between attempts, waking up for a signal."""
        if self.sleep is not None:
            self.sleep(seconds)
            return
        end = time.monotonic() + seconds
        while self.stopping is None and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.5))

    def _supervise(self, work: Callable[[], None], *, until: float | None) -> str | None:
        """Run ``work`` (one CLI operation) in a thread; at ``until`` stop the CLI and wait until it
        is gone. Returns how it was stopped, or None when it ended by itself."""
        worker = threading.Thread(target=work, name=f"pulumi-{self.name}", daemon=True)
        worker.start()
        while worker.is_alive():
            left = self._left(until)
            if left is not None and left <= 0 and self.stopping is None:
                stopped = self.command.stop(grace=self.policy.grace, progress=self.progress)
                worker.join()
                if stopped == "killed" and not is_self_managed():
                    self._cancel_on_service()
                return stopped
            worker.join(0.2 if left is None else max(0.01, min(0.2, left)))
        return None

    def _cancel_on_service(self) -> None:
        """Pulumi Cloud keeps a killed CLI's update open until it is cancelled there; the process is
        gone, so ``pulumi cancel`` ends nothing but that record."""
        try:
            Stack.select(self.name, self.workspace).cancel()
            self.progress("the killed update was cancelled on the Pulumi service")
        except CommandError as exc:
            self.progress(f"pulumi cancel: {pulumi_error_line(exc)}")

    def _attempt(
        self, *, stack: Stack, mode: str, number: int, targets: list[str] | None, until: float | None
    ) -> Attempt:
        events = EngineFailures()
        box: dict[str, BaseException] = {}

        def work() -> None:
            try:
                # continue_on_error: one failing group must not hold back the others (README);
                # the CLI then still runs every resource that does not depend on the failure.
                stack.up(
                    target=targets,
                    color="never",
                    on_event=events,
                    on_output=self.output,
                    on_error=self.output,
                    continue_on_error=True,
                )
            except BaseException as exc:
                box["error"] = exc

        stopped = self._supervise(work, until=until)
        if stopped is not None:
            return Attempt(
                mode=mode,
                number=number,
                outcome="deadline",
                message=f"deadline reached: pulumi {stopped} (the update was stopped, not cancelled behind its back)",
                failed=failed_components(events),
            )
        error = box.get("error")
        if error is None:
            return Attempt(mode=mode, number=number, outcome="succeeded")
        if not isinstance(error, CommandError):
            raise error
        kind: Outcome = "stopped" if self.stopping is not None else classify(error, events)
        return Attempt(
            mode=mode,
            number=number,
            outcome=kind,
            message=pulumi_error_line(error),
            failed=failed_components(events),
            error=str(error),
        )

    def _refresh(self, stack: Stack, *, until: float | None) -> bool:
        """An interrupted run leaves pending operations; a refresh clears them. False at the deadline."""
        self.progress(f"refreshing {self.name} to clear pending operations")
        box: dict[str, BaseException] = {}

        def work() -> None:
            try:
                stack.refresh(clear_pending_creates=True, color="never", on_output=self.output, on_error=self.output)
            except BaseException as exc:
                box["error"] = exc

        if self._supervise(work, until=until) is not None:
            return False
        error = box.get("error")
        if isinstance(error, CommandError):
            self.progress(f"refresh failed: {pulumi_error_line(error)}")
        elif error is not None:
            raise error
        return True

    def _clear_stale_locks(self, text: str) -> None:
        clear_stale_locks(
            text,
            stack=self.name,
            workspace=self.workspace,
            command=self.command,
            max_age=None if self.policy.deadline is None else self.policy.deadline + self.policy.grace,
            progress=self.progress,
        )


def clear_stale_locks(
    text: str,
    *,
    stack: str,
    workspace: LocalWorkspace,
    command: TrackedPulumiCommand,
    max_age: float | None,
    progress: Callable[[str], None],
) -> bool:
    """Clear the locks a "locked" error names when every one of them is stale; True if cleared."""
    found = locks.parse_locks(text)
    if not found:
        return False
    now = datetime.now(UTC)
    reasons = [locks.stale_reason(lock, now=now, max_age=max_age) for lock in found]
    if not all(reasons):
        live = [lock.describe() for lock, reason in zip(found, reasons, strict=True) if reason is None]
        progress(f"{stack} is locked by a running update ({'; '.join(live)}): waiting for it")
        return False
    for lock, reason in zip(found, reasons, strict=True):
        progress(f"clearing a stale lock of {stack}: {lock.describe()}: {reason}")
    paths = [locks.file_path(lock) for lock in found]
    if all(path is not None for path in paths):
        for path in paths:
            if path is not None:
                path.unlink(missing_ok=True)
        return True
    if command.running():
        return False
    try:
        Stack.select(stack, workspace).cancel()  # deletes the stack's lock files; every one is stale
    except CommandError as exc:
        progress(f"pulumi cancel: {pulumi_error_line(exc)}")
        return False
    return True
