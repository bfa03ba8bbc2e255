"""The template budget's estimates of values, containers and numbers (codex_stacks/config/budget.py),
one table: what a template may make or print at a limit, and the one line it gets just past it.

Every number in a row is worked out by hand beside it from the rules docs/template-budget.md
and budget.py's docstrings state: the text of a container is estimated without building it (a
list or tuple counts ``2 + 2 * items``, a dict ``2 + 4 * items``, a string item ``len + 2``, an
integer ``bits * 30103 // 100000 + 2``, a float, bool or None 8, any other leaf ``8 + 2``, a
namespace ``13`` plus its attributes, a container already on the path ``5``); an operator's
result is estimated from its operands before it runs. A row at the limit renders (its whole
output is compared) and the row one below it fails with the whole error line. Rows of kind
"refused before it is built" run in the 1 GiB child of tests/config/test_budget.py and check
that the render stayed small. Jinja folds constant expressions while it compiles, so rows that
must reach a runtime check take their values from the context.
"""

from __future__ import annotations

import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from _pytest.mark.structures import ParameterSet
from markupsafe import Markup

from codex_stacks.config.budget import BudgetExceededError, RenderBudget, budgeted_environment
from codex_stacks.errors import TemplateError
from tests.config.test_budget import fork_server, hostile, run_child

__all__ = ["fork_server"]  # the 1 GiB child of tests/config/test_budget.py, one per module

B = RenderBudget
VARIABLE = {
    "max_size": ("size of a value (characters or items)", "", "CODEX_TEMPLATE_MAX_SIZE"),
    "max_total": ("total size of the values made", "", "CODEX_TEMPLATE_MAX_TOTAL"),
    "max_int_bits": ("integer size", " bits", "CODEX_TEMPLATE_MAX_INT_BITS"),
    "max_depth": ("nesting of a value", "", "CODEX_TEMPLATE_MAX_DEPTH"),
}


def error(field: str, limit: int, line: int = 1) -> str:
    """The whole line a user reads when ``field`` is exceeded at ``deploy/main.yaml:line``."""
    what, unit, variable = VARIABLE[field]
    return f"deploy/main.yaml:{line}: template budget exceeded: {what} > {limit}{unit} ({variable})"


def outcome(source: str, budget: RenderBudget, context: dict[str, Any]) -> str:
    """What ``deploy/main.yaml`` renders to, or the one line of its TemplateError, or the
    type and text of any other error the render raises (as Jinja raises it)."""

    def load(name: str) -> tuple[str, str, Any] | None:
        return (source, "deploy/main.yaml", lambda: True) if name == "main.yaml" else None

    env = budgeted_environment(budget, loader=jinja2.FunctionLoader(load), undefined=jinja2.StrictUndefined)
    try:
        return env.get_template("main.yaml").render(context)
    except TemplateError as exc:
        return str(exc)
    except (TypeError, ValueError, AttributeError, jinja2.UndefinedError) as exc:
        return f"{type(exc).__name__}: {exc}"


def limit(
    name: str, source: str, n: int, rendered: str, /, *, field: str = "max_size", **context: Any
) -> list[ParameterSet]:
    """Two rows: at ``field = n`` the template renders ``rendered``; at ``n - 1`` it fails."""
    return [
        pytest.param(source, B(**{field: n}), context, rendered, id=f"{name}-at-{n}"),
        pytest.param(source, B(**{field: n - 1}), context, error(field, n - 1), id=f"{name}-past"),
    ]


def row(name: str, source: str, budget: RenderBudget, expected: str, /, **context: Any) -> list[ParameterSet]:
    return [pytest.param(source, budget, context, expected, id=name)]


P288 = 2**288
"""289 bits: 289 * 30103 // 100000 + 2 = 8699767 // 100000 + 2 = 86 + 2 = 88 (87 digits printed)."""
P680 = 2**680
"""681 bits: 681 * 30103 // 100000 + 2 = 20500143 // 100000 + 2 = 205 + 2 = 207 (205 digits)."""

CONCAT = "{{ x ~ '' }}"
"""``~`` charges the estimated text of each operand, measured before it is joined."""

