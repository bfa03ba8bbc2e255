"""The machinery around the template budget's estimates (codex_stacks/config/budget.py), as a
user sees it: which limit trips and where, what a call, a filter or a test is charged, what the
operator's settings do, and every way of running a template or an expression.

Each row renders ``deploy/main.yaml`` (and ``deploy/part.yaml`` when it includes it) with a small
budget and compares the whole output, or the whole one-line error (docs/template-budget.md). The
numbers in a row are worked out by hand in its comment, from Python's and Jinja's semantics and
the rules docs/template-budget.md gives: a list of strings prints as at most
``2 + 2 * items + sum(len + 2)`` characters (brackets, separators, quotes), every value an
operation makes counts towards the total, and a limit is exceeded one past its value.
"""

from __future__ import annotations

import copy
import math
import posixpath
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest

from codex_stacks.config.budget import (
    BudgetedEnvironment,
    BudgetExceededError,
    RenderBudget,
    budget_scope,
    budgeted_environment,
    evaluate_bounded,
    render_bounded,
)
from codex_stacks.errors import ConfigError, TemplateError
from tests.config.test_budget import fork_server, hostile

__all__ = ["fork_server"]  # the module-scoped fixture of tests/config/test_budget.py, used here

B = RenderBudget
SPENT = B(max_seconds=1e-9)
"""A deadline that has passed by the first checkpoint a render reaches."""

PART = "p1\np2\n{{ 'x' * 11 }}\n"
"""deploy/part.yaml: its line 3 is over a size limit of 10."""

SIZE = "template budget exceeded: size of a value (characters or items) > {} (CODEX_TEMPLATE_MAX_SIZE)"
TOTAL = "template budget exceeded: total size of the values made > {} (CODEX_TEMPLATE_MAX_TOTAL)"
LOOPS = "template budget exceeded: loop iterations > {} (CODEX_TEMPLATE_MAX_LOOPS)"
DEPTH = "template budget exceeded: call depth > {} (CODEX_TEMPLATE_MAX_DEPTH)"
NESTING = "template budget exceeded: nesting of a value > {} (CODEX_TEMPLATE_MAX_DEPTH)"
OUTPUT = "template budget exceeded: output characters > {} (CODEX_TEMPLATE_MAX_OUTPUT)"
BITS = "template budget exceeded: integer size > {} bits (CODEX_TEMPLATE_MAX_INT_BITS)"
TIME = "template budget exceeded: render time > {} s (CODEX_TEMPLATE_MAX_SECONDS)"


def at(line: int, message: str, file: str = "deploy/main.yaml") -> str:
    return f"{file}:{line}: {message}"


class Shelf:
    """An object a project passes in its context: a method taking keyword arguments."""

    def put(self, **things: object) -> int:
        return len(things)


def shout(text: str) -> str:
    """A function a project passes in its context: it makes a new string."""
    return text.upper() + "!"


def same(value: object) -> object:
    """A function that hands back what it was given (as ``env_or`` does with its default)."""
    return value


def loader(source: str) -> jinja2.FunctionLoader:
    files = {"main.yaml": source, "part.yaml": PART}
    return jinja2.FunctionLoader(lambda name: (files[name], f"deploy/{name}", lambda: True) if name in files else None)


def outcome(source: str, budget: RenderBudget, context: dict[str, Any], **options: Any) -> str:
    """The output of ``deploy/main.yaml``, or the whole text of the TemplateError it ends in."""
    env = budgeted_environment(budget, loader=loader(source), undefined=jinja2.StrictUndefined, **options)
    try:
        return env.get_template("main.yaml").render(copy.deepcopy(context))
    except TemplateError as exc:
        return str(exc)


MACRO = "top\n{% macro down(n) %}{% if n %}{{ down(n - 1) }}{% endif %}{% endmacro %}\n"
"""Line 2 defines ``down(n)``, which nests ``n + 1`` calls deep; the template writes "top\\n\\n"."""
TWO = ["ab", "cd"]
"""Prints as ``['ab', 'cd']``: estimated 2 + 2 * 2 + (2 + 2) + (2 + 2) = 14 characters."""

