"""The lifecycle every hook step shares: when it runs, re-runs, times out, or only warns."""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any

from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

PROVIDER_KEY = "__provider"
DESTROY_STAGES = frozenset({"beforeDestroy", "afterDestroy"})
INPUT_KEYS = (
    "step",
    "stage",
    "component",
    "action",
    "params",
    "timeout",
    "continue_on_error",
    "guard",
    "secrets",
    "run",
)
"""Inputs whose change re-runs the step; an ``always`` step gets a new ``run`` token every run."""


class HookError(Exception):
    """A step could not do its work; the message is for the user and never holds a secret."""


class StepRun:
    """One call of a step: its inputs, its deadline, and the warnings it collected."""

    def __init__(self, props: dict[str, Any]) -> None:
        self.props = props
        self.params: dict[str, Any] = dict(props.get("params") or {})
        self.secrets: dict[str, Any] = dict(props.get("secrets") or {})
        self.tuning: dict[str, Any] = dict(props.get("tuning") or {})
        self.timeout = float(props.get("timeout") or 600)
        self.deadline = time.monotonic() + self.timeout
        self.warnings: list[str] = []
        self.label = f"hook {props.get('component') or 'stack'}/{props.get('stage')}/{props.get('step')}"

    def remaining(self) -> float:
        """Seconds left before the step's ``timeout``."""
        return max(0.0, self.deadline - time.monotonic())

    def check_deadline(self, what: str) -> None:
        """Fail with a clear message once the step's timeout has passed."""
        if self.remaining() <= 0:
            raise HookError(f"{what}: timed out after {self.timeout:g}s (the step's timeout)")

    def sleep(self, seconds: float) -> None:
        """Sleep, but never past the deadline."""
        time.sleep(max(0.0, min(seconds, self.remaining())))

    def warn(self, message: str) -> None:
        """A warning the engine shows (provider stderr, written line by line: Python line-buffers
        stderr and the engine's provider host runs ``python -u``) and the state keeps (``warnings``)."""
        self.warnings.append(message)
        print(f"warning: {self.label}: {message}", file=sys.stderr)


class HookProvider(ResourceProvider):
    """Create and update run the step (delete, for destroy stages); diff decides re-runs.

    Destroy stages do their work in ``delete``: the Pulumi layer orders the step's resource so
    that the engine deletes it right before (beforeDestroy) or after (afterDestroy) the
    component's objects. Subclasses implement :meth:`work` and, if they undo something on
    destroy, :meth:`cleanup`.
    """

    def work(self, run: StepRun) -> dict[str, Any]:
        """Do the step's work; return what to keep in state (nothing secret)."""
        raise HookError("this step has no work")  # the error names the step (_guarded)

    def cleanup(self, run: StepRun) -> dict[str, Any]:
        """Undo on destroy of an apply-stage step; most steps leave things as they are."""
        return {}

    # -- the dynamic provider interface

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Inputs were validated when services.yaml loaded; pass them on."""
        return CheckResult(news, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Changed inputs or guarded objects re-run the step in place; an ``always`` step's ``run``
        token is new on every run, so it re-runs (registered again from a repair store it keeps
        its token, and does not)."""
        changed = [key for key in INPUT_KEYS if key in news and olds.get(key) != news.get(key)]
        # Never replace (no input is named as needing one): a replace would delete the old step,
        # which for destroy stages runs it.
        return DiffResult(changes=bool(changed))

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Run an apply-stage step; arm a destroy-stage step."""
        run = StepRun(props)
        result = {"armed": True} if props.get("stage") in DESTROY_STAGES else self._guarded(run, self.work)
        return CreateResult(f"{props['step']}-{uuid.uuid4().hex[:12]}", self._outputs(run, result))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Re-run an apply-stage step with its new inputs; re-arm a destroy-stage step."""
        run = StepRun(news)
        result = {"armed": True} if news.get("stage") in DESTROY_STAGES else self._guarded(run, self.work)
        return UpdateResult(self._outputs(run, result))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Run a destroy-stage step; let an apply-stage step clean up after itself."""
        run = StepRun(props)
        action = self.work if props.get("stage") in DESTROY_STAGES else self.cleanup
        self._guarded(run, action)

    # -- internals

    @staticmethod
    def _guarded(run: StepRun, action: Any) -> dict[str, Any]:
        """Run ``action``; a failure is an error, or a warning with ``continueOnError``."""
        try:
            result: dict[str, Any] = action(run)
        except Exception as error:
            message = str(error) if isinstance(error, HookError) else f"{type(error).__name__}: {error}"
            if run.props.get("continue_on_error"):
                run.warn(f"failed, continuing (continueOnError): {message}")
                return {"failed": message}
            raise HookError(f"{run.label} failed: {message}") from None
        return result

    @staticmethod
    def _outputs(run: StepRun, result: dict[str, Any]) -> dict[str, Any]:
        """Inputs (so diff sees them next time) plus the result; secret keys stay secret."""
        outputs = {key: value for key, value in run.props.items() if key != PROVIDER_KEY}
        outputs["result"] = result
        outputs["warnings"] = list(run.warnings)
        return outputs
