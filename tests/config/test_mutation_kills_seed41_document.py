"""Which error a services.yaml that fails as YAML gets (codex_stacks/config/document.py), where a
fifth sampled mutation run (tools/mutation.py config --sample 60 --seed 41 --recheck) found a
case no test held: the YAML error is on a line that is not a statement, yet the statement lines
are what break the file (the rule: the file reads as YAML once they are blanked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.document import parse_document
from codex_stacks.errors import ConfigError

SOURCE = Path("/project/services.yaml")
HINT = (
    "  hint: services.yaml is YAML with {{ … }} expressions in values: use when: to switch an item "
    "on or off, and vars: for values computed once"
)


def _shown(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_document(text, source=SOURCE)
    return str(caught.value)


def test_statements_that_break_a_block_value_away_from_their_own_line_get_the_old_dialect_hint() -> None:
    """A block value takes its indentation from its first line: the statement on line 4 (six
    spaces) makes line 5 (four) end the value, and YAML fails on line 5, where ``echo`` is no
    key. Blank the statement lines and the value reads as ``echo hi``: the statements are what
    break the file, so the error names the first of them."""
    text = "project: demo\nvars:\n  script: |\n      {% for s in services %}\n    echo hi\n      {% endfor %}\n"
    assert _shown(text) == (
        "/project/services.yaml:4: '{% for … %}' statements are no longer part of services.yaml\n" + HINT
    )


def test_a_yaml_error_the_statements_do_not_cause_is_itself() -> None:
    """The same statements, and an unclosed list on line 7: blanking the statements leaves the
    file broken, so YAML's own error is shown, at its line."""
    text = "project: demo\nvars:\n  script: |\n    echo hi\n    {% if x %}\n    echo\n  a: [\n"
    assert _shown(text) == "/project/services.yaml:8: invalid YAML: did not find expected node content"