ROWS = [
    # -- call depth: macros count, one level per call in progress
    pytest.param(MACRO + "{{ down(1) }}", B(max_depth=2), {}, "top\n\n", id="depth-at-limit"),
    pytest.param(MACRO + "{{ down(2) }}", B(max_depth=2), {}, at(2, DEPTH.format(2)), id="depth-over-limit"),
    pytest.param(
        "{% macro m(a, b='x') %}{{ a }}{{ b }}{% endmacro %}{{ m(1, b=2) }}", B(), {}, "12", id="macro-keywords"
    ),
    pytest.param(  # each call ends before the next starts: never deeper than 1
        "{% macro m() %}x{% endmacro %}{{ m() }}{{ m() }}{{ m() }}", B(max_depth=1), {}, "xxx", id="depth-after-calls"
    ),
    pytest.param(  # two calls that returned leave the depth at 0: down(2) still needs 3 levels
        "{% macro m() %}x{% endmacro %}" + MACRO + "{{ m() }}{{ m() }}{{ down(2) }}",
        B(max_depth=2),
        {},
        at(2, DEPTH.format(2)),
        id="depth-counts-again-after-calls",
    ),
    pytest.param("a\n{% for x in s %}{{ x }}{% endfor %}", B(max_loops=3), {"s": "abc"}, "a\nabc", id="loops-at-limit"),
    pytest.param(
        "a\n{% for x in s %}{{ x }}{% endfor %}", B(max_loops=3), {"s": "abcd"}, at(2, LOOPS.format(3)), id="loops-over"
    ),
    pytest.param(  # one iteration of one allowed, but the time is up: the time is named
        "a\n{% for x in s %}{{ x }}{% endfor %}",
        B(max_loops=1, max_seconds=1e-9),
        {"s": "a"},
        at(2, TIME.format("1e-09")),
        id="time-at-the-last-allowed-iteration",
    ),
    pytest.param(
        "a\n{% for x in s %}{{ x }}{% endfor %}", SPENT, {"s": "a"}, at(2, TIME.format("1e-09")), id="time-at-a-loop"
    ),
    pytest.param("a\n{{ s.upper() }}", SPENT, {"s": "b"}, at(2, TIME.format("1e-09")), id="time-at-a-call"),
    pytest.param("a\n{{ s|upper }}", SPENT, {"s": "b"}, at(2, TIME.format("1e-09")), id="time-at-a-filter"),
    pytest.param("a\n{{ 1 is odd }}", SPENT, {}, at(2, TIME.format("1e-09")), id="time-at-a-test"),
    pytest.param("a\n{% include 'part.yaml' %}", SPENT, {}, at(2, TIME.format("1e-09")), id="time-at-an-include"),
    pytest.param(
        "a\n{% include ['gone.yaml', 'part.yaml'] %}", SPENT, {}, at(2, TIME.format("1e-09")), id="time-at-a-choice"
    ),
    pytest.param(  # shown with 6 significant digits, as "%g" shows it
        "a\n{{ s.upper() }}",
        B(max_seconds=1.2345678e-9),
        {"s": "b"},
        at(2, TIME.format("1.23457e-09")),
        id="time-limit-shown-short",
    ),
    pytest.param(  # a whole number of characters is shown whole: 1000000, not 1e+06
        "a\n{{ 'b' * 1000001 }}", B(), {}, at(2, SIZE.format(1000000)), id="default-size-limit-shown-whole"
    ),
    pytest.param("a\n{{ x }}", B(max_depth=2), {"x": [[[1]]]}, at(2, NESTING.format(2)), id="nesting-is-named"),
    # -- functions: their arguments are measured, their results checked and charged
    pytest.param(  # a callable object without a __name__ (joiner's) is called as a function
        "{% set j = joiner(', ') %}{% for x in s %}{{ j() }}{{ x }}{% endfor %}",
        B(),
        {"s": "abc"},
        "a, b, c",
        id="joiner",
    ),
    pytest.param("{{ dict(a=1, b=2, c=3)|length }}", B(max_size=3), {}, "3", id="function-result-at-size"),
    pytest.param(
        "a\n{{ dict(a=1, b=2, c=3)|length }}", B(max_size=2), {}, at(2, SIZE.format(2)), id="function-result-over-size"
    ),
    pytest.param("{{ dict(a=1, b=2, c=3)|length }}", B(max_total=3), {}, "3", id="function-result-at-total"),
    pytest.param(
        "a\n{{ dict(a=1, b=2, c=3)|length }}", B(max_total=2), {}, at(2, TOTAL.format(2)), id="function-over-total"
    ),
    pytest.param("{{ dict(a=l)|length }}", B(max_size=14), {"l": TWO}, "1", id="function-keyword-at-size"),
    pytest.param(  # the dict has one item, but the list given by keyword prints as 14
        "a\n{{ dict(a=l)|length }}", B(max_size=13), {"l": TWO}, at(2, SIZE.format(13)), id="function-keyword-over"
    ),
    pytest.param(  # 2**7 = 128: 8 bits
        "{{ power(2, 7) }}", B(max_int_bits=8), {"power": pow}, "128", id="function-int-at-bits"
    ),
    pytest.param(  # 2**8 = 256 needs 9 bits
        "a\n{{ power(2, 8) }}", B(max_int_bits=8), {"power": pow}, at(2, BITS.format(8)), id="function-int-over-bits"
    ),
    pytest.param("{{ shout(s) }}", B(max_total=4), {"s": "abc", "shout": shout}, "ABC!", id="own-function-at-total"),
    pytest.param(  # "ABC!": 4 characters made
        "a\n{{ shout(s) }}",
        B(max_total=3),
        {"s": "abc", "shout": shout},
        at(2, TOTAL.format(3)),
        id="own-function-over-total",
    ),
    pytest.param(
        "a\n{{ shout(s) }}",
        B(max_size=3),
        {"s": "abc", "shout": shout},
        at(2, SIZE.format(3)),
        id="own-function-over-size",
    ),
    pytest.param(  # what a function hands back unchanged was not made by it
        "{{ same(s) }}", B(max_total=1), {"s": "abcd", "same": same}, "abcd", id="function-returning-its-argument"
    ),
    # -- methods
    pytest.param("{{ s.center(6) }}", B(max_size=6), {"s": "ab"}, "  ab  ", id="str-method-at-size"),
    pytest.param("a\n{{ s.center(7) }}", B(max_size=6), {"s": "ab"}, at(2, SIZE.format(6)), id="str-method-over"),
    pytest.param("{{ s.expandtabs() }}", B(), {"s": "a\tb"}, "a       b", id="expandtabs-default"),  # tab to column 8
    pytest.param("{{ (1).to_bytes(2, 'big')|length }}", B(max_size=2), {}, "2", id="to-bytes-positional"),
    pytest.param("{{ (1).to_bytes()|length }}", B(max_size=1), {}, "1", id="to-bytes-default-length-1"),
    pytest.param(
        "{{ (1).to_bytes(length=10, byteorder='big')|length }}", B(max_size=10), {}, "10", id="to-bytes-keyword-at"
    ),
    pytest.param(
        "a\n{{ (1).to_bytes(length=11, byteorder='big')|length }}",
        B(max_size=10),
        {},
        at(2, SIZE.format(10)),
        id="to-bytes-keyword-over",
    ),
    pytest.param(  # 'a' * 2 makes 2 of a total of 2; an int's bit_length makes nothing
        "{{ 'a' * 2 }}{{ (5).bit_length() }}", B(max_total=2), {}, "aa3", id="int-method-makes-nothing"
    ),
    pytest.param(  # append to [1, 2]: 3 items, so 3 must fit; it grew by 1; then 'x' * 2: 1 + 2 = 3
        "{% set _ = l.append(3) %}{{ 'x' * 2 }}", B(max_total=3), {"l": [1, 2]}, "xx", id="append-charges-growth"
    ),
    pytest.param(  # 1 for the item appended + 3 = 4 > 3
        "{% set _ = l.append(3) %}{{ 'x' * 3 }}",
        B(max_total=3),
        {"l": [1, 2]},
        at(1, TOTAL.format(3)),
        id="append-charges-growth-over",
    ),
    pytest.param("{% set _ = l.append(0) %}{{ l|length }}", B(max_size=3), {"l": [0, 0]}, "3", id="append-at-size"),
    pytest.param(  # [0, 0, 0] and one more: 4 items
        "a\n{% set _ = l.append(0) %}{{ l|length }}",
        B(max_size=3),
        {"l": [0, 0, 0]},
        at(2, SIZE.format(3)),
        id="append-over-size",
    ),
    pytest.param(  # 'a' made 1 of 1; pop shrinks the list and picks an existing item: nothing more
        "{{ 'a' * 1 }}{{ l.pop() }}", B(max_total=1), {"l": [5]}, "a5", id="pop-makes-nothing"
    ),
    pytest.param("{{ d.get('k') }}", B(max_total=1), {"d": {"k": "abcd"}}, "abcd", id="get-picks-an-existing-value"),
    pytest.param(  # cycle picks one of its arguments
        "{% for c in s %}{{ loop.cycle(t, 'b') }}{% endfor %}",
        B(max_total=1),
        {"s": "x", "t": "abcd"},
        "abcd",
        id="a-method-returning-its-argument",
    ),
    pytest.param("{{ s.split(',')|length }}", B(max_total=3), {"s": "a,b,c"}, "3", id="split-at-total"),  # 3 items
    pytest.param(
        "a\n{{ s.split(',')|length }}", B(max_total=2), {"s": "a,b,c"}, at(2, TOTAL.format(2)), id="split-over-total"
    ),
    pytest.param("{{ s.upper() }}", B(max_total=3), {"s": "abc"}, "ABC", id="upper-at-total"),
    pytest.param("a\n{{ s.upper() }}", B(max_total=2), {"s": "abc"}, at(2, TOTAL.format(2)), id="upper-over-total"),
    pytest.param(
        "{% for c in s %}{{ loop.changed(l) }}{% endfor %}",
        B(max_size=14),
        {"s": "x", "l": TWO},
        "True",
        id="compared-argument-at-size",
    ),
    pytest.param(
        "a\n{% for c in s %}{{ loop.changed(l) }}{% endfor %}",
        B(max_size=13),
        {"s": "x", "l": TWO},
        at(2, SIZE.format(13)),
        id="compared-argument-over-size",
    ),
    pytest.param("{{ shelf.put(a=l) }}", B(max_size=14), {"shelf": Shelf(), "l": TWO}, "1", id="method-keyword-at"),
    pytest.param(
        "a\n{{ shelf.put(a=l) }}",
        B(max_size=13),
        {"shelf": Shelf(), "l": TWO},
        at(2, SIZE.format(13)),
        id="method-keyword-over",
    ),
    # -- filters and tests: the built-ins' own rules
    pytest.param("{{ l|length }}", B(max_size=13), {"l": TWO}, "2", id="length-does-not-print-its-list"),
    pytest.param("{{ l|sum }}", B(max_size=21), {"l": [1, 2, 3, 4, 5]}, "15", id="sum-does-not-print-its-list"),
    pytest.param("{{ l|wordcount }}", B(max_size=14), {"l": TWO}, "2", id="wordcount-at"),
    pytest.param(  # wordcount reads the list's text
        "a\n{{ l|wordcount }}", B(max_size=13), {"l": TWO}, at(2, SIZE.format(13)), id="wordcount-prints-its-list"
    ),
    pytest.param("{{ l|first }}", B(max_total=1), {"l": ["abcd"]}, "abcd", id="first-picks-an-existing-value"),
    pytest.param("a\n{{ s|upper }}", B(max_total=2), {"s": "abc"}, at(2, TOTAL.format(2)), id="upper-filter-makes"),
    pytest.param(  # tojson(2) of [1]: [1] counts 2 + 2 + 2 = 6, nested 1 deep: 6 * (1 + 2 * 1) = 18
        "a\n{{ x|tojson(2) }}", B(max_size=17), {"x": [1]}, at(2, SIZE.format(17)), id="tojson-estimate-applies"
    ),
    pytest.param(  # indent(2) of "ab": 2 + (0 newlines + 2) * 2 = 6, though it writes "ab"
        "a\n{{ s|indent(2) }}", B(max_size=5), {"s": "ab"}, at(2, SIZE.format(5)), id="indent-estimate-applies"
    ),
    pytest.param("{{ s|center(6) }}", B(max_size=6), {"s": "ab"}, "  ab  ", id="center-filter-at"),
    pytest.param("{{ 'upper' is filter }}", B(), {}, "True", id="test-taking-the-environment"),
    pytest.param("{{ l|map('upper')|join(',') }}", B(), {"l": TWO}, "AB,CD", id="filter-taking-the-context"),
    pytest.param("{{ l is sequence }}", B(max_size=13), {"l": TWO}, "True", id="sequence-test-does-not-print"),
    pytest.param("{{ 'z' is in(l) }}", B(max_size=14), {"l": TWO}, "False", id="in-test-at"),
    pytest.param("a\n{{ 'z' is in(l) }}", B(max_size=13), {"l": TWO}, at(2, SIZE.format(13)), id="in-test-compares"),
    # -- the globals are the bounded ones
    pytest.param("{{ range(150000)|length }}", B(), {}, "150000", id="range-past-the-sandboxs-own-limit"),
    pytest.param("a\n{{ range(11)|length }}", B(max_size=10), {}, at(2, SIZE.format(10)), id="range-over-size"),
    pytest.param(  # at most 20 words of at most 12 letters (+2) and 16 for the paragraph: 20 * 14 + 16 = 296
        "a\n{{ lipsum(1, False, 20, 20) }}", B(max_size=295), {}, at(2, SIZE.format(295)), id="lipsum-estimate"
    ),
    # -- containers the template makes, and what it prints
    pytest.param("{{ [x, x, x]|length }}", B(max_total=3), {"x": 1}, "3", id="list-literal-at-total"),
    pytest.param("a\n{{ [x, x, x]|length }}", B(max_total=2), {"x": 1}, at(2, TOTAL.format(2)), id="list-literal-over"),
    pytest.param("{{ l }}", B(max_size=14), {"l": TWO}, "['ab', 'cd']", id="printed-list-at"),
    pytest.param("a\n{{ l }}", B(max_size=13), {"l": TWO}, at(2, SIZE.format(13)), id="printed-list-over"),
    # -- output: what the template yields, and what blocks write into buffers
    pytest.param("abc\n{{ x }}", B(max_output=6), {"x": "de"}, "abc\nde", id="output-at-limit"),  # 4 + 2
    pytest.param("abc\n{{ x }}", B(max_output=5), {"x": "de"}, at(2, OUTPUT.format(5)), id="output-over-limit"),
    pytest.param(  # "bcd" appended twice: 6
        "{% set x %}{{ b }}{% endset %}{% set y %}{{ b }}{% endset %}",
        B(max_output=6),
        {"b": "bcd"},
        "",
        id="buffer-appends-at",
    ),
    pytest.param(
        "{% set x %}{{ b }}{% endset %}\n{% set y %}{{ b }}{% endset %}",
        B(max_output=6),
        {"b": "bcd"},
        at(2, OUTPUT.format(6)),
        id="buffer-appends-over",
    ),
    pytest.param(  # "bc" "bc" written at once, twice: 8
        "{% set x %}{{ b }}{{ b }}{% endset %}{% set y %}{{ b }}{{ b }}{% endset %}",
        B(max_output=8),
        {"b": "bc"},
        "",
        id="buffer-extends-at",
    ),
    pytest.param(
        "{% set x %}{{ b }}{{ b }}{% endset %}\n{% set y %}{{ b }}{{ b }}{% endset %}",
        B(max_output=7),
        {"b": "bc"},
        at(2, OUTPUT.format(7)),
        id="buffer-extends-over",
    ),
    pytest.param(  # the block starts on line 2: that is where it writes at once
        "a\n{% set x %}{{ b }}\n{{ b }}{% endset %}",
        B(max_output=6),
        {"b": "bcd"},
        at(2, OUTPUT.format(6)),
        id="buffer-names-the-line-its-text-starts-on",
    ),
    # -- Python's own limits inside a render
    pytest.param(
        "a\n{{ 2.0 ** 10000 }}", B(), {}, at(2, "template failed: a number is too large to compute"), id="float"
    ),
    pytest.param(
        MACRO + "{{ down(100000) }}",
        B(max_depth=1_000_000),
        {},
        at(2, "template recursion is too deep (Python's recursion limit)"),
        id="recursion",
    ),
    pytest.param(
        "a\nb\n{% include 'part.yaml' %}", B(max_size=10), {}, at(3, SIZE.format(10), "deploy/part.yaml"), id="include"
    ),
]