ROWS: list[ParameterSet] = [
    # ---------------------------------------------------------------- _Meter.text: flat containers
    # ['ab', 7, None, True, 1.5]: 2 + 2*5 = 12; 'ab' 2+2 = 4; 7 (3 bits) 3*30103//100000 + 2 = 2;
    # None 8; True 8; 1.5 8 -> 12 + 4 + 2 + 8 + 8 + 8 = 42
    *limit("flat-list", CONCAT, 42, "['ab', 7, None, True, 1.5]", x=["ab", 7, None, True, 1.5]),
    # ('ab', 'c'): 2 + 2*2 = 6; 'ab' 4; 'c' 3 -> 13
    *limit("flat-tuple", CONCAT, 13, "('ab', 'c')", x=("ab", "c")),
    # {'k': 'abc', 7: 1.5}: 2 + 4*2 = 10; keys 'k' 3, 7 2; values 'abc' 5, 1.5 8 -> 28
    *limit("flat-dict", CONCAT, 28, "{'k': 'abc', 7: 1.5}", x={"k": "abc", 7: 1.5}),
    # []: its brackets alone, 2
    *limit("empty-list", CONCAT, 2, "[]", x=[]),
    # 12345 (14 bits): 14 * 30103 // 100000 + 2 = 421442 // 100000 + 2 = 4 + 2 = 6
    *limit("int-leaf", CONCAT, 6, "12345", x=12345),
    # 2**288 and 2**680: 88 and 207 (worked out at P288 and P680 above)
    *limit("int-289-bits", CONCAT, 88, str(P288), x=P288),
    *limit("int-681-bits", CONCAT, 207, str(P680), x=P680),
    # ---------------------------------------------------------------- _Meter.text: the walk
    # [[1, 'a'], 'bc']: outer 2 + 2*2 = 6; inner opens 6 + 2 + 2*2 = 12; 1 -> 14; 'a' -> 17;
    # 'bc' -> 21 (nesting 2)
    *limit("nested-list", CONCAT, 21, "[[1, 'a'], 'bc']", x=[[1, "a"], "bc"]),
    # {'k': [1]}: 2 + 4 = 6; 'k' 3 -> 9; [1] opens 9 + 2 + 2 = 13; 1 -> 15
    *limit("dict-holding-a-list", CONCAT, 15, "{'k': [1]}", x={"k": [1]}),
    # {'k': [1], 'j': 2}: 2 + 4*2 = 10; 'k' 3 -> 13; [1] opens 13 + 4 = 17; 1 -> 19; 'j' -> 22; 2 -> 24
    *limit("dict-of-two-holding-a-list", CONCAT, 24, "{'k': [1], 'j': 2}", x={"k": [1], "j": 2}),
    # ['a', []]: 2 + 4 = 6; 'a' 3 -> 9; [] opens 9 + 2 = 11 (the size is reached as it opens)
    *limit("list-ending-in-an-empty-one", CONCAT, 11, "['a', []]", x=["a", []]),
    # [y, y] with y = ['ab']: 6; y opens 6 + 4 = 10; 'ab' 4 -> 14 (y counts 8); y again 8 -> 22
    *limit("shared-item", "{% set y = [s] %}{{ [y, y] ~ '' }}", 22, "[['ab'], ['ab']]", s="ab"),
    # [[Markup('ab'), range(0, 2)]]: 4; inner opens 4 + 6 = 10; Markup is text: 2 + 2 -> 14;
    # range is another leaf: 8 + 2 -> 24
    *limit(
        "leaves-of-other-kinds",
        "{{ [[m, range(2)]] ~ '' }}",
        24,
        "[[Markup('ab'), range(0, 2)]]",
        m=Markup("ab"),
    ),
    # a namespace: 13 + its attributes {'a': 1}: 2 + 4 = 6, 'a' 3, 1 2 -> 24
    *limit("namespace", "{% set ns = namespace(a=1) %}{{ ns ~ '' }}", 24, "<Namespace {'a': 1}>"),
    # [ns]: 2 + 2 = 4; ns 13 -> 17; {'a': 1} 6 -> 23; 'a' 3 -> 26; 1 2 -> 28
    *limit("namespace-in-a-list", "{% set ns = namespace(a=1) %}{{ [ns] ~ '' }}", 28, "[<Namespace {'a': 1}>]"),
    # {'a', 'bc'} is a set: 2 + 2*2 = 6; 'a' 3; 'bc' 4 -> 13 (printed in set order, so only count it)
    *limit("set", "{{ (x ~ '')|length }}", 13, "11", x={"a", "bc"}),
    # deque(['ab', 3]): 2 + 4 = 6; 'ab' 4; 3 (2 bits) 2 -> 12
    *limit("deque", CONCAT, 12, "deque(['ab', 3])", x=deque(["ab", 3])),
    # dict views: {'a': 'b'}.items() walks ('a', 'b') as one item: 2 + 2 = 4; tuple 2 + 4 + 3 + 3 = 12 -> 16
    *limit("dict-items", "{{ x.items() ~ '' }}", 16, "dict_items([('a', 'b')])", x={"a": "b"}),
    # x = [1, x]: 2 + 4 = 6; 1 2 -> 8; x is on the path: [...] counts 5 -> 13
    *limit("list-inside-itself", "{% set x = [n] %}{% set _ = x.append(x) %}{{ x ~ '' }}", 13, "[1, [...]]", n=1),
    # a = [b], b = [a], r = [a, b]: r 6; a opens 10; b opens 14; a on the path 5 -> 19 (a and b
    # depend on the path: not reused); b again opens 23; a opens 27; b on the path 5 -> 32
    *limit(
        "two-lists-inside-each-other",
        "{% set a = [] %}{% set b = [a] %}{% set _ = a.append(b) %}{{ [a, b] ~ '' }}",
        32,
        "[[[[...]]], [[[...]]]]",
    ),
    # nesting: [[[1]]] is 3 deep
    *limit("nesting", CONCAT, 3, "[[[1]]]", field="max_depth", x=[[[1]]]),
    # ---------------------------------------------------------------- pprint: size * (1 + nesting)
    # 12 (4 bits): 4 * 30103 // 100000 + 2 = 3, nesting 0 -> 3 * 1 = 3 ("12" is 2)
    *limit("pprint-int", "{{ x|pprint }}", 3, "12", x=12),
    # [1, 2]: 2 + 4 + 2 + 2 = 10, nesting 1 -> 10 * 2 = 20
    *limit("pprint-list", "{{ x|pprint }}", 20, "[1, 2]", x=[1, 2]),
    # ---------------------------------------------------------------- tojson: size * (1 + indent * nesting)
    # no indent: [1, 2] -> 10
    *limit("tojson", "{{ x|tojson }}", 10, "[1, 2]", x=[1, 2]),
    # indent 2 -> 10 * (1 + 2 * 1) = 30
    *limit("tojson-indent", "{{ x|tojson(2) }}", 30, "[\n  1,\n  2\n]", x=[1, 2]),
    *limit("tojson-indent-by-name", "{{ x|tojson(indent=2) }}", 30, "[\n  1,\n  2\n]", x=[1, 2]),
    # indent '--' is 2 characters -> 30
    *limit("tojson-indent-text", "{{ x|tojson('--') }}", 30, "[\n--1,\n--2\n]", x=[1, 2]),
    # a negative indent counts as none: 10 (json still breaks lines: 9 characters)
    *limit("tojson-negative-indent", "{{ x|tojson(-1) }}", 10, "[\n1,\n2\n]", x=[1, 2]),
    # [1, [2]]: 6; 1 -> 8; [2] opens 12; 2 -> 14, nesting 2 -> 14 * (1 + 2 * 2) = 70
    *limit("tojson-nested-indent", "{{ x|tojson(2) }}", 70, "[\n  1,\n  [\n    2\n  ]\n]", x=[1, [2]]),
    # an indent that is neither text nor an integer counts as none (10 <= 20): json refuses it
    *row(
        "tojson-float-indent",
        "{{ x|tojson(2.0) }}",
        B(max_size=20),
        "TypeError: can't multiply sequence by non-int of type 'float'",
        x=[1, 2],
    ),
    # ---------------------------------------------------------------- the round filter: 10 ** precision
    # ceil(3 * log2(10)) = ceil(9.9657...) = 10 bits
    *limit("round", "{{ x|round(3, 'ceil') }}", 10, "1.5", field="max_int_bits", x=1.5),
    *limit("round-by-name", "{{ x|round(precision=3, method='ceil') }}", 10, "1.5", field="max_int_bits", x=1.5),
    # ceil(1 * log2(10)) = ceil(3.32...) = 4 bits
    *limit("round-precision-1", "{{ x|round(1) }}", 4, "1.5", field="max_int_bits", x=1.5),
    # no precision: 0, nothing to check
    *row("round-default", "{{ x|round }}", B(max_int_bits=1), "2.0", x=1.5),
    # ---------------------------------------------------------------- batch and slice: the count asked for
    *limit("batch", "{{ (x|batch(4)|list)|length }}", 4, "1", x=[1, 2, 3]),
    *limit("batch-by-name", "{{ (x|batch(linecount=4)|list)|length }}", 4, "1", x=[1, 2, 3]),
    # slice(4) of 3 items: 4 lists, the last empty
    *limit("slice", "{{ (x|slice(4)|list)|length }}", 4, "4", x=[1, 2, 3]),
    *limit("slice-by-name", "{{ (x|slice(slices=4)|list)|length }}", 4, "4", x=[1, 2, 3]),
    # ---------------------------------------------------------------- int of text: 4 characters per bit allowed
    # 4 * 1100 = 4400 characters pass the check (Python refuses more than 4300 digits: 0);
    # 4401 are refused before int() reads them
    *row("int-text-at-4-per-bit", "{{ ('9' * 4400)|int }}", B(max_int_bits=1100), "0"),
    *row("int-text-past-4-per-bit", "{{ ('9' * 4401)|int }}", B(max_int_bits=1100), error("max_int_bits", 1100)),
    *row("int-of-an-int", "{{ x|int }}", B(), "5", x=5),
    # ---------------------------------------------------------------- filters that compare items
    # max of [['abc'], ['abd']]: 2 + 4 = 6; ['abc'] opens 10; 'abc' 5 -> 15; ['abd'] 9 -> 24
    *limit("max", "{{ x|max }}", 24, "['abd']", x=[["abc"], ["abd"]]),
    # the same items coming from a generator are listed, then measured: 24
    *limit("max-of-a-generator", "{{ x|select|max }}", 24, "['abd']", x=[["abc"], ["abd"]]),
    *row("sort-of-a-generator", "{{ x|select|sort(true) }}", B(), "[2, 1]", x=[1, 2]),
    *row("dictsort", "{{ x|dictsort }}", B(), "[('a', 2), ('b', 1)]", x={"b": 1, "a": 2}),
    # a keyword argument is measured too: ['abcdef'] is 2 + 2 + 8 = 12 (x itself 2 + 4 + 2 + 2 = 10)
    *limit("keyword-argument", "{{ x|unique(case_sensitive=y)|first }}", 12, "2", x=[2, 1], y=["abcdef"]),
    # what a loop sets is passed to calls inside it, and is not the template's argument: {'s':
    # ['abcdefghij']} (2 + 4 + 3 + 2 + 2 + 12 = 25) is never measured
    *row(
        "loop-variables-are-not-arguments",
        "{% for i in n %}{% set s = [t] %}{{ range(1)|list|length }}{% endfor %}",
        B(max_size=16),
        "1",
        n=[1],
        t="abcdefghij",
    ),
    # ---------------------------------------------------------------- operators: * on text and lists
    # 'ab' * 3 -> 6 characters
    *limit("repeat-text", "{{ s * n }}", 6, "ababab", s="ab", n=3),
    *limit("repeat-text-number-first", "{{ n * s }}", 6, "ababab", s="ab", n=3),
    # [1, 2] * 3 -> 6 items (printed: 2 + 12 + 6 * 2 = 26 characters)
    *limit("repeat-list", "{{ (x * n)|length }}", 6, "6", x=[1, 2], n=3),
    # 'ab' * 0 and * -5 -> 0 characters
    *row("repeat-zero-times", "{{ s * n }}", B(max_size=1), "", s="ab", n=0),
    *row("repeat-negative-times", "{{ n * s }}", B(max_size=1), "", s="ab", n=-5),
    # ---------------------------------------------------------------- + on text and lists
    # 'abc' + 'de' -> 5
    *limit("add-text", "{{ s + t }}", 5, "abcde", s="abc", t="de"),
    *limit("add-lists", "{{ (x + y)|length }}", 5, "5", x=[1, 2, 3], y=[4, 5]),
    *row(
        "add-text-and-a-number",
        "{{ s + n }}",
        B(),
        'TypeError: can only concatenate str (not "int") to str',
        s="a",
        n=1,
    ),
    # ---------------------------------------------------------------- % on text
    # '%5d' % 3: 3 characters of template + width 5 + 3 (2 bits) 2 // 3 + 2 = 2 -> 10
    *limit("printf", "{{ s % n }}", 10, "    3", s="%5d", n=3),
    # - on text is a TypeError, never a format: nothing is estimated first
    *row(
        "subtract-from-text",
        "{{ s - n }}",
        B(max_size=5),
        "TypeError: unsupported operand type(s) for -: 'str' and 'int'",
        s="%9s",
        n=1,
    ),
    # ---------------------------------------------------------------- integers
    # 1024 * 4: 11 + 3 - 1 = 13 bits (4096 is 13 bits)
    *limit("multiply-ints", "{{ x * y }}", 13, "4096", field="max_int_bits", x=1024, y=4),
    # 3 * 3 = 9: estimated 2 + 2 - 1 = 3 bits, the result's 4 bits are checked after
    *limit("multiply-ints-result", "{{ x * x }}", 4, "9", field="max_int_bits", x=3),
    # 2 ** 10: (2 - 1) * 10 + 1 = 11 bits (1024 is 11 bits)
    *limit("power", "{{ x ** y }}", 11, "1024", field="max_int_bits", x=2, y=10),
    # 4096 + 4096 = 8192: 14 bits, checked after adding
    *limit("add-ints", "{{ x + x }}", 14, "8192", field="max_int_bits", x=4096),
    *row("divide-ints", "{{ x / y }}", B(), "3.5", x=7, y=2),
    *row("add-ints-small", "{{ x + y }}", B(), "5", x=2, y=3),
    *row("multiply-float", "{{ x * y }}", B(), "7.5", x=2.5, y=3),
    *row("power-of-a-float", "{{ x ** y }}", B(), "6.25", x=2.5, y=2),
    # a fractional power makes a float: nothing to count in bits
    *row("fractional-power", "{{ x ** y }}", B(max_int_bits=1), "2.0", x=4, y=0.5),
    # ---------------------------------------------------------------- what an operation made, summed
    # 'ab' * 3 twice: 6 + 6 = 12
    *limit("repeat-twice-total", "{{ s * n }}{{ s * n }}", 12, "abababababab", field="max_total", s="ab", n=3),
    *limit(
        "repeat-markup-twice-total",
        "{{ m * n }}{{ m * n }}",
        12,
        "abababababab",
        field="max_total",
        m=Markup("ab"),
        n=3,
    ),
    # 'abc' ~ 'de' twice: 5 + 5 = 10
    *limit("concat-twice-total", "{{ s ~ t }}{{ s ~ t }}", 10, "abcdeabcde", field="max_total", s="abc", t="de"),
    # 'ab' * 3 once: expected 6 before it is made
    *limit("repeat-total", "{{ s * n }}", 6, "ababab", field="max_total", s="ab", n=3),
    # x = [1, x]: [1] made 1; the append grows it by 1; its text 13 -> 15
    *limit(
        "list-inside-itself-total",
        "{% set x = [n] %}{% set _ = x.append(x) %}{{ x ~ '' }}",
        15,
        "[1, [...]]",
        field="max_total",
        n=1,
    ),
    # ---------------------------------------------------------------- what a filter picked: checked, not charged
    *limit("first", "{{ x|first }}", 3, "abc", x=["abc"]),
    # ---------------------------------------------------------------- growing lists, dicts, sets, deques
    # [1] + append -> 2 items
    *limit("append", "{% set l = [n] %}{% set _ = l.append(n) %}{{ l|length }}", 2, "2", n=1),
    *limit("insert", "{% set l = [n] %}{% set _ = l.insert(0, n) %}{{ l|length }}", 2, "2", n=1),
    *limit("add-to-a-set", "{% set _ = x.add(2) %}{{ x|length }}", 2, "2", x={1}),
    *limit("appendleft", "{% set _ = x.appendleft(2) %}{{ x|length }}", 2, "2", x=deque([1])),
    *limit("setdefault", "{% set _ = x.setdefault('b', 2) %}{{ x|length }}", 2, "2", x={"a": 1}),
    # [1] + extend by 2 -> 3 items
    *limit("extend", "{% set l = [n] %}{% set _ = l.extend([n, n]) %}{{ l|length }}", 3, "3", n=1),
    *limit(
        "extend-by-a-generator",
        "{% set l = [n] %}{% set _ = l.extend(y|select) %}{{ l|length }}",
        3,
        "3",
        n=1,
        y=[1, 1],
    ),
    *limit("extendleft", "{% set _ = x.extendleft(y) %}{{ x|length }}", 3, "3", x=deque([1]), y=[2, 3]),
    # update hashes what it is given: {'b': 2, 'c': 3} is measured, 2 + 4*2 + 3 + 3 + 2 + 2 = 20
    *limit("update", "{% set _ = x.update(y) %}{{ x|length }}", 20, "3", x={"a": 1}, y={"b": 2, "c": 3}),
    # what is appended is not printed: ['abcdefghij'] (16) is never measured
    *row(
        "append-does-not-measure",
        "{% set _ = x.append(y) %}{{ x|length }}",
        B(max_size=10),
        "2",
        x=[1],
        y=["abcdefghij"],
    ),
    *row(
        "insert-does-not-measure",
        "{% set _ = x.insert(0, y) %}{{ x|length }}",
        B(max_size=10),
        "2",
        x=[1],
        y=["abcdefghij"],
    ),
    *row(
        "extend-does-not-measure",
        "{% set _ = x.extend(z) %}{{ x|length }}",
        B(max_size=10),
        "2",
        x=[1],
        z=[["abcdefghij"]],
    ),
    *row(
        "appendleft-does-not-measure",
        "{% set _ = x.appendleft(y) %}{{ x|length }}",
        B(max_size=10),
        "2",
        x=deque([1]),
        y=["abcdefghij"],
    ),
    *row(
        "extendleft-does-not-measure",
        "{% set _ = x.extendleft(z) %}{{ x|length }}",
        B(max_size=10),
        "2",
        x=deque([1]),
        z=[["abcdefghij"]],
    ),
    # index and count compare the items: the list is measured (['abc']: 2 + 2 + 5 = 9), and what
    # count compares with too (['abcdefghij']: 2 + 2 + 12 = 16)
    *limit("index", "{{ x.index('abc') }}", 9, "0", x=["abc"]),
    *limit("count", "{{ x.count(y) }}", 16, "0", x=["a"], y=["abcdefghij"]),
    # get neither grows nor compares the dict ({'a': 'abcdefghijkl'} would count 23)
    *row("get-does-not-measure-the-dict", "{{ x.get('a') }}", B(max_size=20), "abcdefghijkl", x={"a": "abcdefghijkl"}),
    # ---------------------------------------------------------------- comparisons, keys, subscripts
    # 1 in ['abc']: the right side is measured: 9
    *limit("in", "{{ n in x }}", 9, "False", n=1, x=["abc"]),
    # x == 1: the left side: 9
    *limit("compare", "{{ x == n }}", 9, "False", n=1, x=["abc"]),
    # a namespace compared is not walked: its text (13 + 6 + 3 + 12 = 34) is never measured
    *row(
        "namespace-compared",
        "{% set ns = namespace(a=s) %}{{ ns == n }}",
        B(max_size=20),
        "False",
        s="abcdefghij",
        n=1,
    ),
    # a tuple key is hashed: ('abcdefghij',) 2 + 2 + 12 = 16
    *limit("subscript-key", "{{ d[k] is defined }}", 16, "False", d={}, k=("abcdefghij",)),
    *row(
        "subscript-by-a-namespace",
        "{% set ns = namespace(a=s) %}{{ d[ns] is defined }}",
        B(max_size=20),
        "False",
        d={},
        s="abcdefghij",
    ),
    *row("subscript", "{{ d['a'] }}", B(), "1", d={"a": 1}),
    *limit("dict-key", "{{ {k: n}|length }}", 16, "1", k=("abcdefghij",), n=1),
    *row("dict-literal", "{{ {k: n, 'b': n}|dictsort }}", B(), "[('a', 1), ('b', 1)]", k="a", n=1),
    # a tuple made in the template: 3 items
    *limit("tuple", "{{ (n, n, n)|length }}", 3, "3", n=1),
    *limit("list", "{{ [n, n, n]|length }}", 3, "3", n=1),
    *row("tuple-unpacked", "{% for a, b in [[n, 2]] %}{{ a + b }}{% endfor %}", B(), "3", n=1),
    # ---------------------------------------------------------------- which error a user sees
    # batch without a count: Jinja's own error, not the budget's
    *row(
        "batch-without-a-count",
        "{{ x|batch }}",
        B(max_total=1),
        "TypeError: do_batch() missing 1 required positional argument: 'linecount'",
        x=[1],
    ),
    *row(
        "round-float-precision",
        "{{ x|round(2.0) }}",
        B(max_int_bits=6),
        "TypeError: 'float' object cannot be interpreted as an integer",
        x=1.5,
    ),
]


