"""The template budget's estimates of the text an operation will make, row by row, at the exact size.

codex_stacks/config/budget.py measures what a string method, ``%`` formatting, ``str.format``,
``~`` and the ``center``/``indent``/``wordwrap``/``join``/``replace``/``format`` filters will make
*before* they run (docs/template-budget.md, "What is checked, and when"). A wrong estimate shows
only as a limit tripping at another size, so each row gives the size N a user would see the
limit trip at, counted by hand in a comment beside the row from Python's and Jinja's semantics
(an estimate that is an upper bound says so and applies the rule the code documents):

- ``LIMITS``: with ``CODEX_TEMPLATE_MAX_SIZE`` = N the template renders exactly this output; with
  N - 1 it ends in the one-line size error.
- ``TOTALS``: the same with ``CODEX_TEMPLATE_MAX_TOTAL`` (what the render's operations made,
  summed), where the estimate is charged to the total though the operation returns its input.
- ``THEN_PYTHON``: at N the estimate passes and Python's own error follows (the template was
  wrong anyway); at N - 1 the budget stops it first.
- ``WIDTHS``: the same for widths of 18 and 19 digits, under a limit of about 10**18.
- ``OUTCOMES`` and ``RAISES``: other things a user reads (which error wins, an ordinary use).
- ``HUGE``: a value of about 10**9 characters is refused before it is built: the render runs in
  the 1 GiB child of tests/config/test_budget.py, which reports its peak memory.
- ``ONE_MORE``: an estimate that missed one copy of a separator would let a result of tens of
  MB be built and refused only afterwards, with the same message: tracemalloc tells them apart.

Each template is one line of ``deploy/main.yaml``, so an error reads ``deploy/main.yaml:1: …``.
"""

from __future__ import annotations

import subprocess
import tracemalloc
import types
from pathlib import Path
from typing import Any

import jinja2
import pytest

from codex_stacks.config.budget import BudgetExceededError, RenderBudget, budgeted_environment
from codex_stacks.errors import TemplateError
from tests.config.test_budget import SIZE as DEFAULT_SIZE
from tests.config.test_budget import fork_server, hostile, run_child

__all__ = ["fork_server"]  # the fixture of tests/config/test_budget.py, used by name below

B = RenderBudget
GROWTH_MB = 100
"""How much more memory than a render of a tiny template the child may peak at when a huge value
is refused (building it takes 1,000 MB; the child's cap is 1 GiB)."""
HUGE_LIMIT = 10**19
"""A size and total limit above every estimate here, for the rows about 19-digit widths."""


def render(source: str, budget: RenderBudget, context: dict[str, Any], *, autoescape: bool = False) -> str:
    """The output of ``deploy/main.yaml`` = ``source``, or the whole text of its TemplateError."""

    def load(name: str) -> tuple[str, str, Any] | None:
        return (source, f"deploy/{name}", lambda: True) if name == "main.yaml" else None

    env = budgeted_environment(
        budget, loader=jinja2.FunctionLoader(load), undefined=jinja2.StrictUndefined, autoescape=autoescape
    )
    try:
        return env.get_template("main.yaml").render(context)
    except TemplateError as exc:
        return str(exc)


def size_error(limit: int) -> str:
    return (
        f"deploy/main.yaml:1: template budget exceeded: size of a value (characters or items) > {limit}"
        " (CODEX_TEMPLATE_MAX_SIZE)"
    )


def total_error(limit: int) -> str:
    return (
        f"deploy/main.yaml:1: template budget exceeded: total size of the values made > {limit}"
        " (CODEX_TEMPLATE_MAX_TOTAL)"
    )


