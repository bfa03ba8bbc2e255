"""services.yaml parsing (codex_stacks/config/document.py) where a second fresh sampled mutation
run (tools/mutation.py config --sample 60 --seed 29 --recheck) found an error line no test held:
the file that expands to too many values names the line of the first value past the bound.

The bound is 2,000,000 values, reachable only when an operator raises CODEX_MAX_YAML_NODES past
it, and building that many values takes seconds; the test lowers the bound to 3 so the line can
be checked in a few milliseconds (the rule that picks the line does not depend on the bound)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config import document
from codex_stacks.config.document import parse_document
from codex_stacks.errors import ConfigError


def test_too_many_values_are_reported_at_the_line_of_the_first_value_past_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The root mapping is value 1, the value of line 1 is value 2, and so on: with a bound of 3
    values, the value on line 3 is the first one past it."""
    monkeypatch.setattr(document, "_MAX_NODES", 3)
    source = Path("/projects/demo/services.yaml")
    with pytest.raises(ConfigError) as info:
        parse_document("a: 1\nb: 2\nc: 3\nd: 4\n", source=source)
    assert info.value.message == "the file expands to more than 3 values (YAML aliases?)"
    assert (info.value.location.file, info.value.location.line) == (source, 3)
    assert parse_document("a: 1\nb: 2\n", source=source) == {"a": 1, "b": 2}
