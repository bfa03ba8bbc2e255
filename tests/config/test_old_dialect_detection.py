"""Which error a services.yaml that fails as YAML gets: the old dialect's hint only when its
statement lines are what breaks the file. A ``{% if %}`` line inside a block value (``run: |``)
is a template of this dialect; an unrelated YAML error elsewhere in the file was reported as
"statements are no longer part of services.yaml" at that line."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.document import parse_document
from codex_stacks.errors import ConfigError

SOURCE = Path("/project/services.yaml")


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_document(text, source=SOURCE)
    return caught.value


def test_a_yaml_error_is_itself_when_a_statement_sits_in_a_block_value() -> None:
    text = (
        "project: demo\n"
        "hooks:\n"
        "  beforeAll:\n"
        "    - name: greet\n"
        "      run: |\n"
        "        {% if true %}\n"  # 6: a template inside a block value
        "        echo hi\n"
        "        {% endif %}\n"
        "    - name: broken\n"
        "      run: [unclosed\n"  # 10: the real error
    )
    error = _error(text)
    assert error.message.startswith("invalid YAML: ")
    assert "no longer part of services.yaml" not in error.message
    assert error.location.line is not None
    assert error.location.line >= 10


def test_an_old_if_else_at_the_top_level_gets_the_old_dialect_hint_at_its_line() -> None:
    text = "{% if env == 'ai' %}\nnamespace: a\n{% else %}\nnamespace: b\n{% endif %}\nproject: demo\n"
    error = _error(text)
    assert error.message == "'{% if … %}' statements are no longer part of services.yaml"
    assert error.location.line == 1


def test_an_old_loop_inside_a_list_gets_the_old_dialect_hint_though_yaml_fails_later() -> None:
    text = (
        "project: demo\n"
        "services:\n"
        "  - name: api\n"
        "{% for name in ['a', 'b'] %}\n"  # 4
        "  - name: {{ name }}\n"
        "    manifests: [{path: x.yaml}]\n"
        "{% endfor %}\n"
    )
    error = _error(text)
    assert error.message == "'{% for … %}' statements are no longer part of services.yaml"
    assert error.location.line == 4
