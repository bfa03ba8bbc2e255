"""What a ``sleep`` step says when it would sleep past the step's timeout (providers/sleep.py)."""

from __future__ import annotations

import pytest

from codex_stacks.components.hooks.providers.sleep import SleepProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_error_messages_base import failure


@pytest.mark.parametrize(
    ("seconds", "timeout", "expected"),
    [
        pytest.param(
            0.15,
            0.1,
            "hook codex/afterApply/step failed: sleep 0.15s: timed out after 0.1s (the step's timeout)",
            id="just-over",
        ),
        pytest.param(
            3, 0.05, "hook codex/afterApply/step failed: sleep 3s: timed out after 0.05s (the step's timeout)", id="far"
        ),
    ],
)
def test_a_sleep_longer_than_the_timeout_says(seconds: float, timeout: float, expected: str) -> None:
    assert failure(SleepProvider(), step_props("sleep", {"seconds": seconds}, timeout=timeout)) == expected


def test_a_sleep_as_long_as_the_timeout_is_no_error() -> None:
    created = SleepProvider().create(step_props("sleep", {"seconds": 0.1}, timeout=0.1))
    assert created.outs["result"] == {"slept": 0.1}
