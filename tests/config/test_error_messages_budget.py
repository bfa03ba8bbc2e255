"""Every error the template budget (codex_stacks/config/budget.py) shows, whole, as a user reads it.

Each case renders a small template from ``deploy/<name>`` with a small budget and compares the
full text of the error: ``file:line: message`` (docs/template-budget.md). Where a limit is a
number, a case just inside it renders and one just over it fails. The expected texts are written
out by hand from the template beside them; count the lines of the source to check the line.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest

from codex_stacks.config.budget import RenderBudget, budgeted_environment, evaluate_bounded, render_bounded
from codex_stacks.config.templating import render
from codex_stacks.errors import ConfigError, TemplateError

B = RenderBudget
TIME_SPENT = B(max_seconds=1e-9)
"""A deadline that has passed by the first checkpoint the template reaches."""
RENDERED = "rendered"

PART = "p1\np2\n{{ 'x' * 11 }}\n"
"""deploy/part.yaml: included by some cases; its line 3 is over a size limit of 10."""


def outcome(source: str, budget: RenderBudget, **context: Any) -> str:
    """``RENDERED``, or the whole text of the TemplateError the render of ``deploy/main.yaml`` ends in."""
    files = {"main.yaml": source, "part.yaml": PART}

    def load(name: str) -> tuple[str, str, Any] | None:
        return (files[name], f"deploy/{name}", lambda: True) if name in files else None

    env = budgeted_environment(budget, loader=jinja2.FunctionLoader(load), undefined=jinja2.StrictUndefined)
    try:
        env.get_template("main.yaml").render(context)
    except TemplateError as exc:
        return str(exc)
    return RENDERED


MACRO = "top\n{% macro down(n) %}{% if n %}{{ down(n - 1) }}{% endif %}{% endmacro %}\n"
"""A macro that calls itself ``n`` times more: ``down(n)`` nests ``n + 1`` calls deep."""


CASES = [
    # -- loop iterations
    pytest.param("a\n{% for i in range(3) %}{{ i }}{% endfor %}", B(max_loops=3), {}, RENDERED, id="loops-at-limit"),
    pytest.param(
        "a\n{% for i in range(4) %}{{ i }}{% endfor %}",
        B(max_loops=3),
        {},
        "deploy/main.yaml:2: template budget exceeded: loop iterations > 3 (CODEX_TEMPLATE_MAX_LOOPS)",
        id="loops-over-limit",
    ),
    pytest.param(
        "a\n{% for i in range(2) %}\n{% for j in range(2) %}{% endfor %}{% endfor %}",
        B(max_loops=5),
        {},
        "deploy/main.yaml:3: template budget exceeded: loop iterations > 5 (CODEX_TEMPLATE_MAX_LOOPS)",
        id="nested-loops-count-together",
    ),
    # -- render time: each kind of checkpoint
    pytest.param(
        "a\n{% for i in [1] %}{% endfor %}",
        TIME_SPENT,
        {},
        "deploy/main.yaml:2: template budget exceeded: render time > 1e-09 s (CODEX_TEMPLATE_MAX_SECONDS)",
        id="time-at-a-loop",
    ),
    pytest.param(
        "a\n{{ 'b'|upper }}",
        TIME_SPENT,
        {},
        "deploy/main.yaml:2: template budget exceeded: render time > 1e-09 s (CODEX_TEMPLATE_MAX_SECONDS)",
        id="time-at-a-filter",
    ),
    pytest.param(
        "a\n{{ 1 is odd }}",
        TIME_SPENT,
        {},
        "deploy/main.yaml:2: template budget exceeded: render time > 1e-09 s (CODEX_TEMPLATE_MAX_SECONDS)",
        id="time-at-a-test",
    ),
    pytest.param(
        "a\n{{ 'b'.upper() }}",
        TIME_SPENT,
        {},
        "deploy/main.yaml:2: template budget exceeded: render time > 1e-09 s (CODEX_TEMPLATE_MAX_SECONDS)",
        id="time-at-a-call",
    ),
    pytest.param(
        "a\nb\n{% include 'part.yaml' %}",
        TIME_SPENT,
        {},
        "deploy/main.yaml:3: template budget exceeded: render time > 1e-09 s (CODEX_TEMPLATE_MAX_SECONDS)",
        id="time-at-an-include",
    ),
    pytest.param(
        "a\nb\n{% include ['gone.yaml', 'part.yaml'] %}",
        TIME_SPENT,
        {},
        "deploy/main.yaml:3: template budget exceeded: render time > 1e-09 s (CODEX_TEMPLATE_MAX_SECONDS)",
        id="time-at-an-include-of-the-first-found",
    ),
    pytest.param("a\n{{ 'b' }}", B(max_seconds=2.5), {}, RENDERED, id="time-left-renders"),
    # -- call depth
    pytest.param(MACRO + "{{ down(1) }}", B(max_depth=2), {}, RENDERED, id="depth-at-limit"),
    pytest.param(
        MACRO + "{{ down(2) }}",
        B(max_depth=2),
        {},
        "deploy/main.yaml:2: template budget exceeded: call depth > 2 (CODEX_TEMPLATE_MAX_DEPTH)",
        id="depth-over-limit",
    ),
    # -- output characters: what the template yields and what blocks write into buffers
    pytest.param("abc\n{{ 'de' }}", B(max_output=6), {}, RENDERED, id="output-at-limit"),
    pytest.param(
        "abc\n{{ x }}",
        B(max_output=6),
        {"x": "def"},
        "deploy/main.yaml:2: template budget exceeded: output characters > 6 (CODEX_TEMPLATE_MAX_OUTPUT)",
        id="output-over-limit",
    ),
    pytest.param(
        "a\n{% set x %}bcdefgh{% endset %}",
        B(max_output=6),
        {},
        "deploy/main.yaml:2: template budget exceeded: output characters > 6 (CODEX_TEMPLATE_MAX_OUTPUT)",
        id="output-of-a-set-block",
    ),
    pytest.param(
        "a\n{% set x %}{{ b }}{{ b }}{% endset %}",
        B(max_output=6),
        {"b": "bcd"},
        "deploy/main.yaml:2: template budget exceeded: output characters > 6 (CODEX_TEMPLATE_MAX_OUTPUT)",
        id="output-of-a-set-block-written-at-once",
    ),
    pytest.param(
        "a\n{% set x %}{{ b }}{{ b }}{% endset %}", B(max_output=6), {"b": "bc"}, RENDERED, id="set-block-inside"
    ),
    # -- size of a value: known before the operation, found after it, or when it is printed
    pytest.param("a\n{{ 'b' * 10 }}", B(max_size=10), {}, RENDERED, id="size-at-limit"),
    pytest.param(
        "a\n{{ 'b' * 11 }}",
        B(max_size=10),
        {},
        "deploy/main.yaml:2: template budget exceeded: size of a value (characters or items) > 10"
        " (CODEX_TEMPLATE_MAX_SIZE)",
        id="size-over-limit-before-repeating",
    ),
    pytest.param("{{ a ~ 'de' }}", B(max_size=5), {"a": "abc"}, RENDERED, id="concat-at-limit"),
    pytest.param(
        "a\n{{ a ~ 'def' }}",
        B(max_size=5),
        {"a": "abc"},
        "deploy/main.yaml:2: template budget exceeded: size of a value (characters or items) > 5"
        " (CODEX_TEMPLATE_MAX_SIZE)",
        id="size-over-limit-after-concatenating",
    ),
    pytest.param(
        "a\n{{ items|first }}",
        B(max_size=5),
        {"items": ["abcdef"]},
        "deploy/main.yaml:2: template budget exceeded: size of a value (characters or items) > 5"
        " (CODEX_TEMPLATE_MAX_SIZE)",
        id="size-of-a-value-a-filter-picked",
    ),
    pytest.param("{{ x }}", B(max_size=2), {"x": []}, RENDERED, id="empty-list-printed-at-limit"),
    pytest.param(
        "a\n{{ x }}",
        B(max_size=1),
        {"x": []},
        "deploy/main.yaml:2: template budget exceeded: size of a value (characters or items) > 1"
        " (CODEX_TEMPLATE_MAX_SIZE)",
        id="empty-list-printed-over-limit",
    ),
    pytest.param(
        "a\n{{ x }}",
        B(max_size=10),
        {"x": [1, 2, 3, 4, 5]},
        "deploy/main.yaml:2: template budget exceeded: size of a value (characters or items) > 10"
        " (CODEX_TEMPLATE_MAX_SIZE)",
        id="flat-list-printed-over-limit",
    ),
    pytest.param(
        "a\n{{ x }}",
        B(max_size=5),
        {"x": [[1, 2], [3]]},
        "deploy/main.yaml:2: template budget exceeded: size of a value (characters or items) > 5"
        " (CODEX_TEMPLATE_MAX_SIZE)",
        id="nested-list-printed-over-limit-when-opened",
    ),
    pytest.param(
        "a\n{{ x }}",
        B(max_size=20),
        {"x": [[1], "y" * 20]},
        "deploy/main.yaml:2: template budget exceeded: size of a value (characters or items) > 20"
        " (CODEX_TEMPLATE_MAX_SIZE)",
        id="nested-list-printed-over-limit-at-an-item",
    ),
    pytest.param(
        "a\n{{ '%s-%s' % (x, y) }}",
        B(max_size=10),
        {"x": "abc", "y": "abc"},
        "deploy/main.yaml:2: template budget exceeded: size of a value (characters or items) > 10"
        " (CODEX_TEMPLATE_MAX_SIZE)",
        id="printf-over-limit",
    ),
    pytest.param(  # the estimate: the format's 5 characters and each value's
        "a\n{{ '%s-%s' % (x, y) }}", B(max_size=10), {"x": "ab", "y": "abc"}, RENDERED, id="printf-at-limit"
    ),
    pytest.param(
        "a\nb\n{% include 'part.yaml' %}",
        B(max_size=10),
        {},
        "deploy/part.yaml:3: template budget exceeded: size of a value (characters or items) > 10"
        " (CODEX_TEMPLATE_MAX_SIZE)",
        id="an-included-file-is-named-with-its-own-line",
    ),
    # -- nesting of a value (the call depth limit)
    pytest.param("{{ x }}", B(max_depth=2), {"x": [[1]]}, RENDERED, id="nesting-at-limit"),
    pytest.param(
        "a\n{{ x }}",
        B(max_depth=2),
        {"x": [[[1]]]},
        "deploy/main.yaml:2: template budget exceeded: nesting of a value > 2 (CODEX_TEMPLATE_MAX_DEPTH)",
        id="nesting-over-limit",
    ),
    # -- total size of the values made
    pytest.param("{{ 'a' * 6 }}{{ 'b' * 4 }}", B(max_total=10), {}, RENDERED, id="total-at-limit"),
    pytest.param(
        "a\n{{ 'a' * 6 }}\n{{ 'b' * 5 }}",
        B(max_total=10),
        {},
        "deploy/main.yaml:3: template budget exceeded: total size of the values made > 10 (CODEX_TEMPLATE_MAX_TOTAL)",
        id="total-over-limit-before-repeating",
    ),
    pytest.param(
        "a\n{{ a ~ a }}",
        B(max_total=10),
        {"a": "abcdef"},
        "deploy/main.yaml:2: template budget exceeded: total size of the values made > 10 (CODEX_TEMPLATE_MAX_TOTAL)",
        id="total-over-limit-after-concatenating",
    ),
    pytest.param("{{ a ~ 'bcde' }}", B(max_total=10), {"a": "abcdef"}, RENDERED, id="concat-total-at-limit"),
    # -- integer size
    pytest.param("{{ 15 * 17 }}{{ n + 1 }}", B(max_int_bits=8), {"n": 254}, RENDERED, id="int-at-limit"),
    pytest.param(
        "a\n{{ 16 * 16 }}",
        B(max_int_bits=8),
        {},
        "deploy/main.yaml:2: template budget exceeded: integer size > 8 bits (CODEX_TEMPLATE_MAX_INT_BITS)",
        id="int-over-limit-before-multiplying",
    ),
    pytest.param(
        "a\n{{ n + 1 }}",
        B(max_int_bits=8),
        {"n": 255},
        "deploy/main.yaml:2: template budget exceeded: integer size > 8 bits (CODEX_TEMPLATE_MAX_INT_BITS)",
        id="int-over-limit-after-adding",
    ),
    # -- Python's own limits inside a render
    pytest.param(
        "a\n{{ 2.0 ** 10000 }}",
        B(),
        {},
        "deploy/main.yaml:2: template failed: a number is too large to compute",
        id="float-overflow",
    ),
    pytest.param(
        MACRO + "{{ down(100000) }}",
        B(max_depth=1_000_000),
        {},
        "deploy/main.yaml:2: template recursion is too deep (Python's recursion limit)",
        id="python-recursion-limit",
    ),
]


@pytest.mark.parametrize(("source", "budget", "context", "expected"), CASES)
def test_a_render_ends_in_this_one_line(
    source: str, budget: RenderBudget, context: dict[str, Any], expected: str
) -> None:
    assert outcome(source, budget, **context) == expected


# --------------------------------------------------------------------------- each operation's bound


def over(limit: int, what: str = "size of a value (characters or items)", unit: str = "") -> str:
    """The one line a render of one line ends in when ``what`` passes ``limit``."""
    variable = {
        "size of a value (characters or items)": "CODEX_TEMPLATE_MAX_SIZE",
        "integer size": "CODEX_TEMPLATE_MAX_INT_BITS",
    }[what]
    return f"deploy/main.yaml:1: template budget exceeded: {what} > {limit}{unit} ({variable})"


BITS = "integer size"
TEN = B(max_size=10)
WORDS = {"items": ["abc", "def", "gh"], "more": ["abc", "def", "ghi"]}

BOUNDS = [
    # filters, measured before they run: a case at the limit, a case one over it
    pytest.param("{{ s|center(10) }}", TEN, {"s": "ab"}, RENDERED, id="center-filter-at"),
    pytest.param("{{ s|center(11) }}", TEN, {"s": "ab"}, over(10), id="center-filter-over"),
    pytest.param("{{ s|indent(2) }}", TEN, {"s": "ab\nc"}, RENDERED, id="indent-at"),  # 4 + 3 lines * 2
    pytest.param("{{ s|indent(3) }}", TEN, {"s": "ab\nc"}, over(10), id="indent-over"),
    pytest.param("{{ s|indent('   ') }}", TEN, {"s": "ab\nc"}, over(10), id="indent-by-text-over"),
    pytest.param("{{ s|wordwrap(79) }}", TEN, {"s": "ab"}, RENDERED, id="wordwrap-short"),
    pytest.param("{{ s|wordwrap(2) }}", TEN, {"s": "aaaa bbbb"}, over(10), id="wordwrap-into-many-lines"),
    pytest.param("{{ '%s'|format(s) }}", TEN, {"s": "a" * 8}, RENDERED, id="format-filter-at"),
    pytest.param("{{ '%s'|format(s) }}", TEN, {"s": "a" * 9}, over(10), id="format-filter-over"),
    pytest.param("{{ items|join(',') }}", TEN, WORDS, RENDERED, id="join-filter-at"),
    pytest.param("{{ more|join(',') }}", TEN, WORDS, over(10), id="join-filter-over"),
    pytest.param("{{ s|replace('a', 'bb') }}", TEN, {"s": "aaaaa"}, RENDERED, id="replace-filter-at"),
    pytest.param("{{ s|replace('a', 'bb') }}", TEN, {"s": "aaaaaa"}, over(10), id="replace-filter-over"),
    pytest.param("{{ s|replace('a', 'bb', 4) }}", TEN, {"s": "aaaaaa"}, RENDERED, id="replace-filter-counted"),
    pytest.param("{{ s|batch(10)|list|length }}", TEN, {"s": [1]}, RENDERED, id="batch-at"),
    pytest.param("{{ s|batch(11)|list|length }}", TEN, {"s": [1]}, over(10), id="batch-over"),
    pytest.param("{{ s|slice(11)|list|length }}", TEN, {"s": [1]}, over(10), id="slice-over"),
    pytest.param("{{ 1.5|round(3) }}", B(max_int_bits=10), {}, RENDERED, id="round-at"),  # 10**3 < 2**10
    pytest.param("{{ 1.5|round(4) }}", B(max_int_bits=10), {}, over(10, BITS, " bits"), id="round-over"),
    pytest.param("{{ s|int }}", B(max_int_bits=2), {"s": "00000003"}, RENDERED, id="int-of-8-digits"),
    pytest.param("{{ s|int }}", B(max_int_bits=2), {"s": "000000003"}, over(2, BITS, " bits"), id="int-of-9-digits"),
    pytest.param("{{ s|int }}", B(max_int_bits=2), {"s": "4"}, over(2, BITS, " bits"), id="int-too-large"),
    pytest.param("{{ x|tojson }}", TEN, {"x": [1, 2]}, RENDERED, id="tojson-at"),
    pytest.param("{{ x|tojson(1) }}", TEN, {"x": [1, 2]}, over(10), id="tojson-indented-over"),
    pytest.param("{{ x|pprint }}", B(max_size=20), {"x": [1, 2]}, RENDERED, id="pprint-at"),
    pytest.param("{{ x|pprint }}", TEN, {"x": [1, 2]}, over(10), id="pprint-over"),
    pytest.param("{{ x|unique|list|length }}", TEN, {"x": [[1, 2, 3, 4, 5]]}, over(10), id="unique-compares"),
    pytest.param("{{ (x|sum(start=[]))|length }}", B(max_size=2), {"x": [[1], [2]]}, RENDERED, id="sum-at"),
    pytest.param("{{ (x|sum(start=[]))|length }}", B(max_size=2), {"x": [[1], [2, 3]]}, over(2), id="sum-over"),
    # globals
    pytest.param("{{ range(10)|length }}", TEN, {}, RENDERED, id="range-at"),
    pytest.param("{{ range(11)|length }}", TEN, {}, over(10), id="range-over"),
    pytest.param("{{ range(10**30)|length }}", TEN, {}, over(10), id="range-past-any-length"),
    pytest.param("{{ lipsum(1) }}", TEN, {}, over(10), id="lipsum"),
    # operators
    pytest.param("{{ 10 * s }}", TEN, {"s": "a"}, RENDERED, id="repeat-on-the-right-at"),
    pytest.param("{{ 11 * s }}", TEN, {"s": "a"}, over(10), id="repeat-on-the-right-over"),
    pytest.param("{{ 2 ** 7 }}", B(max_int_bits=8), {}, RENDERED, id="power-at"),
    pytest.param("{{ 2 ** 8 }}", B(max_int_bits=8), {}, over(8, BITS, " bits"), id="power-over"),
    pytest.param("{{ a + b }}", TEN, {"a": "abcde", "b": "fghij"}, RENDERED, id="plus-at"),
    pytest.param("{{ a + b }}", TEN, {"a": "abcde", "b": "fghijk"}, over(10), id="plus-over"),
    pytest.param("{{ x == x }}", TEN, {"x": [1, 2, 3, 4, 5]}, over(10), id="comparing-walks-both"),
    pytest.param("{{ {x: 1} }}", TEN, {"x": (1, 2, 3, 4, 5)}, over(10), id="a-dict-key-is-hashed"),
    # methods of strings, lists and numbers
    pytest.param("{{ s.center(10) }}", TEN, {"s": "ab"}, RENDERED, id="center-method-at"),
    pytest.param("{{ s.center(11) }}", TEN, {"s": "ab"}, over(10), id="center-method-over"),
    pytest.param("{{ s.expandtabs(4) }}", TEN, {"s": "ab\tdef"}, RENDERED, id="expandtabs-at"),  # 6 + 1 tab * 4
    pytest.param("{{ s.expandtabs(4) }}", TEN, {"s": "abc\tdef"}, over(10), id="expandtabs-over"),
    pytest.param("{{ ','.join(items) }}", TEN, WORDS, RENDERED, id="join-method-at"),
    pytest.param("{{ ','.join(more) }}", TEN, WORDS, over(10), id="join-method-over"),
    pytest.param("{{ s.replace('a', 'bb') }}", TEN, {"s": "aaaaa"}, RENDERED, id="replace-method-at"),
    pytest.param("{{ s.replace('a', 'bb') }}", TEN, {"s": "aaaaaa"}, over(10), id="replace-method-over"),
    pytest.param("{{ s.translate({97: 'xyz'}) }}", B(max_size=9), {"s": "abc"}, RENDERED, id="translate-at"),
    pytest.param("{{ s.translate({97: 'xyz'}) }}", B(max_size=9), {"s": "abcd"}, over(9), id="translate-over"),
    pytest.param("{{ '{:>10}'.format(s) }}", TEN, {"s": "a"}, RENDERED, id="str-format-width-at"),
    pytest.param("{{ '{:>11}'.format(s) }}", TEN, {"s": "a"}, over(10), id="str-format-width-over"),
    pytest.param("{{ (1).to_bytes(10, 'big')|length }}", TEN, {}, RENDERED, id="to-bytes-at"),
    pytest.param("{{ (1).to_bytes(11, 'big')|length }}", TEN, {}, over(10), id="to-bytes-over"),
    pytest.param("{% set _ = l.append(0) %}{{ l|length }}", TEN, {"l": [0] * 9}, RENDERED, id="append-at"),
    pytest.param("{% set _ = l.append(0) %}{{ l|length }}", TEN, {"l": [0] * 10}, over(10), id="append-over"),
    pytest.param("{% set _ = l.extend(l) %}{{ l|length }}", TEN, {"l": [0] * 5}, RENDERED, id="extend-at"),
    pytest.param("{% set _ = l.extend(l) %}{{ l|length }}", TEN, {"l": [0] * 6}, over(10), id="extend-over"),
    pytest.param("{{ l.count(0) }}", TEN, {"l": [0] * 5}, over(10), id="counting-items-compares-them"),
]


@pytest.mark.parametrize(("source", "budget", "context", "expected"), BOUNDS)
def test_each_operation_is_bounded_at_its_limit(
    source: str, budget: RenderBudget, context: dict[str, Any], expected: str
) -> None:
    assert outcome(source, budget, **context) == expected


# --------------------------------------------------------------------------- expressions


def test_an_expression_error_takes_the_file_and_line_of_its_scalar() -> None:
    expression = budgeted_environment(B(max_size=3)).compile_expression("x * n")
    assert evaluate_bounded(expression, {"x": "a", "n": 3}) == "aaa"
    with pytest.raises(TemplateError) as caught:
        evaluate_bounded(expression, {"x": "a", "n": 4}, file=Path("services.yaml"), line=12)
    assert str(caught.value) == (
        "services.yaml:12: template budget exceeded: size of a value (characters or items) > 3"
        " (CODEX_TEMPLATE_MAX_SIZE)"
    )
    listed = budgeted_environment(B(max_size=14)).compile_expression("[x] * n")
    assert evaluate_bounded(listed, {"x": 1, "n": 3}) == [
        1,
        1,
        1,
    ]  # estimated: 8 for the brackets and commas, 2 a digit
    with pytest.raises(TemplateError) as caught:  # the list the caller will print is measured too
        evaluate_bounded(listed, {"x": 11, "n": 3}, file=Path("services.yaml"), line=12)
    assert str(caught.value) == (
        "services.yaml:12: template budget exceeded: size of a value (characters or items) > 14"
        " (CODEX_TEMPLATE_MAX_SIZE)"
    )
    with pytest.raises(TemplateError) as caught:  # no place given: the message alone
        evaluate_bounded(expression, {"x": "a", "n": 4})
    assert (
        str(caught.value)
        == "template budget exceeded: size of a value (characters or items) > 3 (CODEX_TEMPLATE_MAX_SIZE)"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("1 2", "chunk after expression", id="two-expressions"),
        pytest.param("[" * 5000 + "]" * 5000, "the expression nests too deeply", id="deep-expression"),
    ],
)
def test_an_expression_that_cannot_be_read_is_a_syntax_error_on_line_1(source: str, message: str) -> None:
    with pytest.raises(jinja2.TemplateSyntaxError) as caught:
        budgeted_environment().compile_expression(source)
    assert (caught.value.message, caught.value.lineno) == (message, 1)


@pytest.mark.parametrize(
    ("source", "line"),
    [
        pytest.param("a\nb\n{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", 3, id="deep-parentheses"),
        pytest.param("a\n{{ " + " + ".join(["x"] * 5000) + " }}", 2, id="long-chain-of-operators"),
    ],
)
def test_a_template_nested_too_deeply_is_a_syntax_error_with_its_line(source: str, line: int) -> None:
    with pytest.raises(TemplateError) as caught:
        render(source, {"x": 1}, source="deploy/deep.yaml")
    assert str(caught.value) == f"deploy/deep.yaml:{line}: template syntax error: the template nests too deeply"


def test_str_format_map_is_called_as_python_calls_it() -> None:
    with pytest.raises(TemplateError) as caught:
        render("a\n{{ '{x}'.format_map() }}", {}, source="deploy/m.yaml")
    assert str(caught.value) == (
        "deploy/m.yaml:2: template failed: TypeError: format_map() takes exactly one argument (0 given)"
    )
    with pytest.raises(TemplateError) as caught:
        render("a\n{{ '{x}'.format_map({}, x=1) }}", {}, source="deploy/m.yaml")
    assert str(caught.value) == "deploy/m.yaml:2: template failed: TypeError: format_map() takes no keyword arguments"


# --------------------------------------------------------------------------- every way to run a template


def test_each_way_to_run_a_template_ends_in_the_same_one_line() -> None:
    env = budgeted_environment(B(max_size=10))
    code = env.compile("a\nb\n{{ 'x' * 11 }}\n", name="m.yaml", filename="deploy/m.yaml")
    template = env.template_class.from_code(env, code, env.make_globals(None))
    expected = (
        "deploy/m.yaml:3: template budget exceeded: size of a value (characters or items) > 10"
        " (CODEX_TEMPLATE_MAX_SIZE)"
    )
    runs: dict[str, Callable[[], object]] = {
        "render": template.render,
        "render_bounded": lambda: render_bounded(template, {}),
        "generate": lambda: "".join(template.generate()),
        "make_module": template.make_module,
    }
    for way, run in runs.items():
        with pytest.raises(TemplateError) as caught:
            run()
        assert (way, str(caught.value)) == (way, expected)
    with pytest.raises(TemplateError) as caught:  # an expression called directly: no file of its own
        env.compile_expression("x * 11")(x="y")
    assert str(caught.value) == (
        "template budget exceeded: size of a value (characters or items) > 10 (CODEX_TEMPLATE_MAX_SIZE)"
    )


def test_running_out_of_memory_is_one_line_too() -> None:
    """In a child whose address space is capped (a hang guard bounds it): with the size limits
    lifted, the allocation itself fails."""
    child = textwrap.dedent(
        """
        import resource
        from codex_stacks.config.budget import RenderBudget, budgeted_environment
        from codex_stacks.errors import TemplateError
        env = budgeted_environment(RenderBudget(max_size=10**12, max_total=10**12))
        code = env.compile("a\\n{{ 'x' * 4 * 10**9 }}", name="m.yaml", filename="deploy/m.yaml")
        template = env.template_class.from_code(env, code, env.make_globals(None))
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        try:
            template.render()
        except TemplateError as exc:
            print(exc)
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=False)
    assert (done.stdout, done.stderr) == ("deploy/m.yaml:2: template ran out of memory\n", "")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(
            lambda: budgeted_environment(enable_async=True),
            "BudgetedEnvironment renders synchronously only (its checkpoints are not async)",
            id="async",
        ),
        pytest.param(
            lambda: budgeted_environment(finalize=jinja2.pass_context(lambda context, value: value)),
            "BudgetedEnvironment accepts only a plain finalize function",
            id="finalize-taking-the-context",
        ),
        pytest.param(
            lambda: render_bounded(jinja2.Environment().from_string("a"), {}),
            "render_bounded needs a template of a BudgetedEnvironment",
            id="render-a-plain-template",
        ),
        pytest.param(
            lambda: evaluate_bounded(jinja2.Environment().compile_expression("1"), {}),
            "evaluate_bounded needs an expression compiled by a BudgetedEnvironment",
            id="evaluate-a-plain-expression",
        ),
    ],
)
def test_code_that_misuses_the_budget_api_is_told_how(make: Any, expected: str) -> None:
    with pytest.raises(TypeError) as caught:
        make()
    assert str(caught.value) == expected


