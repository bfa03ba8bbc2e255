"""The template budget (codex_stacks/config/budget.py), case by case where a fresh sampled mutation
run (tools/mutation.py config, seed 29) found a rule no test held. Each test renders a template
and checks what its author sees: the output, or the one-line error naming the limit. Expected
texts come from Python's own operations or are counted by hand from the size rules in
docs/template-budget.md."""

from __future__ import annotations

from collections import UserString
from typing import Any

import jinja2
import pytest

from codex_stacks.config.budget import RenderBudget, budgeted_environment, render_bounded
from codex_stacks.errors import TemplateError

HUGE = 2**63
"""Past what a C ``ssize_t`` holds: Python raises OverflowError if such a width reaches it."""

SIZE_EXCEEDED = "template budget exceeded: size of a value (characters or items) > "


def render(source: str, context: dict[str, Any] | None = None, **budget: Any) -> str:
    env = budgeted_environment(RenderBudget(**budget), undefined=jinja2.StrictUndefined)
    return render_bounded(env.from_string(source), context or {})


def refused(source: str, context: dict[str, Any] | None = None, **budget: Any) -> str:
    with pytest.raises(TemplateError) as info:
        render(source, context, **budget)
    return info.value.message


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def test_an_operation_known_to_pass_the_total_is_refused_with_the_total_limit() -> None:
    """150 characters fit the size limit of one value (1000) but not the total (100)."""
    assert refused("{{ s * 150 }}", {"s": "a"}, max_size=1000, max_total=100) == (
        "template budget exceeded: total size of the values made > 100 (CODEX_TEMPLATE_MAX_TOTAL)"
    )


def test_an_empty_list_tuple_or_dict_prints_two_characters_and_is_measured_like_any_other() -> None:
    """``[]``, ``()`` and ``{}`` are two characters of text: more than a size limit of 1, within
    one of 2 (a value made by the template or passed in, printed)."""
    empty: tuple[object, ...] = ([], (), {})
    for value in empty:
        assert render("{{ v }}", {"v": value}, max_size=2) == str(value)
        assert refused("{{ v }}", {"v": value}, max_size=1) == SIZE_EXCEEDED + "1 (CODEX_TEMPLATE_MAX_SIZE)"


def test_a_list_reached_again_outside_its_cycle_is_measured_with_its_whole_text() -> None:
    """``a = ['x' * 100, b]`` and ``b = [a]``: inside ``a``, ``b`` prints as ``[[...]]``; on its
    own, ``b`` prints all of ``a`` again. ``str([a, b])`` is 230 characters (Python's text), so a
    limit of 229 refuses it: the size found for ``b`` inside the cycle must not be reused."""
    a: list[Any] = ["x" * 100]
    b: list[Any] = [a]
    a.append(b)
    value = [a, b]
    text = str(value)
    assert len(text) == 230
    assert refused("{{ v }}", {"v": value}, max_size=229) == SIZE_EXCEEDED + "229 (CODEX_TEMPLATE_MAX_SIZE)"
    assert render("{{ v }}", {"v": value}, max_size=1000) == text


def test_printf_by_key_measures_the_value_of_that_key_before_formatting() -> None:
    """A value 100 lists deep is past the nesting limit (64): refused before ``%`` prints it."""
    deep = {"a": _nested(100)}
    nesting = "template budget exceeded: nesting of a value > 64 (CODEX_TEMPLATE_MAX_DEPTH)"
    assert render("{{ '<%(a)s>' % d }}", {"d": {"a": "x"}}) == "<x>"
    assert refused("{{ '<%(a)s>' % d }}", {"d": deep}) == nesting
    assert render("{{ '<%(a)s>'|format(a='x') }}") == "<x>"
    assert refused("{{ '<%(a)s>'|format(a=d.a) }}", {"d": deep}) == nesting


def test_rjust_with_a_huge_width_is_refused_by_the_size_limit_before_it_runs() -> None:
    assert render("{{ 'ab'.rjust(4) }}") == "  ab"
    assert refused("{{ 'ab'.rjust(w) }}", {"w": HUGE}, max_size=100) == SIZE_EXCEEDED + "100 (CODEX_TEMPLATE_MAX_SIZE)"


