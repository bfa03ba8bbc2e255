"""A hook step's timeout of 0 is refused where it is written: the step's runner took 0 for
"unset" and gave the step 10 minutes (a fresh mutation sample of the hook providers, seed 41)."""

from __future__ import annotations

import pytest

from tests.config.error_messages import problems_of
from tests.config.test_error_messages_hooks import AT, step


@pytest.mark.parametrize("zero", ["0", "0s", "0m", "0.0"])
def test_a_step_timeout_of_zero_is_refused(zero: str) -> None:
    assert problems_of(step(f"timeout: {zero}", "run: echo hi")) == (
        f"{AT}: a step's timeout must be longer than 0 (e.g. 30s, 5m)"
    )


def test_one_second_is_a_timeout() -> None:
    assert problems_of(step("timeout: 1s", "run: echo hi")) == "no problem"