@pytest.mark.parametrize(("source", "budget", "context", "expected"), ROWS)
def test_a_render_writes_this_or_ends_in_this_one_line(
    source: str, budget: RenderBudget, context: dict[str, Any], expected: str
) -> None:
    assert outcome(source, budget, context) == expected


# --------------------------------------------------------------------------- environments


class Relative(BudgetedEnvironment):
    """Includes named relative to the including template (Jinja's ``join_path`` hook)."""

    def join_path(self, template: str, parent: str) -> str:
        return posixpath.join(posixpath.dirname(parent), template)


def test_includes_reach_join_path_with_their_parent() -> None:
    files = {
        "deploy/main.yaml": "{% include 'part.yaml' %}|{% include ['gone.yaml', 'part.yaml'] %}",
        "deploy/part.yaml": "p",
    }
    env = Relative(loader=jinja2.DictLoader(files))
    assert env.get_template("deploy/main.yaml").render() == "p|p"


def test_get_and_select_template_take_globals_and_work_outside_a_render() -> None:
    env = budgeted_environment(loader=jinja2.DictLoader({"a.yaml": "{{ who }}"}))
    assert env.get_template("a.yaml", globals={"who": "me"}).render() == "me"
    assert env.select_template(["gone.yaml", "a.yaml"], globals={"who": "you"}).render() == "you"