TEXT_METHODS = [
    # -- center/ljust/rjust/zfill: max(len, width), exact
    pytest.param("{{ s.center(7) }}", {"s": "abc"}, 7, "  abc  ", id="center-width"),  # max(3, 7) = 7
    pytest.param("{{ s.ljust(5, '*') }}", {"s": "abc"}, 5, "abc**", id="ljust-fill"),  # max(3, 5) = 5
    pytest.param("{{ s.rjust(4) }}", {"s": "abc"}, 4, " abc", id="rjust"),  # max(3, 4) = 4
    pytest.param("{{ s.zfill(6) }}", {"s": "42"}, 6, "000042", id="zfill"),  # max(2, 6) = 6
    pytest.param("{{ s.center(2) }}x", {"s": "abcd"}, 4, "abcdx", id="center-narrower-than-text"),  # max(4, 2)
    # -- expandtabs: len + tabs * tabsize, an upper bound (a tab becomes 1..tabsize spaces)
    pytest.param("{{ s.expandtabs(4) }}", {"s": "a\tb"}, 7, "a   b", id="expandtabs-4"),  # 3 + 1 * 4
    pytest.param("{{ s.expandtabs(tabsize=3) }}", {"s": "a\tb\t"}, 10, "a  b  ", id="expandtabs-by-name"),  # 4 + 2 * 3
    pytest.param("{{ s.expandtabs() }}", {"s": "\tb"}, 10, "        b", id="expandtabs-default-8"),  # 2 + 1 * 8
    pytest.param("{{ s.expandtabs(0) }}", {"s": "a\tb"}, 3, "ab", id="expandtabs-0"),  # 3 + 1 * 0
    pytest.param("{{ s.expandtabs(-2) }}", {"s": "a\tb"}, 3, "ab", id="expandtabs-negative"),  # 3 + 1 * max(-2, 0)
    pytest.param("{{ s.expandtabs(2) }}", {"s": b"a\tb"}, 5, "b'a b'", id="expandtabs-bytes"),  # 3 + 1 * 2
    # -- join: the items' lengths + separator * (items - 1), exact
    pytest.param("{{ '-'.join(x) }}", {"x": ["ab", "cd", "e"]}, 7, "ab-cd-e", id="join-three"),  # 5 + 1 * 2
    pytest.param("{{ '--'.join(x) }}", {"x": ["abc"]}, 3, "abc", id="join-one"),  # 3 + 2 * 0
    pytest.param(
        "{{ '+'.join(x|map('upper')) }}", {"x": ["ab", "c"]}, 4, "AB+C", id="join-of-a-generator"
    ),  # 3 + 1 * 1, the generator read once
    # -- replace: len + times * max(len(new) - len(old), 0); times = count, or len + 1 for ''
    pytest.param("{{ s.replace('a', 'xyz') }}", {"s": "abab"}, 8, "xyzbxyzb", id="replace-grows"),  # 4 + 2 * 2
    pytest.param("{{ s.replace('ab', 'x') }}", {"s": "abab"}, 4, "xx", id="replace-shrinks"),  # 4 + 2 * 0, upper bound
    pytest.param("{{ s.replace('', '-') }}", {"s": "ab"}, 5, "-a-b-", id="replace-empty-old"),  # 2 + 3 * 1
    pytest.param("{{ s.replace('a', 'xyz', 1) }}", {"s": "abab"}, 6, "xyzbab", id="replace-count"),  # 4 + 1 * 2
    pytest.param("{{ s.replace('a', 'xyz', 0) }}", {"s": "abab"}, 4, "abab", id="replace-count-0"),  # 4 + 0 * 2
    pytest.param("{{ s.replace('a', 'xyz', -1) }}", {"s": "abab"}, 8, "xyzbxyzb", id="replace-count-negative"),
    pytest.param(
        "{{ s.replace(o, n) }}", {"s": b"aba", "o": b"a", "n": b"xy"}, 5, "b'xybxy'", id="replace-bytes"
    ),  # 3 + 2 * 1
    # -- translate: len * the longest replacement (at least 1), an upper bound
    pytest.param("{{ s.translate(t) }}", {"s": "abc", "t": {97: "xyz"}}, 9, "xyzbc", id="translate"),  # 3 * 3
    pytest.param("{{ s.translate(t) }}", {"s": "abc", "t": {97: None}}, 3, "bc", id="translate-delete"),  # 3 * 1
    pytest.param("{{ s.translate(t) }}", {"s": "abc", "t": {97: ""}}, 3, "bc", id="translate-empty"),  # 3 * max(0, 1)
    pytest.param(
        "{{ s.translate(t) }}", {"s": "abc", "t": {97: 98, 99: "de"}}, 6, "bbde", id="translate-numbers"
    ),  # 3 * 2: only strings count
]

PRINTF = [
    # len(template) + every width and precision + each value's text (an int: bits // 3 + 2), an
    # upper bound (docs/template-budget.md)
    pytest.param("{{ '%5s' % v }}", {"v": "ab"}, 10, "   ab", id="printf-width"),  # 3 + 5 + 2
    pytest.param("{{ '%.3s' % v }}", {"v": "abcdef"}, 13, "abc", id="printf-precision"),  # 4 + 3 + 6
    pytest.param("{{ '%*s' % (4, v) }}", {"v": "ab"}, 9, "  ab", id="printf-star-width"),  # 3 + 4 + 2
    pytest.param("{{ '%*s' % (-4, v) }}", {"v": "ab"}, 9, "ab  ", id="printf-negative-star"),  # 3 + abs(-4) + 2
    pytest.param("{{ '%*.*s' % (5, 2, v) }}", {"v": "abc"}, 15, "   ab", id="printf-two-stars"),  # 5 + 5 + 2 + 3
    pytest.param("{{ '100%% %s' % v }}", {"v": "ab"}, 10, "100% ab", id="printf-percent-sign"),  # 8 + 2
    pytest.param("{{ '%s' % m }}", {"m": {"a": "b"}}, 14, "{'a': 'b'}", id="printf-a-dict"),  # 2 + (2 + 4 + 3 + 3)
    pytest.param("{{ '%(a)s!' % m }}", {"m": {"a": "xyz"}}, 9, "xyz!", id="printf-by-key"),  # 6 + 3
    pytest.param("{{ '%s%s%s' % (a, b, c) }}", {"a": "a", "b": "bb", "c": "cccc"}, 13, "abbcccc", id="printf-three"),
    pytest.param("{{ '%s%s' % (a, b) }}", {"a": "ab", "b": "cde"}, 9, "abcde", id="printf-two"),  # 4 + 2 + 3
    pytest.param("{{ '%d' % n }}", {"n": 2**30}, 14, "1073741824", id="printf-int"),  # 2 + 31 // 3 + 2
    pytest.param("{{ '%x' % n }}", {"n": 255}, 6, "ff", id="printf-small-int"),  # 2 + 8 // 3 + 2
    pytest.param("{{ '%s' % f }}", {"f": 2.5}, 10, "2.5", id="printf-float"),  # 2 + 8 (any other value)
    # the format filter: the same rule over its arguments, or its keywords
    pytest.param("{{ '%5s'|format(v) }}", {"v": "abc"}, 11, "  abc", id="format-filter"),  # 3 + 5 + 3
    pytest.param("{{ '%s-%s'|format(a, b) }}", {"a": "ab", "b": "c"}, 8, "ab-c", id="format-filter-two"),  # 5 + 2 + 1
    pytest.param("{{ '%(a)s!'|format(a=v) }}", {"v": "xyz"}, 9, "xyz!", id="format-filter-keywords"),  # 6 + 3
    pytest.param(
        "{{ x|format(v) }}", {"x": ["%s"], "v": "ab"}, 8, "['ab']", id="format-filter-of-a-list"
    ),  # not a string: the list is measured as printed, 2 + 2 * 1 + (2 + 2)
]

