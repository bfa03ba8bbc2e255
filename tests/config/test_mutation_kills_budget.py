"""The template budget (codex_stacks/config/budget.py), case by case where a sampled mutation run
(tools/mutation.py config) found a rule no test held: each size rule must refuse an operation
*before* it runs. Where the operation itself would fail on its own (a width past what Python
can hold raises OverflowError), the user sees the difference: the budget's one-line message
naming its variable, instead of "template failed: a number is too large". Expected texts come
from Python's own ``str`` operations or are written out by hand."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest

from codex_stacks.config.budget import RenderBudget, budgeted_environment, render_bounded
from codex_stacks.errors import ConfigError, TemplateError

HUGE = 2**63
"""Past what a C ``ssize_t`` holds: Python raises OverflowError if such a width reaches it."""


def render(source: str, context: dict[str, Any] | None = None, **budget: Any) -> str:
    env = budgeted_environment(RenderBudget(**budget), undefined=jinja2.StrictUndefined)
    return render_bounded(env.from_string(source), context or {})


def refused(source: str, context: dict[str, Any] | None = None, **budget: Any) -> str:
    with pytest.raises(TemplateError) as info:
        render(source, context, **budget)
    return info.value.message


SIZE_EXCEEDED = "template budget exceeded: size of a value (characters or items) > "


def test_center_with_a_width_by_keyword_is_measured_before_it_runs() -> None:
    assert render("{{ 'ab'|center(width=6) }}") == "  ab  "
    assert refused("{{ 'ab'|center(width=w) }}", {"w": HUGE}, max_size=100) == (
        SIZE_EXCEEDED + "100 (CODEX_TEMPLATE_MAX_SIZE)"
    )


def test_format_of_a_list_measures_the_list_it_prints() -> None:
    assert render("{{ items|format() }}", {"items": [1, 2]}) == "[1, 2]"
    message = refused("{{ items|format() }}", {"items": ["x" * 50] * 10}, max_size=100)
    assert message.startswith(SIZE_EXCEEDED)
    # a keyword argument may be printed as well ("%(x)s" of a mapping): measured too
    message = refused("{{ 5|format(x=items) }}", {"items": ["x" * 50] * 10}, max_size=100)
    assert message.startswith(SIZE_EXCEEDED)


def test_replace_filter_renders_and_honours_its_count() -> None:
    assert render("{{ 'banana'|replace('a', 'o') }}") == "bonono"
    assert render("{{ 'banana'|replace('a', 'o', 2) }}") == "bonona"
    assert render("{{ 'banana'|replace('a', 'o', count=1) }}") == "bonana"


def test_replace_filter_that_would_grow_past_the_limit_is_refused() -> None:
    assert refused("{{ ('a' * 20)|replace('a', 'xxxxxxxxxx', 5) }}", max_size=60).startswith(SIZE_EXCEEDED)
    assert render("{{ ('a' * 20)|replace('a', 'xxxxxxxxxx', 4) }}", max_size=60) == "x" * 40 + "a" * 16


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


DEEP = 50_000
"""Past Python's recursion limit: printing or comparing such a list raises RecursionError."""


def test_extend_with_an_iterator_extends_the_list() -> None:
    assert render("{% set l = [0] %}{{ l.extend([1, 2]|map('string')) or '' }}{{ l }}") == "[0, '1', '2']"


def test_a_printf_star_width_counts_before_formatting() -> None:
    assert render("{{ '%*d'|format(4, 7) }}") == "   7"
    assert refused("{{ '%*d'|format(w, 7) }}", {"w": HUGE}, max_size=100).startswith(SIZE_EXCEEDED)
    assert refused("{{ '%*d' % (w, 7) }}", {"w": HUGE}, max_size=100).startswith(SIZE_EXCEEDED)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("x" * 40, repr("x" * 40)), ("y" * 41, repr("y" * 40 + "…"))],
)
def test_a_bad_budget_variable_is_shown_whole_up_to_forty_characters(raw: str, shown: str) -> None:
    with pytest.raises(ConfigError) as info:
        RenderBudget.from_environ({"CODEX_TEMPLATE_MAX_LOOPS": raw})
    assert info.value.message == f"must be a whole number above 0, got {shown}"
    assert info.value.location.path == "CODEX_TEMPLATE_MAX_LOOPS"


