"""The ``str.replace`` method (not the filter) under the template budget, whatever the lengths of
its old and new text, and an import with context (a fresh mutation sample of config, seed 47).
Sizes worked out by hand."""

from __future__ import annotations

import jinja2

from codex_stacks.config.budget import RenderBudget, budgeted_environment, render_bounded
from tests.config.test_mutation_kills_seed31_budget import SIZE, refusal, render


def test_a_replace_method_that_keeps_or_shrinks_the_text_may_make_exactly_the_size_limit() -> None:
    """``'aaa'.replace('a', 'b')`` and ``'aaaa'.replace('aa', 'b')`` make no more than the text
    they start from (3 and 4 characters): a limit of that size lets them run, one less does not."""
    assert render("{{ 'aaa'.replace('a', 'b') }}", max_size=3) == "bbb"
    assert refusal("{{ 'aaa'.replace('a', 'b') }}", max_size=2) == SIZE.format(2)
    assert render("{{ 'aaaa'.replace('aa', 'b') }}", max_size=4) == "bb"


def test_a_replace_method_that_grows_the_text_is_held_to_what_it_could_make() -> None:
    """``'ab'.replace('a', 'xyz')``: 'a' occurs once, so 2 + 1 * (3 - 1) = 4 characters are
    expected before it runs: a limit of 4 runs and 3 does not."""
    assert render("{{ 'ab'.replace('a', 'xyz') }}", max_size=4) == "xyzb"
    assert refusal("{{ 'ab'.replace('a', 'xyz') }}", max_size=3) == SIZE.format(3)


def test_an_import_with_context_inside_a_loop_sees_the_loop_variable() -> None:
    """Jinja hands an ``import … with context`` the names of the scope it is in: a macro of the
    imported template reads the loop's ``x`` (Jinja's own behaviour, kept under the budget)."""
    env = budgeted_environment(
        RenderBudget(),
        undefined=jinja2.StrictUndefined,
        loader=jinja2.DictLoader({"m.j2": "{% macro f() %}{{ x }}{% endmacro %}"}),
    )
    template = env.from_string("{% for x in ['a', 'b'] %}{% import 'm.j2' as m with context %}{{ m.f() }}{% endfor %}")
    assert render_bounded(template, {}) == "ab"
