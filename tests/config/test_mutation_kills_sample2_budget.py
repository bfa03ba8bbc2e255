"""The template budget (codex_stacks/config/budget.py) where a second fresh sampled mutation run
(tools/mutation.py config --sample 60 --seed 29 --recheck) found a size rule no test held: the
text of a dict that holds a container is measured by the walk, not the flat pass, and that walk
must count the dict's own punctuation. Expected sizes are Python's ``str()`` of the value."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest

from codex_stacks.config.budget import RenderBudget, budgeted_environment, render_bounded
from codex_stacks.errors import TemplateError


def render(source: str, context: dict[str, Any], **budget: Any) -> str:
    env = budgeted_environment(RenderBudget(**budget), undefined=jinja2.StrictUndefined)
    return render_bounded(env.from_string(source), context)


def test_a_dict_holding_a_list_longer_than_the_size_limit_is_not_printed() -> None:
    """``{'a': ['x…x']}`` with 100 x's prints 111 characters (Python's text): a size limit of
    110 refuses it, a limit well above (the measure errs a few characters high) prints it whole."""
    value = {"a": ["x" * 100]}
    text = str(value)
    assert len(text) == 111
    with pytest.raises(TemplateError) as info:
        render("{{ v }}", {"v": value}, max_size=110)
    assert info.value.message == (
        "template budget exceeded: size of a value (characters or items) > 110 (CODEX_TEMPLATE_MAX_SIZE)"
    )
    assert render("{{ v }}", {"v": value}, max_size=200) == text