# --------------------------------------------------------------------------- the operator's settings

SETTINGS = [
    pytest.param({"CODEX_TEMPLATE_MAX_LOOPS": "1"}, None, id="count-at-its-floor"),
    pytest.param(
        {"CODEX_TEMPLATE_MAX_LOOPS": "0"},
        "CODEX_TEMPLATE_MAX_LOOPS: must be a whole number above 0, got '0'",
        id="count-below-its-floor",
    ),
    pytest.param({"CODEX_TEMPLATE_MAX_SIZE": "9" * 18}, None, id="count-of-18-digits"),
    pytest.param(
        {"CODEX_TEMPLATE_MAX_SIZE": "9" * 19},
        "CODEX_TEMPLATE_MAX_SIZE: must be a whole number above 0, got '9999999999999999999'",
        id="count-of-19-digits",
    ),
    pytest.param({"CODEX_TEMPLATE_MAX_OUTPUT": " 1_000 "}, None, id="count-with-underscores-and-spaces"),
    pytest.param(
        {"CODEX_TEMPLATE_MAX_OUTPUT": "_1"},
        "CODEX_TEMPLATE_MAX_OUTPUT: must be a whole number above 0, got '_1'",
        id="count-starting-with-an-underscore",
    ),
    pytest.param(
        {"CODEX_TEMPLATE_MAX_DEPTH": "x" * 40},
        "CODEX_TEMPLATE_MAX_DEPTH: must be a whole number above 0, got '" + "x" * 40 + "'",
        id="a-value-of-40-characters-is-shown-whole",
    ),
    pytest.param(
        {"CODEX_TEMPLATE_MAX_TOTAL": "x" * 41},
        "CODEX_TEMPLATE_MAX_TOTAL: must be a whole number above 0, got '" + "x" * 40 + "…'",
        id="a-value-of-41-characters-is-cut",
    ),
    pytest.param(
        {"CODEX_TEMPLATE_MAX_INT_BITS": "4k"},
        "CODEX_TEMPLATE_MAX_INT_BITS: must be a whole number above 0, got '4k'",
        id="int-bits-not-a-number",
    ),
    pytest.param({"CODEX_TEMPLATE_MAX_SECONDS": "0.001"}, None, id="seconds-just-above-0"),
    pytest.param(
        {"CODEX_TEMPLATE_MAX_SECONDS": "0"},
        "CODEX_TEMPLATE_MAX_SECONDS: must be a number of seconds above 0, got '0'",
        id="seconds-of-0",
    ),
    pytest.param(
        {"CODEX_TEMPLATE_MAX_SECONDS": "nan"},
        "CODEX_TEMPLATE_MAX_SECONDS: must be a number of seconds above 0, got 'nan'",
        id="seconds-not-a-number",
    ),
    pytest.param(
        {"CODEX_TEMPLATE_MAX_SECONDS": "1e999"},
        "CODEX_TEMPLATE_MAX_SECONDS: must be a number of seconds above 0, got '1e999'",
        id="seconds-infinite",
    ),
    pytest.param(
        {"CODEX_TEMPLATE_MAX_SECONDS": "5s"},
        "CODEX_TEMPLATE_MAX_SECONDS: must be a number of seconds above 0, got '5s'",
        id="seconds-with-a-unit",
    ),
]


