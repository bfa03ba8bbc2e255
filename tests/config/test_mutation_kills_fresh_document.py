"""services.yaml of the old dialect (codex_stacks/config/document.py), where a fresh sampled
mutation run (tools/mutation.py config --sample 60 --seed 29) found a hint no in-process test
held."""

from __future__ import annotations

import pytest

from codex_stacks.errors import ConfigError
from tests.config.conftest import load


def test_an_old_statement_line_says_what_to_write_instead() -> None:
    with pytest.raises(ConfigError) as info:
        load("project: demo\n{% if slot %}\nmaxSlots: 2\n{% endif %}\n")
    error = info.value
    assert error.message == "'{% if … %}' statements are no longer part of services.yaml"
    assert error.location.line == 2
    assert error.location.file is not None
    assert error.location.file.name == "services.yaml"
    assert error.hint == (
        "services.yaml is YAML with {{ … }} expressions in values: use when: to switch an item on or off, "
        "and vars: for values computed once"
    )
