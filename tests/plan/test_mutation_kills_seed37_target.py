"""A stack's namespace that Kubernetes would refuse (docs/services-yaml.md, ``namespace.patterns``;
README, "Stack config"): the error names where the name came from — the stack config's
``codex:namespace``, the environment's pattern at its line, or the project name the default
``<project>-<env>`` is made of.

Written against a mutant of codex_stacks/plan/target.py that lived in a fresh sample (seed 37,
issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

HINT = "\n  hint: lowercase letters, digits and '-', at most 63 characters"


def test_a_bad_codex_namespace_is_blamed_on_the_stack_config(make_project: MakeProject) -> None:
    root = make_project("project: demo\nenvironments:\n  dev: {}\n")
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root, namespace="Team_A"))
    assert str(caught.value) == "codex:namespace: namespace 'Team_A' is not a valid Kubernetes name" + HINT


def test_a_bad_pattern_is_blamed_on_its_line_in_services_yaml(make_project: MakeProject) -> None:
    services = """\
project: demo
namespace:
  patterns:
    ai: "{{ project }}-ai-{{ slot }}"
    dev: "{{ project }}_dev"
environments:
  dev: {}
"""
    root = make_project(services)
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    assert str(caught.value) == (
        f"{root / 'services.yaml'}:5: namespace.patterns.dev: namespace 'demo_dev' is not a valid Kubernetes name"
        + HINT
    )


def test_a_default_namespace_too_long_is_blamed_on_the_project_name(make_project: MakeProject) -> None:
    project = "p" * 60  # a valid project name; '<project>-dev' has 64 characters, one too many
    root = make_project(f"project: {project}\nenvironments:\n  dev: {{}}\n")
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    assert str(caught.value) == (
        f"{root / 'services.yaml'}:1: project: namespace '{project}-dev' is not a valid Kubernetes name" + HINT
    )