FILTERS = [
    # center: max(text, width), exact; the default width is 80
    pytest.param("{{ s|center(7) }}", {"s": "abc"}, 7, "  abc  ", id="center-filter"),  # max(3, 7)
    pytest.param("{{ s|center(width=6) }}", {"s": "abc"}, 6, " abc  ", id="center-filter-by-name"),  # max(3, 6)
    pytest.param(
        "{{ s|center }}", {"s": "abc"}, 80, " " * 38 + "abc" + " " * 39, id="center-filter-default"
    ),  # max(3, 80); Python puts the odd space on the right here
    pytest.param("{{ x|center(3) }}", {"x": [1, 2]}, 10, "[1, 2]", id="center-filter-of-a-list"),
    # ^ the list's text is estimated: 2 + 2 * 2 + 2 + 2 (a small int counts 2): max(10, 3)
    # indent: text + (newlines + 2) * step, an upper bound (every line, plus a first line)
    pytest.param("{{ s|indent(2) }}", {"s": "a\nb"}, 9, "a\n  b", id="indent"),  # 3 + 3 * 2
    pytest.param("{{ s|indent(width='--') }}", {"s": "a\nb"}, 9, "a\n--b", id="indent-string-by-name"),  # 3 + 3 * 2
    pytest.param("{{ s|indent }}", {"s": "a\nb"}, 15, "a\n    b", id="indent-default-4"),  # 3 + 3 * 4
    pytest.param("{{ s|indent(0) }}", {"s": "a\nb"}, 3, "a\nb", id="indent-0"),  # 3 + 3 * 0
    pytest.param("{{ s|indent(-1) }}", {"s": "a\nb"}, 3, "a\nb", id="indent-negative"),  # 3 + 3 * max(-1, 0)
    pytest.param(
        "{{ s|indent(3, true, true) }}", {"s": "a\n\nb"}, 16, "   a\n   \n   b", id="indent-first-and-blank"
    ),  # 4 + 4 * 3
    # wordwrap: text + lines * len(wrapstring); lines = min(text + 1, 2 * text // width + newlines + 2)
    pytest.param("{{ s|wordwrap(3) }}", {"s": "aaa bbb ccc"}, 20, "aaa\nbbb\nccc", id="wordwrap"),
    # ^ 11 + min(12, 22 // 3 + 2) * 1
    pytest.param("{{ s|wordwrap(width=3) }}", {"s": "aaa bbb ccc"}, 20, "aaa\nbbb\nccc", id="wordwrap-by-name"),
    pytest.param(
        "{{ s|wordwrap(3, wrapstring='--') }}", {"s": "aaa bbb ccc"}, 29, "aaa--bbb--ccc", id="wordwrap-wrapstring"
    ),  # 11 + 9 * 2
    pytest.param(
        "{{ s|wordwrap(3, true, '--') }}", {"s": "aaa bbb ccc"}, 29, "aaa--bbb--ccc", id="wordwrap-wrapstring-4th"
    ),
    pytest.param("{{ s|wordwrap(3) }}", {"s": "aaa bbb\nccc"}, 21, "aaa\nbbb\nccc", id="wordwrap-paragraphs"),
    # ^ 11 + min(12, 22 // 3 + 3)
    pytest.param("{{ s|wordwrap(1) }}", {"s": "ab"}, 5, "a\nb", id="wordwrap-every-character"),  # 2 + min(3, 4 + 2)
    pytest.param(
        "{{ s|wordwrap }}", {"s": "word " * 15 + "abcd"}, 83, "word " * 15 + "abcd", id="wordwrap-default-79"
    ),  # 79 + min(80, 158 // 79 + 2)
    # join: the items' text + separator * (items - 1), exact for strings
    pytest.param("{{ x|join('-') }}", {"x": ["ab", "cd", "e"]}, 7, "ab-cd-e", id="join-filter"),  # 5 + 1 * 2
    pytest.param("{{ x|join(d='-') }}", {"x": ["ab", "cd", "e"]}, 7, "ab-cd-e", id="join-filter-by-name"),
    pytest.param("{{ x|join }}", {"x": ["ab", "c"]}, 3, "abc", id="join-filter-default"),  # 3 + 0 * 1
    pytest.param("{{ x|join('--') }}", {"x": ["abc"]}, 3, "abc", id="join-filter-one"),  # 3 + 2 * 0
    pytest.param("{{ x|join(',') }}", {"x": [1, 22, 333]}, 11, "1,22,333", id="join-filter-numbers"),
    # ^ each int counts bits * 0.30103 + 2: 1 -> 2, 22 (5 bits) -> 3, 333 (9 bits) -> 4; 9 + 1 * 2
    pytest.param("{{ x|join(0) }}", {"x": ["a", "b"]}, 4, "a0b", id="join-filter-number-separator"),  # 2 + 2 * 1
    pytest.param(
        "{{ x|join(', ', 'n') }}", {"x": [{"n": "ab"}, {"n": "c"}]}, 5, "ab, c", id="join-filter-attribute"
    ),  # 3 + 2 * 1
    pytest.param(
        "{{ x|join(', ', attribute='n') }}", {"x": [{"n": "ab"}, {"n": "c"}]}, 5, "ab, c", id="join-attribute-by-name"
    ),
    pytest.param(
        "{{ x|join(d=', ', attribute='n') }}", {"x": [{"n": "ab"}, {"n": "c"}]}, 5, "ab, c", id="join-all-by-name"
    ),
    # replace: text + times * max(new - old, 0); times = count of old (text + 1 when old is empty
    # or either is not a string), at most count
    pytest.param("{{ s|replace('a', 'xyz') }}", {"s": "abab"}, 8, "xyzbxyzb", id="replace-filter"),  # 4 + 2 * 2
    pytest.param("{{ s|replace(old='a', new='xyz') }}", {"s": "abab"}, 8, "xyzbxyzb", id="replace-filter-by-name"),
    pytest.param("{{ s|replace('ab', 'x') }}", {"s": "abab"}, 4, "xx", id="replace-filter-shrinks"),  # 4 + 2 * 0
    pytest.param("{{ s|replace('', '-') }}", {"s": "ab"}, 5, "-a-b-", id="replace-filter-empty-old"),  # 2 + 3 * 1
    pytest.param("{{ s|replace('a', 'xyz', 1) }}", {"s": "abab"}, 6, "xyzbab", id="replace-filter-count"),  # 4 + 2
    pytest.param("{{ s|replace('a', 'xyz', count=1) }}", {"s": "abab"}, 6, "xyzbab", id="replace-filter-count-name"),
    pytest.param("{{ s|replace('a', 'xyz', 0) }}", {"s": "abab"}, 4, "abab", id="replace-filter-count-0"),
    pytest.param("{{ x|replace('a', 'bb') }}", {"x": ["a", "a"]}, 25, "['bb', 'bb']", id="replace-filter-of-a-list"),
    # ^ the list's text counts 2 + 2 * 2 + 3 + 3 = 12, every place may grow: 12 + 13 * 1
    pytest.param("{{ n|replace(1, 22) }}", {"n": 121}, 9, "22222", id="replace-filter-of-numbers"),
    # ^ 121 (7 bits) counts 4, 1 counts 2, 22 counts 3: 4 + 5 * (3 - 2)
]

