"""The template budget (codex_stacks/config/budget.py, docs/template-budget.md) where a third
fresh sampled mutation run (tools/mutation.py config --sample 60 --seed 31 --recheck) found
behaviour no test held: a project's own filter that takes a built-in's name, the ``do``
extension, a finalize that wants the context, ``%`` formatting, the call depth after sibling
calls, the limit a render names when its time runs out inside a loop, a nested value whose
measured text is exactly the size limit, and a macro called from Python after its render.
Expected values are worked out by hand from Python's and Jinja's semantics."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from jinja2 import pass_context
from jinja2.runtime import Context

from codex_stacks.config.budget import BudgetedEnvironment, RenderBudget, budgeted_environment, render_bounded
from codex_stacks.errors import TemplateError


def render(source: str, context: dict[str, Any] | None = None, **budget: Any) -> str:
    env = budgeted_environment(RenderBudget(**budget), undefined=jinja2.StrictUndefined)
    return render_bounded(env.from_string(source), context or {})


def refusal(source: str, context: dict[str, Any] | None = None, **budget: Any) -> str:
    with pytest.raises(TemplateError) as info:
        render(source, context, **budget)
    return info.value.message


SIZE = "template budget exceeded: size of a value (characters or items) > {} (CODEX_TEMPLATE_MAX_SIZE)"


def test_a_projects_own_filter_named_like_a_builtin_is_not_held_to_the_builtins_estimate() -> None:
    """``center(5000)`` of Jinja would make 5,000 characters, past a limit of 1,000; a project's
    own ``center`` that returns its input makes one: it runs, and the built-in is still refused."""
    env = budgeted_environment(RenderBudget(max_size=1000))
    with pytest.raises(TemplateError) as info:
        render_bounded(env.from_string('{{ "x"|center(5000) }}'), {})
    assert info.value.message == SIZE.format(1000)

    def own_center(value: str, width: int) -> str:
        return value

    env.filters["center"] = own_center
    assert render_bounded(env.from_string('{{ "x"|center(5000) }}'), {}) == "x"


def test_the_do_extension_runs_its_statement_inside_a_budgeted_environment() -> None:
    """``{% do %}`` (jinja2.ext.do) evaluates an expression for its effect: the list grows by one."""
    env = budgeted_environment(RenderBudget(), extensions=["jinja2.ext.do"])
    template = env.from_string("{% set x = [] %}{% do x.append(1) %}{% do x.append(2) %}{{ x }}")
    assert render_bounded(template, {}) == "[1, 2]"


def test_a_finalize_that_wants_the_context_is_refused_and_a_plain_one_is_kept() -> None:
    def wants_context(context: Context, value: Any) -> Any:
        return value

    with pytest.raises(TypeError) as info:
        BudgetedEnvironment(finalize=pass_context(wants_context))
    assert str(info.value) == "BudgetedEnvironment accepts only a plain finalize function"

    def shout(value: Any) -> Any:
        return str(value).upper()

    env = BudgetedEnvironment(finalize=shout)
    assert render_bounded(env.from_string("{{ 'ab' }}-{{ 'cd' }}"), {}) == "AB-CD"


def test_percent_formatting_with_a_width_past_the_size_limit_is_refused_before_it_is_made() -> None:
    """``"%0200d" % 5`` is 200 characters: refused at a limit of 100 (even when only its length
    is printed); ``"%s-%d" % ("ab", 7)`` is 4 and numbers still add and divide."""
    assert refusal('{{ ("%0200d" % 5)|length }}', max_size=100) == SIZE.format(100)
    assert render('{{ "%s-%d" % ("ab", 7) }} {{ 7 // 2 }} {{ 7 % 4 }} {{ 1 + 2.5 }} {{ 9 - 10 }}', max_size=100) == (
        "ab-7 3 3 3.5 -1"
    )


def test_the_call_depth_counts_only_the_calls_still_open() -> None:
    """``rec(n)`` nests n + 1 macro calls. With a depth limit of 4, three finished sibling calls
    before it change nothing: ``rec(3)`` (4 deep) renders, ``rec(4)`` (5 deep) is refused."""
    source = (
        "{% macro rec(n) %}{% if n %}{{ rec(n - 1) }}{% endif %}.{% endmacro %}"
        "{% macro noop() %}{% endmacro %}"
        "{% for i in range(3) %}{{ noop() }}{% endfor %}{{ rec(N) }}"
    )
    assert render(source.replace("N", "3"), max_depth=4) == "...."
    assert refusal(source.replace("N", "4"), max_depth=4) == (
        "template budget exceeded: call depth > 4 (CODEX_TEMPLATE_MAX_DEPTH)"
    )


def test_a_loop_of_exactly_max_loops_iterations_renders_and_one_more_is_refused() -> None:
    assert render("{% for i in range(3) %}{{ i }}{% endfor %}", max_loops=3) == "012"
    assert refusal("{% for i in range(4) %}{{ i }}{% endfor %}", max_loops=3) == (
        "template budget exceeded: loop iterations > 3 (CODEX_TEMPLATE_MAX_LOOPS)"
    )


def test_a_render_out_of_time_in_its_last_allowed_iteration_names_the_time_limit() -> None:
    """One iteration of a one-iteration budget is allowed; a billionth of a second has passed by
    the time it starts, so the error names the time limit, not the loop limit."""
    assert refusal("{% for i in [1] %}x{% endfor %}", max_loops=1, max_seconds=1e-9) == (
        "template budget exceeded: render time > 1e-09 s (CODEX_TEMPLATE_MAX_SECONDS)"
    )


def test_a_nested_value_whose_measured_text_is_exactly_the_size_limit_is_printed() -> None:
    """The size of a value's text is measured without building it, as an upper bound: a list
    counts its brackets plus two characters per item (a ``, `` after each, the last included).
    ``[[]]`` (4 characters of Python's text) measures 2 + 2 for the outer list and 2 for the
    inner one: 6. A limit of 6 prints it, 5 refuses it."""
    assert render("{{ v }}", {"v": [[]]}, max_size=6) == "[[]]"
    assert refusal("{{ v }}", {"v": [[]]}, max_size=5) == SIZE.format(5)


def test_a_macro_called_from_python_after_its_render_is_held_to_the_size_limit_only() -> None:
    """Outside a render there is no running total to add to: a macro of a template's module
    that joins 40 characters runs under a total limit of 10, and is refused past the size limit."""
    env = budgeted_environment(RenderBudget(max_size=100, max_total=10))
    twice = vars(env.from_string("{% macro twice(a) %}{{ a ~ a }}{% endmacro %}").module)["twice"]
    assert str(twice("x" * 20)) == "x" * 40
    with pytest.raises(jinja2.TemplateRuntimeError) as info:
        twice("x" * 60)
    assert str(info.value) == SIZE.format(100)


def test_replace_with_a_bytes_argument_on_a_string_fails_naming_replace() -> None:
    """``"abc".replace(b"", "x")`` is Python's TypeError from ``replace()`` itself."""
    with pytest.raises(TypeError) as info:
        render('{{ "abc".replace("".encode(), "x") }}')
    assert str(info.value).startswith("replace()")