@pytest.fixture
def python_int_digits() -> Iterator[None]:
    """Python's default limit on reading digits (4300), whatever the environment sets."""
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(4300)
    yield
    sys.set_int_max_str_digits(before)


@pytest.mark.usefixtures("python_int_digits")
@pytest.mark.parametrize(("source", "budget", "context", "expected"), ROWS)
def test_an_estimate_holds_at_its_limit_and_fails_one_past(
    source: str, budget: RenderBudget, context: dict[str, Any], expected: str
) -> None:
    assert outcome(source, budget, context) == expected


MACROS = (
    "{% macro times(s, n) %}{{ s * n }}{% endmacro %}"
    "{% macro has(x, y) %}{{ x in y }}{% endmacro %}"
    "{% macro hashed(d, k) %}{{ d[k] is defined }}{% endmacro %}"
    "{% macro listed(n) %}{{ [n, n]|length }}{% endmacro %}"
)


def past(limit: int) -> str:
    return f"template budget exceeded: size of a value (characters or items) > {limit} (CODEX_TEMPLATE_MAX_SIZE)"


def test_a_macro_called_after_its_render_still_checks_sizes() -> None:
    """A template module's macros run outside any render (no counters, no clock), yet each
    operation is still held to the size limit, as BudgetExceededError (a Jinja error)."""
    module: Any = budgeted_environment(B(max_size=7)).from_string(MACROS).module
    assert str(module.times("ab", 3)) == "ababab"  # 'ab' * 3 -> 6
    with pytest.raises(BudgetExceededError) as raised:
        module.times("ab", 4)  # 'ab' * 4 -> 8 > 7
    assert str(raised.value) == past(7)
    assert str(module.has("a", ["a"])) == "True"  # ['a']: 2 + 2 + 3 = 7
    with pytest.raises(BudgetExceededError) as raised:
        module.has("a", ["ab"])  # ['ab']: 2 + 2 + 4 = 8 > 7
    assert str(raised.value) == past(7)
    assert str(module.listed(1)) == "2"  # a list made outside a render: 2 items
    assert str(module.hashed({}, ("a",))) == "False"  # ('a',): 7
    with pytest.raises(BudgetExceededError) as raised:
        module.hashed({}, ("ab",))  # ('ab',): 8 > 7
    assert str(raised.value) == past(7)