@pytest.mark.parametrize(("environ", "expected"), SETTINGS)
def test_an_operator_setting_is_taken_or_refused_in_one_line(environ: dict[str, str], expected: str | None) -> None:
    if expected is None:
        RenderBudget.from_environ(environ)
        return
    with pytest.raises(ConfigError) as caught:
        RenderBudget.from_environ(environ)
    assert str(caught.value) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"max_loops": 0}, "RenderBudget.max_loops must be a number above 0, not 0", id="zero"),
        pytest.param({"max_depth": True}, "RenderBudget.max_depth must be a number above 0, not True", id="bool"),
        pytest.param({"max_size": "9"}, "RenderBudget.max_size must be a number above 0, not '9'", id="text"),
        pytest.param({"max_output": 1.5}, "RenderBudget.max_output must be a whole number, not 1.5", id="fraction"),
        pytest.param({"max_total": math.inf}, "RenderBudget.max_total must be a whole number, not inf", id="inf"),
        pytest.param(
            {"max_seconds": math.inf}, "RenderBudget.max_seconds must be finite, not inf", id="infinite-seconds"
        ),
        pytest.param(
            {"max_seconds": math.nan}, "RenderBudget.max_seconds must be a number above 0, not nan", id="nan-seconds"
        ),
    ],
)
def test_a_budget_made_in_code_refuses_nonsense_naming_the_field(fields: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=r"^RenderBudget\.") as caught:
        RenderBudget(**fields)
    assert str(caught.value) == expected