def test_wordwrap_of_a_text_that_is_not_a_str_counts_a_line_per_character_and_one_more() -> None:
    """A caller's ``UserString`` is an object of unknown text: 8 characters by the size rule, so
    at most 9 lines, each ended by the 10-character wrapstring: 8 + 9 * 10 = 98."""
    context = {"t": UserString("ab"), "joint": "-" * 10}
    assert render("{{ t|wordwrap(wrapstring=joint) }}", context, max_size=98) == "ab"
    assert refused("{{ t|wordwrap(wrapstring=joint) }}", context, max_size=97) == (
        SIZE_EXCEEDED + "97 (CODEX_TEMPLATE_MAX_SIZE)"
    )


def test_replace_filter_takes_its_new_text_by_keyword() -> None:
    assert render("{{ 'banana'|replace('a', new='o') }}") == "bonono"
    # 20 'a's each becoming 10 'x's would be 200 characters: past 60 before it runs.
    assert refused("{{ ('a' * 20)|replace('a', new='x' * 10) }}", max_size=60) == (
        SIZE_EXCEEDED + "60 (CODEX_TEMPLATE_MAX_SIZE)"
    )


def test_int_of_a_long_digit_string_is_refused_with_the_integer_limit() -> None:
    """41 digits are more than 4 per allowed bit (10 bits): refused before converting."""
    assert refused("{{ s|int }}", {"s": "1" * 41}, max_int_bits=10) == (
        "template budget exceeded: integer size > 10 bits (CODEX_TEMPLATE_MAX_INT_BITS)"
    )


def test_adding_a_number_and_a_string_fails_as_python_says() -> None:
    """Type errors are reported as before the budget: Python's own message for ``1 + 'a'``."""
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for \+: 'int' and 'str'$"):
        render("{{ 1 + s }}", {"s": "a"})
    with pytest.raises(TypeError, match=r'^can only concatenate list \(not "int"\) to list$'):
        render("{{ l + 1 }}", {"l": [1]})


def test_a_method_call_past_the_render_time_stops_with_the_time_limit() -> None:
    assert refused("{{ s.upper() }}", {"s": "a"}, max_seconds=1e-9) == (
        "template budget exceeded: render time > 1e-09 s (CODEX_TEMPLATE_MAX_SECONDS)"
    )


def test_a_method_that_returns_its_argument_makes_nothing_new() -> None:
    """``loop.cycle(s, s)`` hands back ``s`` itself: three 40-character picks are not 120
    characters made, so a total of 100 is not reached."""
    template = "{% for i in range(3) %}{{ loop.cycle(s, s) }}{% endfor %}"
    assert render(template, {"s": "x" * 40}, max_total=100) == "x" * 120


def test_a_namespace_used_as_a_key_is_not_measured_since_it_hashes_by_identity() -> None:
    """A tuple key is hashed item by item, so it is measured; a namespace is hashed by its
    identity, whatever it holds (here 200 characters, past a size limit of 100)."""
    template = "{% set ns = namespace(a=s) %}{% set d = {ns: 'found'} %}{{ d[ns] }}"
    assert render(template, {"s": "x" * 200}, max_size=100) == "found"
    assert refused("{{ d[k] }}", {"d": {}, "k": ("x" * 200,)}, max_size=100) == (
        SIZE_EXCEEDED + "100 (CODEX_TEMPLATE_MAX_SIZE)"
    )


def test_make_module_runs_the_template_within_the_budget() -> None:
    env = budgeted_environment(RenderBudget(max_loops=3), undefined=jinja2.StrictUndefined)
    assert env.from_string("{% set x = s * 3 %}").make_module({"s": "ab"}).__dict__["x"] == "ababab"
    template = env.from_string("{% set x = 1 %}\n{% for i in items %}{% endfor %}")
    assert template.make_module({"items": [1, 2, 3]}).__dict__["x"] == 1
    with pytest.raises(TemplateError) as info:
        template.make_module({"items": [1, 2, 3, 4]})
    assert info.value.message == "template budget exceeded: loop iterations > 3 (CODEX_TEMPLATE_MAX_LOOPS)"
    assert info.value.location.line == 2