HUGE = [
    # (source, budget, the error, MB the render may add to an idle child's peak)
    # 'a' * 10**9 would be a 1 GB string: refused from its estimate, 1 * 10**9 > 1000000
    pytest.param("{{ 'a' * 1000000000 }}", {}, past(1_000_000), 8, id="text-repeated-a-billion-times"),
    pytest.param("{{ 1000000000 * 'a' }}", {}, past(1_000_000), 8, id="text-repeated-number-first"),
    # the same string within the size limit but past the total: 0 + 10**9 > 10**8
    pytest.param(
        "{{ 'a' * 1000000000 }}",
        {"max_size": 2_000_000_000, "max_total": 100_000_000},
        "template budget exceeded: total size of the values made > 100000000 (CODEX_TEMPLATE_MAX_TOTAL)",
        8,
        id="text-repeated-past-the-total",
    ),
    # s + s: 3 * 10**7 + 3 * 10**7 = 6 * 10**7 > 5 * 10**7, refused before the 60 MB are joined
    # (s itself is 30 MB)
    pytest.param(
        "{% set s = 'a' * 30000000 %}{{ (s + s)|length }}",
        {"max_size": 50_000_000, "max_total": 1_000_000_000},
        past(50_000_000),
        45,
        id="text-added-to-itself",
    ),
    # 2 ** 10**10: (2 - 1) * 10**10 + 1 bits > 4096, refused before Python would spend minutes
    pytest.param(
        "{{ 2 ** 10000000000 }}",
        {},
        "template budget exceeded: integer size > 4096 bits (CODEX_TEMPLATE_MAX_INT_BITS)",
        8,
        id="power-of-ten-billion",
    ),
    # 2 ** 10**9: (2 - 1) * 10**9 + 1 = 1000000001 bits > 10**9, refused before Python spends
    # seconds making 125 MB (the child's CPU cap would stop it)
    pytest.param(
        "{{ 2 ** 1000000000 }}",
        {"max_int_bits": 1_000_000_000},
        "template budget exceeded: integer size > 1000000000 bits (CODEX_TEMPLATE_MAX_INT_BITS)",
        8,
        id="power-one-bit-past",
    ),
    # x = 0xfff...f (12500000 hex digits) has 4 * 12500000 = 50000000 bits; x * x: 50000000 +
    # 50000000 - 1 = 99999999 > 99999998, refused before a dense product of that size (seconds)
    pytest.param(
        "{% set x = ('f' * 12500000)|int(base=16) %}{{ x * x }}",
        {"max_size": 20_000_000, "max_total": 100_000_000, "max_int_bits": 99_999_998},
        "template budget exceeded: integer size > 99999998 bits (CODEX_TEMPLATE_MAX_INT_BITS)",
        40,
        id="product-one-bit-past",
    ),
]


