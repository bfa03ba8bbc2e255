"""codex.delivery of services.yaml (codex_stacks/config/model.py) where a second fresh sampled
mutation run (tools/mutation.py config --sample 60 --seed 29 --recheck) found that no in-process
test held the branch an issue's work goes to, nor the error for a pattern without one {issue}."""

from __future__ import annotations

import pytest

from codex_stacks.errors import CodexError, CombinedError
from tests.config.conftest import load


def problems(text: str) -> list[CodexError]:
    with pytest.raises(CodexError) as info:
        load(text)
    error = info.value
    return list(error.problems) if isinstance(error, CombinedError) else [error]


def test_the_branch_of_an_issue_puts_its_number_where_the_pattern_says() -> None:
    settings = load("project: demo\ncodex:\n  delivery:\n    branch: bot/{issue}-work\n")
    assert settings.codex.delivery.branch_for(42) == "bot/42-work"


def test_the_default_branch_of_an_issue_is_codex_issue_and_its_number() -> None:
    """The default documented in docs/services-yaml.md: ``codex/issue-{issue}``."""
    assert load("project: demo\n").codex.delivery.branch_for(7) == "codex/issue-7"


@pytest.mark.parametrize("pattern", ["codex/work", "codex/{issue}-{issue}"])
def test_a_branch_pattern_without_exactly_one_issue_is_refused_with_an_example(pattern: str) -> None:
    (error,) = problems(f"project: demo\ncodex:\n  delivery:\n    branch: '{pattern}'\n")
    assert error.message == "the branch pattern must hold {issue} exactly once, e.g. codex/issue-{issue}"
    assert (error.location.path, error.location.line) == ("codex.delivery.branch", 4)
