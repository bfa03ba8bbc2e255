"""The template budget (codex_stacks/config/budget.py, docs/template-budget.md) where a fourth
sampled mutation run (tools/mutation.py config --sample 60 --seed 37 --recheck) found behaviour
no test held: ``join`` by attribute, the size estimate of ``wordwrap`` and of ``str.replace``,
the built-in ``sum`` that does not print its list, the size of a ``~`` concatenation, and a
method called by a macro after its render. Expected values are worked out by hand from
Python's and Jinja's semantics."""

from __future__ import annotations

from codex_stacks.config.budget import RenderBudget, budgeted_environment
from tests.config.test_mutation_kills_seed31_budget import SIZE, refusal, render


def test_join_by_attribute_joins_the_attribute_of_each_item() -> None:
    users = [{"name": "ann", "id": 1}, {"name": "bob", "id": 2}]
    assert render("{{ users|join(', ', attribute='name') }}", {"users": users}) == "ann, bob"
    assert render("{{ users|join(d='/', attribute='id') }}", {"users": users}) == "1/2"


def test_wordwrap_is_estimated_with_whole_lines_at_the_exact_size_limit() -> None:
    """Ten characters wrapped at 3 in one paragraph: at most 2*10//3 + 2 = 8 lines, so 10 + 8
    joints of one newline = 18 characters are expected. 18 may run, 17 may not. (The text
    Jinja makes is "aaa\\naaa\\naaa\\na", 13 characters.)"""
    context = {"text": "a" * 10}
    assert render("{{ text|wordwrap(3) }}", context, max_size=18) == "aaa\naaa\naaa\na"
    assert refusal("{{ text|wordwrap(3) }}", context, max_size=17) == SIZE.format(17)


def test_replace_method_is_estimated_from_the_occurrences_of_the_old_text() -> None:
    """``"abc".replace("a", "xxxxx")``: one occurrence, 3 + 1 * (5 - 1) = 7 characters
    expected, so a size limit of 7 lets it run and 6 does not."""
    source = "{{ text.replace('a', 'xxxxx') }}"
    assert render(source, {"text": "abc"}, max_size=7) == "xxxxxbc"
    assert refusal(source, {"text": "abc"}, max_size=6) == SIZE.format(6)


def test_the_builtin_sum_adds_a_list_whose_text_is_past_the_size_limit() -> None:
    """``str([1, 2, 3, 4])`` is 12 characters; ``sum`` never prints its list, so a size limit of
    10 does not stop it (the result, 10, is a number)."""
    assert render("{{ xs|sum }}", {"xs": [1, 2, 3, 4]}, max_size=10) == "10"


def test_a_tilde_concatenation_may_make_exactly_the_size_limit() -> None:
    assert render("{{ a ~ b }}", {"a": "abc", "b": "de"}, max_size=5) == "abcde"
    assert refusal("{{ a ~ b }}", {"a": "abc", "b": "def"}, max_size=5) == SIZE.format(5)


def test_a_macro_called_from_python_after_its_render_can_call_a_method() -> None:
    env = budgeted_environment(RenderBudget())
    template = env.from_string("{% macro shout(word) %}{{ word.upper() }}!{% endmacro %}")
    module = template.make_module({})
    shout = getattr(module, "shout")  # noqa: B009 - a macro is an attribute mypy cannot see
    assert str(shout("hey")) == "HEY!"