def test_a_plain_finalize_runs_and_printed_containers_are_still_measured() -> None:
    env = budgeted_environment(B(max_size=13), finalize=lambda value: "-" if value is None else value)
    assert env.from_string("{{ none }}{{ 1 }}").render(none=None) == "-1"
    with pytest.raises(TemplateError) as caught:
        env.from_string("{{ l }}").render(l=TWO)
    assert str(caught.value) == SIZE.format(13)


def test_positional_options_are_jinjas() -> None:
    env = BudgetedEnvironment("[%", "%]", "[[", "]]")
    assert env.from_string("[% if 1 %][[ 1 + 1 ]][% endif %]{{ x }}").render() == "2{{ x }}"


def test_the_default_budget_applies_when_none_is_given() -> None:
    env = budgeted_environment()
    assert env.budget == RenderBudget()
    assert env.from_string("{{ 'ab' * 3 }}").render() == "ababab"
    with pytest.raises(TemplateError) as caught:
        env.from_string("{{ 'a' * 1000001 }}").render()
    assert str(caught.value) == SIZE.format(1000000)


def test_the_do_statement_runs_its_expression() -> None:
    env = budgeted_environment(B(max_loops=1), extensions=["jinja2.ext.do"])
    assert env.from_string("{% do l.append(1) %}{% for x in l %}{{ x }}{% endfor %}{{ l }}").render(l=[]) == "1[1]"


