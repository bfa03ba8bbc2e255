"""Refusals of the services.yaml structure (codex_stacks/config/loader.py), where a fourth sampled
mutation run (tools/mutation.py config --sample 60 --seed 37 --recheck) found behaviour no test
held: the whole refusal of a name that is not a DNS label, written out by hand, and the dependsOn
cycles among the selected items when some dependsOn names an item that is not selected."""

from __future__ import annotations

import pytest

from codex_stacks.config.loader import names_in_cycles
from codex_stacks.errors import CodexError
from tests.config.conftest import load


def _only_problem(text: str) -> CodexError:
    with pytest.raises(CodexError) as info:
        load(text)
    problems = getattr(info.value, "problems", [info.value])
    assert len(problems) == 1, [str(problem) for problem in problems]
    problem: CodexError = problems[0]
    return problem


@pytest.mark.parametrize("name", ["Demo", "-demo", "a" * 64])
def test_a_project_name_that_is_not_a_dns_label_is_refused_with_the_rule(name: str) -> None:
    problem = _only_problem(f"# a project\nproject: {name}\n")
    assert problem.message == f"project {name!r} is not a valid name"
    assert (problem.location.path, problem.location.line) == ("project", 2)
    assert problem.hint == ("lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63")


def test_cycles_are_found_among_selected_items_that_also_depend_on_unselected_ones() -> None:
    """``db`` is not selected in this stack (switched off by ``when:``, say): it has no entry.
    ``api -> worker -> api`` is a cycle; ``web`` only leads into it."""
    edges = {"web": ["db", "api"], "api": ["db", "worker"], "worker": ["api"], "cron": ["db"]}
    assert names_in_cycles(edges) == ["api", "worker"]
    assert names_in_cycles({"web": ["db"], "cron": ["web", "db"]}) == []