STR_FORMAT = [
    # str.format: each field at max(width, text + precision), plus what the earlier fields wrote
    pytest.param("{{ '{:>5}'.format(v) }}", {"v": "ab"}, 5, "   ab", id="format-width"),  # max(5, 2)
    pytest.param("{{ '{:.2}'.format(v) }}", {"v": "abcd"}, 6, "ab", id="format-precision"),  # max(0, 4 + 2)
    pytest.param("{{ '{}{}{}'.format(a, b, c) }}", {"a": "ab", "b": "cde", "c": "fghi"}, 9, "abcdefghi", id="format-3"),
    # ^ the fields at 2, 2 + 3, 5 + 4
    pytest.param("{{ '{}{}'.format(a, b) }}", {"a": "ab", "b": ""}, 2, "ab", id="format-empty-field"),  # 2, 2 + 0
    pytest.param(
        "{{ '{:.1}{:.1}{:.1}'.format(a, a, a) }}", {"a": "abc"}, 6, "aaa", id="format-running-total"
    ),  # each field max(0, 3 + 1) = 4 after what the earlier ones wrote (1 each): 4, 1 + 4, 2 + 4
    pytest.param("{{ '{}'.format(n) }}", {"n": 2**30}, 12, "1073741824", id="format-int"),  # 31 // 3 + 2
    pytest.param("{{ '{!r}'.format(v) }}", {"v": "ab"}, 4, "'ab'", id="format-repr"),  # the repr's 4
    pytest.param("{{ '{:>4}'.format(f) }}", {"f": 2.5}, 8, " 2.5", id="format-float"),  # max(4, 8): any other value 8
    pytest.param("{{ '{a:.2}'.format_map(m) }}", {"m": {"a": "abcd"}}, 15, "ab", id="format-map"),
    # ^ the mapping is measured as printed first: 2 + 4 * 1 + (1 + 2) + (4 + 2); the field 4 + 2
    pytest.param("{{ '{a:.2}'.format(a=v) }}", {"v": "abcd"}, 6, "ab", id="format-keyword"),  # max(0, 4 + 2)
    pytest.param("{{ ('<{}>'|safe).format(v) }}", {"v": "a&b"}, 9, "<a&amp;b>", id="format-of-a-safe-string"),
    # ^ the field is estimated at 3, the result (escaped, 9) is checked when it is returned
    # ~: the sum of the parts' text
    pytest.param("{{ a ~ b }}", {"a": "abc", "b": "de"}, 5, "abcde", id="concat"),  # 3 + 2
    pytest.param("{{ a ~ n }}", {"a": "ab", "n": 12345}, 8, "ab12345", id="concat-a-number"),  # 2 + (14 bits -> 6)
    pytest.param("{{ a ~ b ~ c }}", {"a": "a", "b": "bc", "c": "def"}, 6, "abcdef", id="concat-three"),  # 1 + 2 + 3
]