def test_a_tree_compiled_twice_counts_each_iteration_once() -> None:
    env = budgeted_environment(B(max_loops=2))
    tree = env.parse("{% for i in s %}{{ i }}{% endfor %}")
    env.from_string(tree)
    assert env.from_string(tree).render(s="ab") == "ab"


def test_filters_and_tests_taken_from_another_budgeted_environment_keep_their_rules() -> None:
    env = budgeted_environment(B(max_size=13))
    env.filters.update(budgeted_environment().filters)
    env.tests.update(budgeted_environment().tests)
    # length and sequence neither print nor compare the list (it prints as 14)
    assert env.from_string("{{ l|length }} {{ l is sequence }}").render(l=TWO) == "2 True"


ADDING: list[Callable[[dict[str, Any]], object]] = [
    lambda table: table.__setitem__("shout", shout),
    lambda table: table.update(shout=shout),
    lambda table: table.update({"shout": shout}),
    lambda table: table.setdefault("shout", shout),
    lambda table: table.__ior__({"shout": shout}),
]


@pytest.mark.parametrize("add", ADDING, ids=["item", "update-keywords", "update-mapping", "setdefault", "or-equals"])
def test_a_filter_added_later_is_guarded(add: Callable[[dict[str, Any]], object]) -> None:
    env = budgeted_environment(B(max_size=4))
    add(env.filters)
    assert env.from_string("{{ s|shout }}").render(s="abc") == "ABC!"
    with pytest.raises(TemplateError) as caught:  # "ABCD!" is 5
        env.from_string("{{ s|shout }}").render(s="abcd")
    assert str(caught.value) == SIZE.format(4)


def test_a_filter_replacing_a_builtin_is_guarded_as_an_added_one() -> None:
    env = budgeted_environment(B(max_size=13))
    env.filters["sum"] = lambda values: len(values)
    with pytest.raises(TemplateError) as caught:  # its argument is measured: the list prints as 14
        env.from_string("{{ l|sum }}").render(l=TWO)
    assert str(caught.value) == SIZE.format(13)
    env = budgeted_environment(B(max_size=5))
    env.filters["indent"] = lambda text, width=4: text
    # its own indent, without the built-in's estimate (which would be 2 + (0 + 2) * 2 = 6 > 5 for "ab")
    assert env.from_string("{{ s|indent(2) }}").render(s="ab") == "ab"


def test_a_budgeted_filter_works_in_a_plain_environment_with_the_default_limits() -> None:
    plain = jinja2.Environment()
    plain.filters.update(budgeted_environment(B(max_size=1)).filters)
    assert plain.from_string("{{ s|center(6) }}").render(s="ab") == "  ab  "


