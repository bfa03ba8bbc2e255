"""The template budget (codex_stacks/config/budget.py, docs/template-budget.md) where a sixth
sampled mutation run (tools/mutation.py config --sample 60 --seed 43 --recheck) found behaviour
no test held: ``replace`` with its ``count`` given by name, the total charged for a value a
built-in filter makes, and a text repeated zero times. Each limit is tried at the exact size the
template makes, worked out by hand (the docstrings show the sums), and one below it."""

from __future__ import annotations

from tests.config.test_mutation_kills_seed31_budget import SIZE, refusal, render

TOTAL = "template budget exceeded: total size of the values made > {} (CODEX_TEMPLATE_MAX_TOTAL)"


def test_a_replace_limited_by_count_given_by_name_may_make_exactly_the_size_limit() -> None:
    """``'aaaa'|replace('a', 'bbb', count=1)`` replaces the first ``a`` only: ``bbbaaa``, 4
    characters + 1 replacement growing by 2 = 6. A limit of 6 lets it run (an estimate that
    ignored ``count`` would expect 4 replacements: 4 + 4 * 2 = 12), 5 does not. Positional
    ``count`` is estimated the same way."""
    for source in ("{{ 'aaaa'|replace('a', 'bbb', count=1) }}", "{{ 'aaaa'|replace('a', 'bbb', 1) }}"):
        assert render(source, max_size=6) == "bbbaaa"
        assert refusal(source, max_size=5) == SIZE.format(5)


def test_what_a_builtin_filter_makes_counts_toward_the_total() -> None:
    """``'abcd'|upper`` makes a new text of 4 characters; the literal it starts from is part of
    the template, not a value made. The total is 4: a total limit of 4 lets it run, 3 does not.
    Three of them in a loop make 12."""
    assert render("{{ 'abcd'|upper }}", max_total=4) == "ABCD"
    assert refusal("{{ 'abcd'|upper }}", max_total=3) == TOTAL.format(3)
    looped = "{% for i in range(3) %}{{ 'abcd'|upper }}{% endfor %}"
    assert render(looped, max_total=12) == "ABCD" * 3
    assert refusal(looped, max_total=11) == TOTAL.format(11)


def test_a_filter_that_picks_an_existing_value_adds_nothing_to_the_total() -> None:
    """``default`` (of an undefined name), ``first`` and ``last`` return a value that already exists (the text, one
    of its characters): ``'ab' * 2`` makes 4 characters, and picking from it makes none, so a
    total of 4 is enough and 3 is not."""
    source = "{% set s = 'ab' * 2 %}{{ missing|default(s) }}-{{ s|first }}{{ s|last }}"
    assert render(source, max_total=4) == "abab-ab"
    assert refusal(source, max_total=3) == TOTAL.format(3)


def test_a_text_repeated_zero_or_fewer_times_makes_nothing() -> None:
    """``s * 0`` and ``s * -2`` are empty (Python repeats a sequence no times for a count of 0
    or less). ``'ab' * 2`` makes 4 characters, the two empty repeats make 0: a total of 4 is
    enough, and 3 is not (the first repeat alone is 4)."""
    source = "{% set s = 'ab' * 2 %}[{{ s * 0 }}|{{ -2 * s }}|{{ s * -2 }}]"
    assert render(source, max_total=4) == "[||]"
    assert refusal(source, max_total=3) == TOTAL.format(3)
