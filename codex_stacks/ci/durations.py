"""Durations as people write them in workflow inputs: ``90s``, ``5m``, ``1h30m``, ``2d``, ``300``."""

from __future__ import annotations

import re

from codex_stacks.ci.errors import CiError

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(text: str) -> float:
    """Seconds in ``text``; a bare number means seconds."""
    value = text.strip().lower()
    try:
        return float(value)
    except ValueError:
        pass
    parts = _PART.findall(value)
    if not value or not parts or "".join(number + unit for number, unit in parts) != value:
        raise CiError(f"invalid duration {text!r}", hint="write it like 90s, 5m, 1h30m, 2d or a number of seconds")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def human_duration(seconds: float) -> str:
    """``6 days 21 h``, ``5 h 3 min``, ``12 min``, ``40 s``: the two largest units, for reasons people read."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        unit = "day" if days == 1 else "days"
        return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"
