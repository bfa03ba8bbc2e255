"""The template budget (codex_stacks/config/budget.py, docs/template-budget.md) where a fifth
sampled mutation run (tools/mutation.py config --sample 60 --seed 41 --recheck) found behaviour
no test held: the estimates of ``center`` on a list, of the ``replace`` filter that does not grow
its text, of ``str.join`` and ``+`` (checked before the value is built), of an integer in
``str.format``; tuple literals counted as values made; the measured text of a list shared
inside a cycle; and the file a syntax error names. Every expected size is worked out by hand
from Python's and Jinja's semantics (the docstrings show the sums)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jinja2
import pytest

from codex_stacks.config.budget import RenderBudget, budgeted_environment
from tests.config.test_budget import SIZE as DEFAULT_SIZE
from tests.config.test_budget import fork_server, hostile
from tests.config.test_mutation_kills_seed31_budget import SIZE, refusal, render

__all__ = ["fork_server"]  # the fixture of tests/config/test_budget.py, used below


def test_center_of_a_list_is_estimated_from_the_lists_text() -> None:
    """Jinja's ``center`` centres the text of its value. ``[1, 2]`` is measured as 2 brackets +
    2 per item + 2 per one-digit number = 10 characters; a width of 9 is less, so 10 are
    expected: a size limit of 10 lets it run, 9 does not. The text itself is "[1, 2]" (6
    characters) padded to 9: 3 spaces, 2 before it (CPython puts the odd one on the left when
    the width is odd)."""
    source = "{{ [1, 2]|center(9) }}"
    assert render(source, max_size=10) == "  [1, 2] "
    assert refusal(source, max_size=9) == SIZE.format(9)


def test_center_of_an_undefined_value_is_the_undefined_error() -> None:
    """The filter's size check measures the value before Jinja reads it: an undefined one is
    still reported as undefined, by its name."""
    with pytest.raises(jinja2.UndefinedError) as info:
        render("{{ missing|center(9) }}")
    assert str(info.value) == "'missing' is undefined"


def test_a_replace_filter_that_does_not_grow_its_text_may_make_exactly_the_size_limit() -> None:
    """``'aaa'|replace('a', 'b')``: the new text is no longer than the old, so the result is at
    most the 3 characters it starts from: a limit of 3 lets it run, and 2 does not (the text
    alone is 3). Shrinking (``'aa'`` to ``'b'``) expects no more than the text either."""
    assert render("{{ 'aaa'|replace('a', 'b') }}", max_size=3) == "bbb"
    assert refusal("{{ 'aaa'|replace('a', 'b') }}", max_size=2) == SIZE.format(2)
    assert render("{{ 'aaaa'|replace('aa', 'b') }}", max_size=4) == "bb"


def test_a_join_past_the_size_limit_is_refused_before_it_is_built(
    fork_server: subprocess.Popen[str], tmp_path: Path
) -> None:
    """A separator of 1,000,000 characters (exactly the default size limit) between 2,001 empty
    strings would make 2,000,000,000 characters: the estimate (0 + 1,000,000 * 2,000) refuses it
    before Python builds it. Built, it would not fit in the child's 1 GiB address space, and the
    render would end in "template ran out of memory" instead of the size limit."""
    source = "kind: ConfigMap\nx: {{ ('x' * 1000000).join([''] * 2001) }}\n"
    report = hostile(fork_server, tmp_path, source)
    assert (report["message"], report["line"]) == (DEFAULT_SIZE, 2)


def test_a_join_within_the_size_limit_runs_at_exactly_the_limit() -> None:
    """``'--'.join(['ab', 'cd', 'ef'])``: 6 characters of items + 2 separators of 2 = 10."""
    source = "{{ '--'.join(['ab', 'cd', 'ef']) }}"
    assert render(source, max_size=10) == "ab--cd--ef"
    assert refusal(source, max_size=9) == SIZE.format(9)


def test_a_plus_past_the_size_limit_is_refused_by_its_size_before_python_tries_it() -> None:
    """``a + b`` makes ``len(a) + len(b)`` items: 3 + 3 = 6 is past a limit of 5, whatever the
    operands are; the size is checked first, so a list plus a tuple (which Python refuses)
    is reported as the size it would make, and within the limit as Python's TypeError."""
    context = {"a": [1, 2, 3], "b": (4, 5, 6)}
    assert refusal("{{ a + b }}", context, max_size=5) == SIZE.format(5)
    with pytest.raises(TypeError) as info:
        render("{{ a + b }}", context, max_size=6)
    assert str(info.value) == 'can only concatenate list (not "tuple") to list'
    assert render("{{ (a + c)|length }}", {**context, "c": [4, 5, 6]}, max_size=6) == "6"