LIMITS = TEXT_METHODS + PRINTF + FILTERS + STR_FORMAT


@pytest.mark.parametrize(("source", "context", "size", "output"), LIMITS)
def test_an_operation_renders_at_its_estimate_and_is_refused_one_below(
    source: str, context: dict[str, Any], size: int, output: str
) -> None:
    assert render(source, B(max_size=size), context) == output
    assert render(source, B(max_size=size - 1), context) == size_error(size - 1)


TOTALS = [
    # The method returns its own input (nothing new is made), yet the estimate is charged
    # against the total before it runs.
    pytest.param("{{ s.center(2) }}", {"s": "abc"}, 3, "abc", id="center-returns-its-input"),  # max(3, 2)
    pytest.param("{{ s.ljust(2) }}", {"s": "abc"}, 3, "abc", id="ljust-returns-its-input"),
    pytest.param("{{ s.rjust(1) }}", {"s": "abc"}, 3, "abc", id="rjust-returns-its-input"),
    pytest.param("{{ s.zfill(3) }}", {"s": "abc"}, 3, "abc", id="zfill-returns-its-input"),
    pytest.param("{{ s.expandtabs(4) }}", {"s": "abc"}, 3, "abc", id="expandtabs-without-tabs"),  # 3 + 0 * 4
    pytest.param("{{ s.replace('z', 'yy') }}", {"s": "abc"}, 3, "abc", id="replace-nothing"),  # 3 + 0 * 1
    pytest.param("{{ s.replace('b', 'yy', 0) }}", {"s": "abc"}, 3, "abc", id="replace-count-0-total"),  # 3 + 0 * 1
    pytest.param("{{ s|center(2) }}", {"s": "abcd"}, 4, "abcd", id="center-filter-returns-its-input"),  # max(4, 2)
    pytest.param("{{ s|replace('z', 'yy') }}", {"s": "abc"}, 3, "abc", id="replace-filter-nothing"),  # 3 + 0 * 1
    # ~ charges what it makes to the total
    pytest.param("{{ a ~ b }}", {"a": "abc", "b": "de"}, 5, "abcde", id="concat-total"),  # 3 + 2
]


@pytest.mark.parametrize(("source", "context", "total", "output"), TOTALS)
def test_an_estimate_is_charged_to_the_total_before_the_operation(
    source: str, context: dict[str, Any], total: int, output: str
) -> None:
    assert render(source, B(max_total=total), context) == output
    assert render(source, B(max_total=total - 1), context) == total_error(total - 1)


THEN_PYTHON = [
    # (source, context, N, the exception Python raises once the estimate passes, its text)
    pytest.param(
        "{{ s.expandtabs(2.0) }}",
        {"s": "a\tb"},
        11,
        TypeError,
        "'float' object cannot be interpreted as an integer",
        id="expandtabs-float-counts-as-8",
    ),  # 3 + 1 * 8: a tabsize that is not an int counts as the default
    pytest.param(
        "{{ '%*.*s' % (3,) }}",
        {},
        14,
        TypeError,
        "not enough arguments for format string",
        id="printf-stars-run-out",
    ),  # 5 + 3 + 0 (no second star) + str((3,)) counted as 2 + 2 * 1 + 2 = 6
    pytest.param(
        "{{ '%*s' % (f, v) }}",
        {"f": 2.0, "v": "ab"},
        5,
        TypeError,
        "* wants int",
        id="printf-float-star-counts-0",
    ),  # 3 + 0 + 2
    pytest.param("{{ '%(b)s' % m }}", {"m": {"a": 1}}, 5, KeyError, "'b'", id="printf-missing-key-counts-0"),  # 5 + 0
    pytest.param(
        "{{ '%s%s' % (a,) }}",
        {"a": "a"},
        12,
        TypeError,
        "not enough arguments for format string",
        id="printf-values-run-out",
    ),  # 4 + 1 + the whole tuple ('a',): 2 + 2 * 1 + (1 + 2) = 7
    pytest.param(
        "{{ '%(a)s' % (v,) }}", {"v": "x"}, 6, TypeError, "format requires a mapping", id="printf-key-without-mapping"
    ),  # 5 + 1
    pytest.param(
        "{{ n|indent(3) }}",
        {"n": 12345},
        27,
        TypeError,
        "unsupported operand type(s) for +=: 'int' and 'str'",
        id="indent-of-a-number",
    ),  # 12345 (14 bits) counts 6, and each character may be a line: 6 + 7 * 3
    pytest.param(
        "{{ s|indent(2.0) }}",
        {"s": "a\nb"},
        3,
        TypeError,
        "can't multiply sequence by non-int of type 'float'",
        id="indent-float-width-counts-0",
    ),  # 3 + 3 * 0
    pytest.param(
        "{{ n|wordwrap(100) }}",
        {"n": 12345},
        13,
        AttributeError,
        "'int' object has no attribute 'splitlines'",
        id="wordwrap-of-a-number",
    ),  # 6 + min(7, 12 // 100 + 7): each character may be a line
    pytest.param(
        "{{ '{:5x5}'.format(v) }}", {"v": "ab"}, 2, ValueError, "Invalid format specifier", id="format-unread-spec"
    ),  # a spec the budget cannot read counts only the text: max(0, 2 + 0)
]


