"""services.yaml of the old dialect (codex_stacks/config/document.py), where a fresh sampled
mutation run (tools/mutation.py config --sample 60 --seed 29) found a hint no in-process test
held."""

from __future__ import annotations

import pytest

from codex_stacks.errors import ConfigError, TemplateError
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


# Found next to the templating survivors (the line of an expression inside a value): a block
# scalar's text starts on the line after its | or >, and every line in it was reported one early.


@pytest.mark.parametrize("style", ["|", "|-", ">"])
def test_an_expression_in_a_block_value_is_located_on_its_own_line(style: str) -> None:
    text = f"project: demo\ndataPaths:\n  root: {style}\n    /data/{{{{ nowhere }}}}\n"
    with pytest.raises(TemplateError) as info:
        load(text)
    assert info.value.message == "undefined template variable: 'nowhere' is undefined"
    assert (info.value.location.line, info.value.location.path) == (4, "dataPaths.root")


def test_an_expression_on_the_third_line_of_a_literal_block_is_located_there() -> None:
    text = "project: demo\ndataPaths:\n  root: |\n    /data/\n    more/\n    {{ env_or('NOPE') }}\n"
    with pytest.raises(TemplateError) as info:
        load(text)
    assert info.value.message == "env_or('NOPE'): NOPE is not declared"
    assert (info.value.location.line, info.value.location.path) == (6, "dataPaths.root")
