"""Durations of services.yaml (codex_stacks/config/hooks.py) where a second fresh sampled mutation
run (tools/mutation.py config --sample 60 --seed 29 --recheck) found that no test held a duration
in hours. Seconds are counted by hand: an hour is 3600 s, a minute 60 s."""

from __future__ import annotations

import pytest

from codex_stacks.config.hooks import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h", 3600.0), ("2h", 7200.0), ("1h30m", 5400.0), ("1h0m5s", 3605.0), ("3h 2m 1s", 10921.0)],
)
def test_a_duration_in_hours_counts_3600_seconds_an_hour(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