# batch and slice take their check when the module is imported: these run in the child, which
# imports it afresh. A billion lists (or a billion fill values) are refused from the count.
FILLS = [
    pytest.param("{{ x|batch(1000000000, 0)|list }}", {"text": past(1_000_000)}, id="batch"),
    pytest.param(
        "{{ x|batch(linecount=1000000000, fill_with=0)|list }}", {"text": past(1_000_000)}, id="batch-by-name"
    ),
    pytest.param("{{ x|slice(1000000000)|list }}", {"text": past(1_000_000)}, id="slice"),
    pytest.param("{{ x|slice(slices=1000000000)|list }}", {"text": past(1_000_000)}, id="slice-by-name"),
    # without a count, Jinja's own error, even when the total is spent ([n] made 1 of 1)
    pytest.param(
        "{{ [n]|batch }}",
        {"unexpected": "TypeError: do_batch() missing 1 required positional argument: 'linecount'"},
        id="batch-without-a-count",
    ),
]


@pytest.mark.parametrize(("source", "expected"), FILLS)
def test_batch_and_slice_are_refused_from_their_count(
    fork_server: subprocess.Popen[str], tmp_path: Path, source: str, expected: dict[str, str]
) -> None:
    (tmp_path / "t.yaml.j2").write_text(source, encoding="utf-8")
    report = run_child(fork_server, tmp_path, "t.yaml.j2", budget={"max_total": 1}, context={"x": [1], "n": 1})
    if "text" in report:
        report["text"] = report["message"]
    assert {key: report.get(key) for key in expected} == expected, report