def test_translate_with_a_mapping_renders_and_is_measured() -> None:
    assert render("{{ 'abc'.translate({97: 'xyz'}) }}") == "xyzbc"
    assert refused("{{ ('a' * 20).translate({97: 'x' * 10}) }}", max_size=100).startswith(SIZE_EXCEEDED)


def test_expandtabs_of_bytes_counts_the_tabs_before_it_runs() -> None:
    assert render("{{ data.expandtabs(4) }}", {"data": b"a\tb"}) == str(b"a\tb".expandtabs(4))
    assert refused("{{ data.expandtabs(w) }}", {"data": b"a\tb", "w": HUGE}, max_size=100).startswith(SIZE_EXCEEDED)


def test_render_bounded_refuses_a_template_of_a_plain_environment() -> None:
    with pytest.raises(TypeError, match="^render_bounded needs a template of a BudgetedEnvironment$"):
        render_bounded(jinja2.Environment().from_string("x"), {})


def test_a_tuple_literal_renders() -> None:
    assert render("{{ (1, 'a')|list }}") == "[1, 'a']"
    assert render("{% for a, b in [(1, 2)] %}{{ a + b }}{% endfor %}") == "3"


def test_sorting_a_list_measures_the_list_before_comparing_its_items() -> None:
    assert render("{% set l = [3, 1, 2] %}{{ l.sort() or l }}") == "[1, 2, 3]"
    message = refused("{{ l.sort() or 'sorted' }}", {"l": [_nested(DEEP), _nested(DEEP)]})
    assert message == "template budget exceeded: nesting of a value > 64 (CODEX_TEMPLATE_MAX_DEPTH)"


def test_format_map_takes_no_keyword_arguments_as_python_says() -> None:
    with pytest.raises(TypeError, match=r"^format_map\(\) takes no keyword arguments$"):
        render("{{ '{a}'.format_map({'a': 1}, b=2) }}")


def test_str_format_measures_a_field_it_looks_up_before_printing_it() -> None:
    """The arguments are measured when the method is called; a field reached through an
    attribute (``{0.items}``) only when it is formatted."""
    assert render("{{ '<{0.items}>'.format(o) }}", {"o": SimpleNamespace(items=[1])}) == "<[1]>"
    message = refused("{{ '{0.items}'.format(o) }}", {"o": SimpleNamespace(items=_nested(DEEP))})
    assert message == "template budget exceeded: nesting of a value > 64 (CODEX_TEMPLATE_MAX_DEPTH)"


def test_a_loop_past_the_render_time_stops_with_the_time_limit() -> None:
    message = refused("{% for x in items %}{{ x }}{% endfor %}", {"items": [1, 2, 3]}, max_seconds=1e-9)
    assert message == "template budget exceeded: render time > 1e-09 s (CODEX_TEMPLATE_MAX_SECONDS)"


def test_the_keys_of_a_printed_dict_count_toward_its_size() -> None:
    assert render("{{ d }}", {"d": {"k": 1}}) == "{'k': 1}"
    assert refused("{{ d }}", {"d": {"k" * 200: 1}}, max_size=100).startswith(SIZE_EXCEEDED)


def test_a_list_of_lists_prints_when_its_text_fits_with_a_little_room() -> None:
    """The estimate of a printed list stays within a few characters of its text."""
    value: list[list[int]] = [[] for _ in range(100)]
    text = str(value)
    assert render("{{ v }}", {"v": value}, max_size=len(text) + 10) == text


WORDWRAP_CHILD = textwrap.dedent(
    """
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # past it, allocations fail
    from codex_stacks.config.budget import RenderBudget, budgeted_environment, render_bounded
    from codex_stacks.errors import TemplateError
    env = budgeted_environment(RenderBudget())
    context = {"text": "a " * 50_000, "joint": "-" * 100_000}
    try:
        render_bounded(env.from_string("{{ text|wordwrap(1, wrapstring=joint) }}"), context)
    except TemplateError as exc:
        print(exc.message)
    """
)


def test_wordwrap_is_measured_before_it_joins_the_lines() -> None:
    """50,000 one-letter lines joined by a 100,000-character string would be 5 GB: refused by the
    budget before any of it is built (in a child process whose memory is capped at 1 GiB, where
    building it would end in "template ran out of memory")."""
    assert render("{{ 'aa bb cc'|wordwrap(2) }}") == "aa\nbb\ncc"
    child = subprocess.run(
        [sys.executable, "-c", WORDWRAP_CHILD],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == SIZE_EXCEEDED + "1000000 (CODEX_TEMPLATE_MAX_SIZE)"
