"""Templates of services.yaml values (codex_stacks/config/templating.py), where a third sampled
mutation run (tools/mutation.py config --sample 60 --seed 31) found behaviour no in-process test
held. Expected texts are written out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.templating import OutsideValues, evaluate
from codex_stacks.errors import Location, TemplateError
from tests.config.conftest import load

SOURCE = Path("/project/services.yaml")


def _where(line: int | None) -> Location:
    """The value starts on line 11 of the file: its line N is the file's line 10 + N."""
    return Location(file=SOURCE, line=None if line is None else 10 + line, path="vars.x")


def _evaluate(source: str, scope: dict[str, object]) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        evaluate(source, scope, where=_where, name=str(SOURCE), known=OutsideValues())
    return info.value


def test_an_undefined_name_lists_the_known_variables_comma_separated_in_order() -> None:
    error = _evaluate("{{ nope }}", {"zeta": 1, "alpha": 2, "mid": 3, "_hidden": 4})
    assert error.message == "undefined template variable: 'nope' is undefined"
    assert error.hint == "known variables: alpha, mid, zeta"


def test_a_statement_in_a_value_is_refused_with_the_hint_to_use_when_or_vars() -> None:
    error = _evaluate("{% if true %}x{% endif %}", {})
    assert error.message == "only {{ … }} expressions are allowed in services.yaml values, not {% … %} statements"
    assert (error.location.file, error.location.line) == (SOURCE, None)
    assert error.hint == "use when: to switch an item on or off, and vars: for values computed once"


def test_env_or_of_an_unset_variable_without_a_default_is_empty_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_SEED31_UNSET", raising=False)
    text = (
        "project: demo\nenvVars:\n  CODEX_SEED31_UNSET: {}\n"
        "codex:\n  projectContext: \"[{{ env_or('CODEX_SEED31_UNSET') }}]\"\n"
    )
    assert load(text).codex.project_context == "[]"


def test_env_or_of_an_empty_variable_without_a_default_is_empty_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_SEED31_EMPTY", "")
    text = (
        "project: demo\nenvVars:\n  CODEX_SEED31_EMPTY: {}\n"
        "codex:\n  projectContext: \"[{{ env_or('CODEX_SEED31_EMPTY') }}]\"\n"
    )
    assert load(text).codex.project_context == "[]"
