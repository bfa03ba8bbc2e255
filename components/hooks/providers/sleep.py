"""``sleep``: wait a fixed time (bounded by the step's timeout)."""

from __future__ import annotations

from typing import Any

from codex_stacks.components.hooks.providers.base import HookProvider, StepRun


class SleepProvider(HookProvider):
    """Give something outside the stack time to settle."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """Sleep ``seconds``; a sleep longer than the step's timeout is cut short with an error."""
        seconds = float(run.params.get("seconds") or 0)
        run.sleep(seconds)
        if seconds > run.timeout:
            run.check_deadline(f"sleep {seconds:g}s")
        return {"slept": seconds}
