"""YAML that cannot be read as services.yaml (codex_stacks/config/yamlio.py), where a fresh
sampled mutation run (tools/mutation.py config --sample 60 --seed 29) found a message no
in-process test held."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.yamlio import load_documents
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


# Found next to that mutant: a scalar whose tag (explicit, or implied by its form, like a date)
# cannot make a value went out of PyYAML as a ValueError/KeyError traceback.


def test_a_date_that_does_not_exist_is_refused_on_its_line_and_quoting_it_keeps_it_text() -> None:
    """``2024-13-01`` has the form of a YAML timestamp, so YAML reads it as one: month 13."""
    with pytest.raises(ConfigError) as info:
        load("project: demo\nvars:\n  released: 2024-13-01\n")
    error = info.value
    assert error.message == "invalid YAML: not a valid !!timestamp (quote the value to keep it as text)"
    assert error.location.line == 3
    assert load("project: demo\nvars:\n  released: '2024-13-01'\n").document.raw("vars", "released") == "2024-13-01"


@pytest.mark.parametrize(
    ("value", "tag"),
    [("!!int twelve", "!!int"), ("!!float half", "!!float"), ("!!bool maybe", "!!bool"), ("!!int _", "!!int")],
)
def test_a_tagged_value_its_tag_cannot_read_is_refused_in_a_manifest(value: str, tag: str) -> None:
    text = f"kind: ConfigMap\n---\nkind: Secret\ndata:\n  - a\n  - {value}\n"
    source = Path("/project/manifests/app.yaml")
    with pytest.raises(ConfigError) as info:
        list(load_documents(text, source=source))
    error = info.value
    assert error.message == f"invalid YAML: not a valid {tag} (quote the value to keep it as text)"
    assert (error.location.file, error.location.line) == (source, 6)
