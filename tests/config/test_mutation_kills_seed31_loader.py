"""Refusals of the services.yaml structure (codex_stacks/config/loader.py), where a third sampled
mutation run (tools/mutation.py config --sample 60 --seed 31) found behaviour no in-process test
held: each refusal's whole one-line message, key path and line, written out by hand."""

from __future__ import annotations

import pytest

from codex_stacks.errors import CodexError
from tests.config.conftest import load


def _only_problem(text: str, *, stack: str = "dev") -> CodexError:
    with pytest.raises(CodexError) as info:
        load(text, stack=stack)
    problems = getattr(info.value, "problems", [info.value])
    assert len(problems) == 1, [str(problem) for problem in problems]
    problem: CodexError = problems[0]
    return problem


def test_env_vars_given_as_a_list_is_refused_on_its_line() -> None:
    problem = _only_problem("project: demo\nenvVars: [API_TOKEN]\n")
    assert problem.message == "envVars must be a mapping of variable names to {secret, description}"
    assert (problem.location.path, problem.location.line) == ("envVars", 2)


@pytest.mark.parametrize("section", ["services", "infrastructure"])
def test_a_section_given_as_a_mapping_is_refused_on_its_line(section: str) -> None:
    problem = _only_problem(f"project: demo\n{section}:\n  api:\n    manifests: []\n")
    assert problem.message == f"{section} must be a list of items"
    assert (problem.location.path, problem.location.line) == (section, 2)


def test_a_templated_item_name_is_refused_with_its_hint() -> None:
    problem = _only_problem("project: demo\nvars:\n  n: api\nservices:\n  - name: '{{ n }}'\n")
    assert problem.message == "the item's name must be written out, not a template"
    assert (problem.location.path, problem.location.line) == ("services[0].name", 5)
    assert problem.hint == "names are fixed for every stack"


# An environment may be named like a key of an environment ("mode", "scope", "from"): a key
# under it is still an environment's key, and the hint picks among the environment's keys.


def test_an_unknown_key_in_an_environment_named_like_a_key_is_refused_without_a_hint_at_itself() -> None:
    """Before the fix, the hint looked among every key of the file and offered the key itself:
    "unknown key 'repository'" with "did you mean 'repository'?" (a key of images:)."""
    problem = _only_problem("project: demo\nenvironments:\n  mode:\n    repository: x\n", stack="mode")
    assert problem.message == "unknown key 'repository'"
    assert (problem.location.path, problem.location.line) == ("environments.mode.repository", 4)
    assert problem.hint is None


def test_a_snake_case_key_in_an_environment_named_mode_gets_the_camel_case_hint() -> None:
    problem = _only_problem("project: demo\nenvironments:\n  mode:\n    kube_context: x\n", stack="mode")
    assert problem.message == "unknown key 'kube_context'"
    assert (problem.location.path, problem.location.line) == ("environments.mode.kube_context", 4)
    assert problem.hint == "did you mean 'kubeContext'? (keys are camelCase)"


def test_a_misspelt_key_in_an_environment_named_scope_gets_the_environments_key() -> None:
    problem = _only_problem("project: demo\nenvironments:\n  scope:\n    kubeContxt: x\n", stack="scope")
    assert problem.message == "unknown key 'kubeContxt'"
    assert (problem.location.path, problem.location.line) == ("environments.scope.kubeContxt", 4)
    assert problem.hint == "did you mean 'kubeContext'?"
