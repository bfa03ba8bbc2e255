"""YAML that cannot be read as services.yaml (codex_stacks/config/yamlio.py), where a fresh
sampled mutation run (tools/mutation.py config --sample 60 --seed 29) found a message no
in-process test held."""

from __future__ import annotations

import pytest

from codex_stacks.errors import ConfigError
from tests.config.conftest import load


def test_a_tag_nothing_reads_is_refused_on_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        load("project: demo\nmaxSlots: !slots 3\n")
    error = info.value
    assert error.message == "invalid YAML: could not determine a constructor for the tag '!slots'"
    assert error.location.line == 2
    assert error.location.file is not None
    assert error.location.file.name == "services.yaml"
