"""``str.format`` on a safe (Markup) string: fields are read through the sandbox and measured,
inside a render and in a macro called from Python (the two lines of the escaping formatter that
the budget's tables left unread when ``tools/killcheck.py`` ran over all of budget.py)."""

from __future__ import annotations

from typing import Any

import pytest

from codex_stacks.config.budget import BudgetExceededError, RenderBudget, budgeted_environment


def test_a_safe_format_reads_a_fields_attribute_through_the_sandbox() -> None:
    env = budgeted_environment()
    # int.real is 3 for 3; "<" is escaped because the value is not safe.
    rendered = env.from_string("{{ ('{0.real}|{1}'|safe).format(3, '<') }}").render()
    assert rendered == "3|&lt;"


def test_a_safe_format_gives_nothing_for_an_attribute_the_sandbox_refuses() -> None:
    """As in Jinja's own sandbox: an unsafe attribute is undefined, which prints as nothing."""
    env = budgeted_environment()
    assert env.from_string("{{ ('[{0.__class__}]'|safe).format(3) }}").render() == "[]"


def test_a_safe_format_in_a_macro_called_from_python_is_measured_with_the_environments_budget() -> None:
    env = budgeted_environment(RenderBudget(max_size=10))
    module: Any = env.from_string("{% macro m(v) %}{{ ('{}'|safe).format(v) }}{% endmacro %}").module
    assert str(module.m("a" * 10)) == "a" * 10
    with pytest.raises(BudgetExceededError) as caught:  # 11 characters > 10
        module.m("a" * 11)
    assert str(caught.value) == (
        "template budget exceeded: size of a value (characters or items) > 10 (CODEX_TEMPLATE_MAX_SIZE)"
    )