@pytest.mark.parametrize(("source", "context", "size", "error", "message"), THEN_PYTHON)
def test_past_the_estimate_the_budget_stops_a_template_python_would_refuse(
    source: str, context: dict[str, Any], size: int, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        render(source, B(max_size=size), context)
    assert message in str(raised.value)
    assert render(source, B(max_size=size - 1), context) == size_error(size - 1)


WIDTHS = [
    # A width or precision of up to 18 digits counts as written; a longer one as 10**18. Past
    # the estimate, Python's own refusal (no memory is touched: the allocation fails at once).
    pytest.param(
        "{{ '%999999999999999999s' % v }}",
        {"v": ""},
        10**18 + 19,
        "deploy/main.yaml:1: template ran out of memory",
        id="printf-18-digit-width",
    ),  # 20 + (10**18 - 1) + 0
    pytest.param(
        "{{ '%9999999999999999999s' % v }}",
        {"v": ""},
        10**18 + 21,
        ValueError("width too big"),
        id="printf-19-digit-width",
    ),  # 21 + 10**18
    pytest.param(
        "{{ '{:>999999999999999999}'.format(v) }}",
        {"v": ""},
        10**18 - 1,
        "deploy/main.yaml:1: template ran out of memory",
        id="format-18-digit-width",
    ),  # max(10**18 - 1, 0)
    pytest.param(
        "{{ '{:>9999999999999999999}'.format(v) }}",
        {"v": ""},
        10**18,
        ValueError("Too many decimal digits in format string"),
        id="format-19-digit-width",
    ),  # max(10**18, 0)
    pytest.param(
        "{{ '{:.9999999999999999999}'.format(v) }}",
        {"v": ""},
        10**18,
        ValueError("Too many decimal digits in format string"),
        id="format-19-digit-precision",
    ),  # max(0, 0 + 10**18)
]


@pytest.mark.parametrize(("source", "context", "size", "expected"), WIDTHS)
def test_a_long_width_counts_as_written_or_as_ten_to_the_eighteen(
    source: str, context: dict[str, Any], size: int, expected: str | Exception
) -> None:
    at_limit = B(max_size=size, max_total=HUGE_LIMIT)
    if isinstance(expected, Exception):
        with pytest.raises(type(expected), match=str(expected)):
            render(source, at_limit, context)
    else:
        assert render(source, at_limit, context) == expected
    assert render(source, B(max_size=size - 1, max_total=HUGE_LIMIT), context) == size_error(size - 1)


OUTCOMES = [
    pytest.param("{{ s.upper() }}", B(max_size=3), {"s": "abc"}, "ABC", id="a-method-without-arguments"),
    pytest.param("{{ s.split('-') }}", B(max_size=20), {"s": "a-b"}, "['a', 'b']", id="a-method-with-one-argument"),
    pytest.param(
        "{{ s.encode('utf-8', 'strict') }}",
        B(max_size=10),
        {"s": "utf-8utf-8"},
        "b'utf-8utf-8'",
        id="encode-is-not-replace",
    ),  # two string arguments, but 10 bytes made, not 10 + 2 * (6 - 5)
    pytest.param("{{ x|join('--') }}", B(max_size=1), {"x": []}, "", id="join-filter-of-nothing"),  # 0 + 2 * 0
    pytest.param(
        "{{ s|wordwrap(3.0) }}", B(max_size=22), {"s": "aaa bbb ccc"}, size_error(22), id="wordwrap-float-width"
    ),  # a width that is not an int counts 1: 11 + min(12, 22 + 2)
    pytest.param(
        "{{ s|replace(new='xy') }}", B(max_size=10), {"s": "abc"}, size_error(10), id="replace-filter-without-old"
    ),  # old counts '', found 4 times: 3 + 4 * 2 = 11, before Jinja says old is missing
    pytest.param(
        "{{ x|format(a=m) }}",
        B(max_size=21),
        {"x": ["%(a).1s"], "m": ["abcdefghijklmnop"]},
        size_error(21),
        id="format-filter-keyword-list",
    ),  # the whole list is printed before the precision cuts it: 2 + 2 + (16 + 2) = 22
    pytest.param(
        "{{ '{:>9999999999999999999}'.format(v) }}", B(), {"v": ""}, size_error(1_000_000), id="format-19-digits"
    ),
    pytest.param(
        "{{ '%9999999999999999999s' % v }}", B(), {"v": ""}, size_error(1_000_000), id="printf-19-digits-by-default"
    ),  # 21 + 10**18 > 1,000,000
    pytest.param("{{ ', '.join(x) }}", B(max_size=1), {"x": []}, "", id="join-of-nothing"),  # 0 + 2 * max(-1, 0)
]


@pytest.mark.parametrize(("source", "budget", "context", "expected"), OUTCOMES)
def test_what_a_user_reads(source: str, budget: RenderBudget, context: dict[str, Any], expected: str) -> None:
    assert render(source, budget, context) == expected


@pytest.mark.parametrize(
    ("autoescape", "output"),
    [
        pytest.param(False, "<b><", id="plain"),  # the parts joined as they are
        pytest.param(True, "<b>&lt;", id="autoescape"),  # the safe part kept, the other escaped
    ],
)
def test_concatenation_keeps_safe_text_safe_only_when_escaping(autoescape: bool, output: str) -> None:
    assert render("{{ ('<b>'|safe) ~ a }}", B(max_size=4), {"a": "<"}, autoescape=autoescape) == output  # 3 + 1


@pytest.mark.parametrize(
    ("macro", "budget"),
    [
        pytest.param("{{ a ~ b }}", B(max_size=5, max_total=3), id="concat-keeps-no-total"),  # 3 + 2; 3 + 3
        pytest.param("{{ '{}{}'.format(a, b) }}", B(max_size=5), id="str-format"),  # 3, 3 + 2; 3, 3 + 3
        pytest.param("{{ '{!s}{!s}'.format(a, b) }}", B(max_size=5), id="str-format-converted"),
    ],
)
def test_a_macro_called_outside_a_render_checks_sizes(macro: str, budget: RenderBudget) -> None:
    """docs/template-budget.md: outside any scope only the size checks apply."""
    env = budgeted_environment(budget)
    make = env.from_string("{% macro make(a, b) %}" + macro + "{% endmacro %}").module.make  # type: ignore[attr-defined]
    assert make("abc", "de") == "abcde"  # at the size limit
    assert make("abc", "de") == "abcde"  # nothing piles up between calls
    with pytest.raises(BudgetExceededError) as raised:
        make("abc", "def")
    assert str(raised.value) == (
        "template budget exceeded: size of a value (characters or items) > 5 (CODEX_TEMPLATE_MAX_SIZE)"
    )


RAISES = [
    # (source, context, budget, what Python raises, its text): no estimate stands in its way
    pytest.param(
        "{{ s.count(m) }}",
        {"s": "abc", "m": {"a": "x" * 20}},
        B(max_size=10),
        TypeError,
        "must be str, not dict",
        id="count-of-a-mapping-is-not-translate",
    ),  # translate would be estimated 3 * 20
    pytest.param(
        "{{ s|center(7.0) }}",
        {"s": "abc"},
        B(max_size=6),
        TypeError,
        "'float' object cannot be interpreted",
        id="center-filter-float-width-counts-0",
    ),  # max(3, 0)
    pytest.param(
        "{% set l = [1] %}{{ e|center(7.0) }}",
        {"e": ""},
        B(max_total=1),
        TypeError,
        "'float' object cannot be",
        id="center-filter-float-width-of-nothing",
    ),  # the list made 1, the center max(0, 0)
    pytest.param(
        "{{ s|replace('a') }}",
        {"s": "abc"},
        B(max_size=5),
        TypeError,
        "missing 1 required positional argument: 'new'",
        id="replace-filter-without-new",
    ),  # new counts '': 3 + 1 * 0
    pytest.param(
        "{{ '{a}'.format_map(m, x=1) }}",
        {"m": {"a": 1}},
        B(),
        TypeError,
        "^format_map\\(\\) takes no keyword arguments$",
        id="format-map-keywords",
    ),
    pytest.param(
        "{{ '{a}'.format_map(m, m) }}",
        {"m": {"a": 1}},
        B(),
        TypeError,
        "^format_map\\(\\) takes exactly one argument \\(2 given\\)$",
        id="format-map-two",
    ),
]


@pytest.mark.parametrize(("source", "context", "budget", "error", "message"), RAISES)
def test_python_refuses_what_no_estimate_stops(
    source: str, context: dict[str, Any], budget: RenderBudget, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        render(source, budget, context)


HUGE = [
    # (source; the estimate, counted by hand, past the default 1,000,000)
    pytest.param("x: {{ 'x'.center(10**9) }}", id="center"),  # max(1, 10**9)
    pytest.param("x: {{ 'x'.ljust(10**9) }}", id="ljust"),
    pytest.param("x: {{ 'x'.rjust(10**9) }}", id="rjust"),
    pytest.param("x: {{ 'x'.zfill(10**9) }}", id="zfill"),
    pytest.param("x: {{ ('\\t' * 100000).expandtabs(10000) }}", id="expandtabs"),  # 10**5 + 10**5 * 10**4
    pytest.param("x: {{ ('-' * 100000).join([''] * 10001) }}", id="join-of-separators"),  # 0 + 10**5 * 10**4
    pytest.param("x: {{ ('x' * 100000).replace('x', 'y' * 10000) }}", id="replace"),  # 10**5 + 10**5 * 9999
    pytest.param("x: {{ ('x' * 100000).translate({120: 'y' * 10000}) }}", id="translate"),  # 10**5 * 10**4
    pytest.param("x: {{ 'x'|center(10**9) }}", id="center-filter"),  # max(1, 10**9)
    pytest.param("x: {{ ('a\\n' * 10000)|indent(100000) }}", id="indent-filter"),  # 2 * 10**4 + (10**4 + 2) * 10**5
    pytest.param(
        "x: {{ ('a ' * 10000)|wordwrap(1, wrapstring='-' * 100000) }}", id="wordwrap-filter"
    ),  # 20000 + min(20001, 40000 + 2) * 10**5
    pytest.param("x: {{ ([''] * 10001)|join('-' * 100000) }}", id="join-filter"),  # 0 + 10**5 * 10**4
    pytest.param("x: {{ ('x' * 100000)|replace('x', 'y' * 10000) }}", id="replace-filter"),  # 10**5 + 10**5 * 9999
    pytest.param("x: {{ ('x' * 100000)|replace(old='x', new='y' * 10000) }}", id="replace-filter-by-name"),  # the same
    pytest.param("x: {{ '%999999999s' % 'x' }}", id="printf"),  # 11 + 999999999 + 1
    pytest.param("x: {{ '%999999999s'|format('x') }}", id="format-filter"),  # the same
    pytest.param("x: {{ '{:>999999999}'.format('x') }}", id="str-format"),  # max(999999999, 1)
]


@pytest.mark.parametrize("source", HUGE)
def test_a_huge_value_is_refused_before_it_is_built(
    fork_server: subprocess.Popen[str], tmp_path: Path, source: str
) -> None:
    (tmp_path / "tiny.j2").write_text("x: {{ 'x'.center(3) }}", encoding="utf-8")
    tiny = run_child(fork_server, tmp_path, "tiny.j2")
    assert tiny["rendered"] == len("x:  x ")
    report = hostile(fork_server, tmp_path, source)
    assert (report["message"], report["line"]) == (DEFAULT_SIZE, 1)
    assert report["peak_mb"] < tiny["peak_mb"] + GROWTH_MB, report


ONE_MORE_BUDGET = B(max_size=10_000_000, max_total=100_000_000)
"""Lets a template make a 10,000,000-character separator (10 MB), to tell an estimate that counts
every copy of it from one that misses a copy and lets the 20 MB result be built, then refused."""
ONE_MORE_PEAK = 16_000_000
"""Bytes the render may hold at its peak: the separator and change, not the result."""

ONE_MORE = [
    pytest.param("{{ ('x' * 10000000).join(['', '', '']) }}", id="join"),  # 0 + 10**7 * (3 - 1)
    pytest.param("{{ ['', '', '']|join('x' * 10000000) }}", id="join-filter"),  # the same
    pytest.param("{{ 'a'.replace('', 'y' * 10000000) }}", id="replace-empty-old"),  # 1 + (1 + 1) * 10**7
    pytest.param("{{ 'a'|replace('', 'y' * 10000000) }}", id="replace-filter-empty-old"),  # the same
    pytest.param(
        "{{ ('a' * 2000000)|replace('a', 'xyzxyzxy') }}", id="replace-filter-short-new"
    ),  # 2 * 10**6 + 2 * 10**6 * (8 - 1): a new of 8 characters still grows each place by 7
]


@pytest.mark.parametrize("source", ONE_MORE)
def test_an_estimate_counts_every_copy_of_a_separator(source: str) -> None:
    """Measured in this process with tracemalloc (every Python allocation, exactly): the sizes
    stay tens of MB even when the estimate is wrong."""
    text, peak = traced(source, ONE_MORE_BUDGET, {})
    assert text == size_error(10_000_000)
    assert peak < ONE_MORE_PEAK


def traced(source: str, budget: RenderBudget, context: dict[str, Any]) -> tuple[str, int]:
    """``render``'s text, and the most bytes Python held at once while it ran (tracemalloc)."""
    tracemalloc.start()
    try:
        text = render(source, budget, context)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return text, peak


def test_a_converted_field_is_measured_before_its_repr_is_built() -> None:
    """An object the budget does not walk (not a list, dict or namespace) holding a list: the
    list's text, 2 + 2 * 2 + 2 * (4,000,000 + 2), is measured before ``!r`` builds it."""
    holder = types.SimpleNamespace(items=["x" * 4_000_000, "y" * 4_000_000])  # made before the render
    text, peak = traced("{{ '{0.items!r}'.format(o) }}", B(), {"o": holder})
    assert text == size_error(1_000_000)
    assert peak < 2_000_000  # the repr would take 8 MB