def test_an_integer_in_str_format_is_estimated_from_its_bits() -> None:
    """1000 has 10 bits; its text is estimated as 10 // 3 + 2 = 5 characters (a bound on its
    digits and a sign), so ``'{}'.format(1000)`` runs under a size limit of 5 and not under 4,
    though it prints 4 characters."""
    source = "{{ '{}'.format(n) }}"
    assert render(source, {"n": 1000}, max_size=5) == "1000"
    assert refusal(source, {"n": 1000}, max_size=4) == SIZE.format(4)


def test_a_tuple_literal_counts_its_items_as_a_value_made() -> None:
    """``(a, a, a, a)`` makes a tuple of 4 items: a size limit of 4 lets it be made, 3 does not
    (the items are variables, so Jinja cannot fold the tuple into a constant at compile time).
    Tuples a template assigns to (``{% set x, y = … %}``) are not values made."""
    source = "{{ (a, a, a, a)|length }}"
    assert render(source, {"a": 1}, max_size=4) == "4"
    assert refusal(source, {"a": 1}, max_size=3) == SIZE.format(3)
    assert render("{% set x, y = a %}{{ y }}", {"a": [1, 2]}, max_size=1) == "2"


def _shared_in_a_cycle() -> tuple[list[object], str]:
    """``top = [g, p]`` with ``g = [p, 'x' * 50]``, ``p = [f]``, ``f = [g]``: ``p`` is inside the
    cycle g -> p -> f -> g, and also an item of ``top`` outside it. Its text depends on where it is
    printed: inside ``g``, ``g`` is already being printed (``[...]``); as ``top``'s second item,
    ``g`` is printed whole inside it."""
    big = "x" * 50
    g: list[object] = []
    f: list[object] = [g]
    p: list[object] = [f]
    g.extend([p, big])
    top: list[object] = [g, p]
    quoted = f"'{big}'"
    g_text = f"[[[[...]]], {quoted}]"  # p inside g: [ f=[ g=[...] ] ]
    p_text = f"[[[[...], {quoted}]]]"  # p outside g: [ f=[ g=[ p=[...], big ] ] ]
    return top, f"[{g_text}, {p_text}]"


def test_a_list_shared_inside_a_cycle_is_measured_where_it_is_printed() -> None:
    """Measured (2 brackets + 2 per item, a string's length + 2, ``[...]`` as 5): top opens at 6,
    g at 6, p at 4, f at 4, f's g is ``[...]`` 5, g's string 52 = 77; top's second item p is
    measured again outside the cycle: p 4, f 4, g 6, g's p ``[...]`` 5, the string 52 = 148. The
    text is 134 characters. So 148 lets it print and 147 does not; reusing p's size from inside
    the cycle would count 90 and let 134 characters through a limit of 133."""
    top, text = _shared_in_a_cycle()
    assert len(text) == 134
    assert render("{{ top }}", {"top": top}, max_size=148) == text
    assert refusal("{{ top }}", {"top": top}, max_size=147) == SIZE.format(147)
    assert refusal("{{ top }}", {"top": top}, max_size=133) == SIZE.format(133)


def test_a_syntax_error_in_a_template_file_names_the_file_and_the_template(tmp_path: Path) -> None:
    """Jinja's loaders give a template a name (``deploy/app.yaml``) and a file (its path); the
    parser's error carries both, and codexctl names the file from it (codex_stacks/prompts/
    render.py reads ``filename``)."""
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "app.yaml").write_text("kind: ConfigMap\nx: {{ 1 2 }}\n", encoding="utf-8")
    env = budgeted_environment(RenderBudget(), loader=jinja2.FileSystemLoader(tmp_path))
    with pytest.raises(jinja2.TemplateSyntaxError) as info:
        env.get_template("deploy/app.yaml")
    error = info.value
    assert (error.name, error.filename, error.lineno) == (
        "deploy/app.yaml",
        str(tmp_path / "deploy" / "app.yaml"),
        2,
    )
    assert error.message == "expected token 'end of print statement', got 'integer'"
