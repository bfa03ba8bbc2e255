"""services.yaml structure checks (codex_stacks/config/loader.py) where a second fresh sampled
mutation run (tools/mutation.py config --sample 60 --seed 29 --recheck) found errors no test held:
``vars`` that is not a mapping, and an inheritance loop, each named at its own key and line."""

from __future__ import annotations

import pytest

from codex_stacks.errors import CodexError, CombinedError
from tests.config.conftest import load


def problems(text: str) -> list[CodexError]:
    """Every problem ``validate`` reports for ``text`` (one or several)."""
    with pytest.raises(CodexError) as info:
        load(text)
    error = info.value
    return list(error.problems) if isinstance(error, CombinedError) else [error]


def test_vars_written_as_a_list_is_refused_at_its_key() -> None:
    (error,) = problems("project: demo\nvars:\n  - a\n  - b\n")
    assert error.message == "vars must be a mapping of names to values"
    assert (error.location.path, error.location.line) == ("vars", 2)


def test_an_inheritance_loop_is_reported_at_the_from_key_that_closes_it() -> None:
    """``a`` inherits from ``b`` (line 4) and ``b`` from ``a`` (line 6): the loop is reported
    once, at the ``from`` of the first environment in it."""
    text = "project: demo\nenvironments:\n  a:\n    from: b\n  b:\n    from: a\n"
    (error,) = problems(text)
    assert error.message == "environment 'a': 'from' loops (a -> b -> a)"
    assert (error.location.path, error.location.line) == ("environments.a.from", 4)
    assert error.hint == "an environment cannot inherit from itself, directly or through others"
