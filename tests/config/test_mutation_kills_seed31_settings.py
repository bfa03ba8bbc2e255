"""Hook stages of services.yaml (codex_stacks/config/settings.py), where a third sampled mutation
run (tools/mutation.py config --sample 60 --seed 31) found behaviour no in-process test held."""

from __future__ import annotations

import pytest

from codex_stacks.errors import CodexError
from tests.config.conftest import load


def _problem(text: str) -> CodexError:
    with pytest.raises(CodexError) as info:
        load(text)
    problems = getattr(info.value, "problems", [info.value])
    assert len(problems) == 1, [str(problem) for problem in problems]
    problem: CodexError = problems[0]
    return problem


def test_a_stack_stage_that_is_not_a_list_is_refused_on_its_line() -> None:
    problem = _problem("project: demo\nhooks:\n  beforeAll: sleep\n")
    assert problem.message == "hooks.beforeAll must be a list of steps"
    assert (problem.location.path, problem.location.line) == ("hooks.beforeAll", 3)


def test_a_service_stage_that_is_not_a_list_is_refused_on_its_line() -> None:
    problem = _problem("project: demo\nservices:\n  - name: api\n    hooks:\n      afterApply: {use: sleep}\n")
    assert problem.message == "hooks.afterApply must be a list of steps"
    assert (problem.location.path, problem.location.line) == ("services[0].hooks.afterApply", 5)