@pytest.fixture(scope="module")
def idle_peak_mb(fork_server: subprocess.Popen[str], tmp_path_factory: pytest.TempPathFactory) -> float:
    """The peak memory of a child that renders almost nothing."""
    folder = tmp_path_factory.mktemp("idle")
    (folder / "t.yaml.j2").write_text("{{ 1 }}", encoding="utf-8")
    report = run_child(fork_server, folder, "t.yaml.j2")
    assert report.get("rendered") == 1, report
    return float(report["peak_mb"])


@pytest.mark.parametrize(("source", "budget", "message", "allowed_mb"), HUGE)
def test_a_huge_value_is_refused_before_it_is_built(
    fork_server: subprocess.Popen[str],
    idle_peak_mb: float,
    tmp_path: Path,
    source: str,
    budget: dict[str, int],
    message: str,
    allowed_mb: int,
) -> None:
    report = hostile(fork_server, tmp_path, source, budget=budget)
    assert (report["message"], report["line"]) == (message, 1)
    assert report["peak_mb"] - idle_peak_mb < allowed_mb, report


# Changes to these functions that no row can tell apart, because nothing a user could notice
# changes (the mutants that lived when this table was measured against every mutant of them):
# - a list, tuple or dict measured by the general walk instead of the one-pass count (the same
#   sizes, nesting and errors), and a walk that never reuses the size of a shared container it
#   has walked (it is walked again and counts the same; the walk stops at the size limit);
# - ``>=`` for ``>`` where the deepest nesting is recorded (the same depth is stored again);
# - measuring an argument that is no container (the text of a leaf is never refused), or passing
#   no keyword arguments as ``None`` rather than ``{}`` (only tested for truth);
# - ``kind is str and kind in sizes`` (str is one of the sized types);
# - tojson's product taken without an indent (``size * (1 + 0 * nesting)`` is ``size``);
# - round's default precision ``None`` for ``0``, or a precision of 0 checked (0 bits);
#   batch's and slice's default count ``None`` for ``0`` (nothing is expected either way);
# - the power check also taken for an exponent of 0 or 1 or a base of 1 or -1, or skipped for an
#   exponent of 1 (at most the base's own bits: the result check sees the same);
# - numbers of an operator that cannot grow much checked by the result check rather than the
#   shrinking path (the same bit check), which a number and a non-number reach as a TypeError
#   either way; a throw-away meter outside a render made scoped (it is used for one operation
#   whose size was checked before it ran).
