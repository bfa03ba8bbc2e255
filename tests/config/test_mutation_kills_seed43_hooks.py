"""Hook durations (codex_stacks/config/hooks.py), where a sixth sampled mutation run
(tools/mutation.py config --sample 60 --seed 43 --recheck) found that no test wrote a duration
as quoted digits: a bare number of seconds is a duration whether YAML reads it as a number or
as text (docs/services-yaml-reference.md: "A duration: seconds, or e.g. 30s, 5m, 1h30m")."""

from __future__ import annotations

import pytest

from codex_stacks.config.hooks import parse_duration
from tests.config.error_messages import problems_of

HEAD = "project: demo\nenvironments:\n  dev: {}\nhooks:\n  beforeAll:\n    - name: step\n      run: echo hi\n"


@pytest.mark.parametrize(("text", "seconds"), [("90", 90.0), (" 90 ", 90.0), ("0", 0.0), ("1h30m", 5400.0)])
def test_digits_as_text_are_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_a_quoted_number_of_seconds_is_a_steps_timeout() -> None:
    """``timeout: "90"`` is 90 seconds: the file is valid; ``"0"`` is a timeout of zero, which
    a step refuses with its own one-line error."""
    assert problems_of(HEAD + '      timeout: "90"\n') == "no problem"
    assert problems_of(HEAD + '      timeout: "0"\n') == (
        "services.yaml:6: hooks.beforeAll[0]: a step's timeout must be longer than 0 (e.g. 30s, 5m)"
    )