def test_enable_async_and_a_finalize_taking_the_context_are_refused() -> None:
    with pytest.raises(TypeError) as caught:
        budgeted_environment(enable_async=True)
    assert str(caught.value) == "BudgetedEnvironment renders synchronously only (its checkpoints are not async)"
    with pytest.raises(TypeError) as caught:
        budgeted_environment(finalize=jinja2.pass_context(lambda context, value: value))
    assert str(caught.value) == "BudgetedEnvironment accepts only a plain finalize function"


# --------------------------------------------------------------------------- outside any render

UNSCOPED = """\
{%- macro pad(s) %}{{ s.center(12) }}{% endmacro -%}
{%- macro fill(s) %}{{ s|center(12) }}{% endmacro -%}
{%- macro free(s) %}{{ [s, s, s]|length }}{{ s.upper() }}{{ s|upper }}{{ s }}{% for x in s %}{% endfor %}{% endmacro -%}
"""


def test_a_macro_called_from_python_keeps_the_size_checks_but_no_counters_or_clock() -> None:
    env = budgeted_environment(B(max_size=10, max_total=2, max_loops=1, max_seconds=1e-9))
    module: Any = env.from_string(UNSCOPED).module
    assert str(module.free("ab")) == "3ABABab"  # 3 items and 2 + 2 characters made, 2 iterations, no clock
    for macro in (module.pad, module.fill):
        with pytest.raises(BudgetExceededError) as caught:  # 12 > 10
            macro("ab")
        assert (str(caught.value), caught.value.field, caught.value.limit) == (SIZE.format(10), "max_size", 10)


def test_a_scope_shares_one_budget_and_surfaces_the_jinja_error() -> None:
    env = budgeted_environment(B(max_loops=3))
    template = env.from_string("{% for x in s %}{% endfor %}")
    with budget_scope(B(max_loops=3)):
        "".join(template.root_render_func(template.new_context({"s": "ab"})))
        with pytest.raises(BudgetExceededError) as caught:  # 2 + 2 > 3
            "".join(template.root_render_func(template.new_context({"s": "ab"})))
    assert (str(caught.value), caught.value.field, caught.value.limit) == (LOOPS.format(3), "max_loops", 3)


# --------------------------------------------------------------------------- every way to run a template

SOURCE = "a\n{% for x in s %}{{ x }}{% endfor %}\n"


def template(budget: RenderBudget, source: str = SOURCE) -> jinja2.Template:
    env = budgeted_environment(budget, loader=jinja2.DictLoader({"m.yaml": source}))
    env.loader = jinja2.FunctionLoader(lambda name: (source, "deploy/m.yaml", lambda: True))
    return env.get_template("m.yaml")


def test_render_takes_its_context_as_jinja_does() -> None:
    assert template(B()).render({"s": "xy"}) == "a\nxy"
    assert template(B()).render(s="xy") == "a\nxy"
    with pytest.raises(TemplateError) as caught:
        template(B(max_loops=1)).render(s="xy")
    assert str(caught.value) == at(2, LOOPS.format(1), "deploy/m.yaml")


def test_generate_yields_each_piece_within_its_own_budget() -> None:
    assert list(template(B()).generate({"s": "xy"})) == ["a\n", "x", "y"]
    assert list(template(B()).generate(s="xy")) == ["a\n", "x", "y"]
    for budget in (B(max_loops=1), SPENT):
        with pytest.raises(TemplateError) as caught:
            "".join(template(budget).generate(s="xy"))
        limit = LOOPS.format(1) if budget.max_loops == 1 else TIME.format("1e-09")
        assert str(caught.value) == at(2, limit, "deploy/m.yaml")


def test_generate_inside_a_scope_spends_the_scopes_budget() -> None:
    with budget_scope(B(max_loops=1)), pytest.raises(TemplateError) as caught:
        "".join(template(B()).generate(s="xy"))
    assert str(caught.value) == at(2, LOOPS.format(1), "deploy/m.yaml")


MODULE = "{% set n = range(3)|length %}{% macro m() %}{{ s }}{{ t }}{% endmacro %}"


def test_make_module_sees_vars_locals_and_globals() -> None:
    module: Any = template(B(), MODULE).make_module({"t": "x"}, False, {"s": "y"})
    assert (module.n, str(module.m())) == (3, "yx")
    module = template(B(), MODULE).make_module({"t": "x", "s": "z"})
    assert (module.n, str(module.m())) == (3, "zx")
    with pytest.raises(TemplateError) as caught:
        template(B(max_size=2), MODULE).make_module({"t": "x", "s": "z"})
    assert str(caught.value) == at(1, SIZE.format(2), "deploy/m.yaml")


def test_render_bounded_applies_the_budget_given_or_the_environments() -> None:
    assert render_bounded(template(B()), {"s": "xy"}) == "a\nxy"
    with pytest.raises(TemplateError) as caught:
        render_bounded(template(B()), {"s": "xy"}, budget=B(max_loops=1))
    assert str(caught.value) == at(2, LOOPS.format(1), "deploy/m.yaml")
    with pytest.raises(TypeError) as raised:
        render_bounded(jinja2.Environment().from_string("a"), {})
    assert str(raised.value) == "render_bounded needs a template of a BudgetedEnvironment"


def test_a_template_without_a_file_is_located_by_its_line_alone() -> None:
    env = budgeted_environment(B(max_size=10))
    with pytest.raises(TemplateError) as caught:
        env.from_string("a\n{{ 'x' * 11 }}").render()
    assert (str(caught.value), caught.value.location.file, caught.value.location.line) == (SIZE.format(10), None, 2)


# --------------------------------------------------------------------------- syntax


def syntax_error(source: str) -> tuple[str, int, str | None, str | None]:
    with pytest.raises(jinja2.TemplateSyntaxError) as caught:
        budgeted_environment(loader=loader(source)).get_template("main.yaml")
    error = caught.value
    return (error.message or "", error.lineno, error.name, error.filename)


def test_a_syntax_error_names_the_template_its_file_and_line() -> None:
    assert syntax_error("a\n{% endfor %}")[1:] == (2, "main.yaml", "deploy/main.yaml")


def test_a_template_too_deep_to_parse_or_compile_names_its_file_and_line() -> None:
    deep = "a\nb\n{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
    assert syntax_error(deep) == ("the template nests too deeply", 3, "main.yaml", "deploy/main.yaml")
    # the innermost "+" adds x (line 2) and x (line 3): the later one is named
    chain = "a\n{{ x\n+ " + " + ".join(["x"] * 5000) + " }}"
    assert syntax_error(chain) == ("the template nests too deeply", 3, "main.yaml", "deploy/main.yaml")


# --------------------------------------------------------------------------- expressions


def test_an_expression_keeps_its_value_and_undefined_names_are_none() -> None:
    env = budgeted_environment(B(max_size=13))
    assert env.compile_expression("x * 2")(x=3) == 6
    assert env.compile_expression("x * 2")({"x": 4}) == 8
    assert env.compile_expression("missing")() is None
    assert isinstance(env.compile_expression("missing", undefined_to_none=False)(), jinja2.Undefined)
    assert evaluate_bounded(env.compile_expression("l"), {"l": ["ab", "c"]}) == ["ab", "c"]
    with pytest.raises(TemplateError) as caught:  # the list it returns is measured: 14
        evaluate_bounded(env.compile_expression("l"), {"l": TWO})
    assert str(caught.value) == SIZE.format(13)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("1 2", ("chunk after expression", 1, "1 2"), id="two-expressions"),
        pytest.param("1\n 2", ("chunk after expression", 2, "1\n 2"), id="two-expressions-on-two-lines"),
        pytest.param("[" * 5000 + "]" * 5000, ("the expression nests too deeply", 1, None), id="deep"),
    ],
)
def test_an_expression_that_cannot_be_read_is_a_syntax_error(source: str, expected: tuple[str, int, Any]) -> None:
    """Jinja's own errors keep the expression's text (to show the line); a deep one has none."""
    with pytest.raises(jinja2.TemplateSyntaxError) as caught:
        budgeted_environment().compile_expression(source)
    assert (caught.value.message, caught.value.lineno, caught.value.source) == expected


def hinted(text: str) -> str:
    raise TemplateError(f"no value {text}", hint="set it")


def test_evaluate_bounded_places_an_error_at_the_scalar_given() -> None:
    env = budgeted_environment(B(max_size=3))
    over = env.compile_expression("x * 4")
    runs: list[tuple[dict[str, Any], str, int | None]] = [
        ({"file": Path("services.yaml"), "line": 12}, "services.yaml:12: " + SIZE.format(3), 12),
        ({"file": Path("services.yaml")}, "services.yaml: " + SIZE.format(3), None),
        ({"line": 12}, SIZE.format(3), 12),
        ({}, SIZE.format(3), 1),
    ]
    for place, text, line in runs:
        with pytest.raises(TemplateError) as caught:
            evaluate_bounded(over, {"x": "a"}, **place)
        assert (str(caught.value), caught.value.location.line) == (text, line)
    with pytest.raises(TemplateError) as caught:  # an error of the project's own function keeps its hint
        evaluate_bounded(env.compile_expression("f('x')"), {"f": hinted}, file=Path("services.yaml"), line=3)
    assert str(caught.value) == "services.yaml:3: no value x\n  hint: set it"


def test_evaluate_bounded_applies_the_budget_given_or_the_environments() -> None:
    env = budgeted_environment(B(max_size=3))
    assert evaluate_bounded(env.compile_expression("x * 3"), {"x": "a"}) == "aaa"
    assert evaluate_bounded(budgeted_environment().compile_expression("x * 3"), {"x": "a"}, budget=B(max_size=3)) == (
        "aaa"
    )
    with pytest.raises(TemplateError) as caught:
        evaluate_bounded(budgeted_environment().compile_expression("x * 4"), {"x": "a"}, budget=B(max_size=3))
    assert str(caught.value) == SIZE.format(3)
    with pytest.raises(TypeError) as raised:
        evaluate_bounded(jinja2.Environment().compile_expression("1"), {})
    assert str(raised.value) == "evaluate_bounded needs an expression compiled by a BudgetedEnvironment"


def test_an_error_inside_a_macro_of_a_file_keeps_that_files_line() -> None:
    lib = template(B(max_size=3), "a\n{% macro big() %}\n{{ 'x' * 4 }}{% endmacro %}").module
    env = budgeted_environment(B(max_size=3))
    with pytest.raises(TemplateError) as caught:
        evaluate_bounded(env.compile_expression("lib.big()"), {"lib": lib}, file=Path("services.yaml"), line=12)
    assert str(caught.value) == at(3, SIZE.format(3), "deploy/m.yaml")


# --------------------------------------------------------------------------- the operator's settings

EVERY = {
    "CODEX_TEMPLATE_MAX_OUTPUT": "7",
    "CODEX_TEMPLATE_MAX_LOOPS": " 1_000 ",
    "CODEX_TEMPLATE_MAX_DEPTH": "9",
    "CODEX_TEMPLATE_MAX_INT_BITS": "1",
    "CODEX_TEMPLATE_MAX_SIZE": "9" * 18,
    "CODEX_TEMPLATE_MAX_TOTAL": "12",
    "CODEX_TEMPLATE_MAX_SECONDS": "0.5",
}


def test_every_setting_is_read_and_unset_or_empty_keeps_the_default() -> None:
    assert RenderBudget.from_environ(EVERY) == RenderBudget(7, 1000, 9, 1, 10**18 - 1, 12, 0.5)
    assert RenderBudget.from_environ({}) == RenderBudget()
    assert (
        RenderBudget.from_environ({"CODEX_TEMPLATE_MAX_LOOPS": "", "CODEX_TEMPLATE_MAX_SIZE": "  "}) == RenderBudget()
    )


def test_the_settings_come_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_TEMPLATE_MAX_DEPTH", "3")
    monkeypatch.setenv("CODEX_TEMPLATE_MAX_SECONDS", "2.5")
    assert RenderBudget.from_environ() == RenderBudget(max_depth=3, max_seconds=2.5)


FORTY = "x" * 40
BAD_SETTINGS = [
    ("CODEX_TEMPLATE_MAX_LOOPS", "0", "must be a whole number above 0, got '0'"),
    ("CODEX_TEMPLATE_MAX_LOOPS", "lots", "must be a whole number above 0, got 'lots'"),
    ("CODEX_TEMPLATE_MAX_SIZE", "1" * 19, "must be a whole number above 0, got '" + "1" * 19 + "'"),
    ("CODEX_TEMPLATE_MAX_DEPTH", FORTY, f"must be a whole number above 0, got '{FORTY}'"),
    ("CODEX_TEMPLATE_MAX_TOTAL", FORTY + "y", f"must be a whole number above 0, got '{FORTY}…'"),
    ("CODEX_TEMPLATE_MAX_SECONDS", "0", "must be a number of seconds above 0, got '0'"),
    ("CODEX_TEMPLATE_MAX_SECONDS", "-1", "must be a number of seconds above 0, got '-1'"),
    ("CODEX_TEMPLATE_MAX_SECONDS", "inf", "must be a number of seconds above 0, got 'inf'"),
    ("CODEX_TEMPLATE_MAX_SECONDS", "5s", "must be a number of seconds above 0, got '5s'"),
]


@pytest.mark.parametrize(("variable", "value", "message"), BAD_SETTINGS)
def test_a_bad_setting_is_one_line_naming_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RenderBudget.from_environ({variable: value})
    assert (str(caught.value), caught.value.location.path) == (f"{variable}: {message}", variable)


def test_the_smallest_settings_are_taken() -> None:
    assert RenderBudget.from_environ({"CODEX_TEMPLATE_MAX_LOOPS": "1"}) == RenderBudget(max_loops=1)
    assert RenderBudget(max_loops=1, max_seconds=0.5).max_seconds == 0.5


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"max_loops": 0}, "RenderBudget.max_loops must be a number above 0, not 0", id="zero"),
        pytest.param({"max_depth": True}, "RenderBudget.max_depth must be a number above 0, not True", id="bool"),
        pytest.param({"max_size": "9"}, "RenderBudget.max_size must be a number above 0, not '9'", id="text"),
        pytest.param({"max_output": 1.5}, "RenderBudget.max_output must be a whole number, not 1.5", id="fraction"),
        pytest.param({"max_seconds": math.inf}, "RenderBudget.max_seconds must be finite, not inf", id="inf"),
    ],
)
def test_a_budget_made_in_code_refuses_nonsense(fields: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=r"^RenderBudget\.") as caught:
        RenderBudget(**fields)
    assert str(caught.value) == expected


# --------------------------------------------------------------------------- refused before it is built

BUILT = [
    pytest.param("x: {{ s.center(10**9)|length }}\n", {}, SIZE.format(1000000), id="str-method"),
    pytest.param(
        "x: {{ (1).to_bytes(length=10**9, byteorder='big')|length }}\n", {}, SIZE.format(1000000), id="to-bytes"
    ),
    pytest.param(  # sum joins once after measuring: 3000 lists of 1000 are 3,000,000 items
        "{% set big = range(1000)|list %}x: {{ ([big] * 3000)|sum(start=[])|length }}\n",
        {},
        SIZE.format(1000000),
        id="sum-of-lists",
    ),
    pytest.param(  # with the size limits lifted, the allocation itself fails in the 1 GiB child
        "x: {{ 'x' * 4 * 10**9 }}\n",
        {"max_size": 10**12, "max_total": 10**12},
        "template ran out of memory",
        id="out-of-memory",
    ),
]


@pytest.mark.parametrize(("source", "budget", "message"), BUILT)
def test_a_huge_value_is_refused_before_it_is_built(
    fork_server: subprocess.Popen[str], tmp_path: Path, source: str, budget: dict[str, int], message: str
) -> None:
    report = hostile(fork_server, tmp_path, source, budget=budget, context={"s": "ab"})
    assert (report["message"], report["line"]) == (message, 1)
