"""A default namespace (``<project>-<environment>``) that Kubernetes would refuse is blamed on the
name that breaks it, at its line: the environment's name when that is no namespace name itself."""

from __future__ import annotations

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

HINT = "\n  hint: lowercase letters, digits and '-', at most 63 characters"


def error(make_project: MakeProject, services: str, stack: str) -> str:
    root = make_project(services, {})
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack=stack, project_dir=root))
    return str(caught.value).replace(f"{root}/", "")


def test_an_environment_name_with_capitals_is_blamed_at_its_line(make_project: MakeProject) -> None:
    services = "project: demo\nenvironments:\n  dev: {}\n  Stage_2: {}\n"
    assert error(make_project, services, "Stage_2") == (
        "services.yaml:4: environments.Stage_2: namespace 'demo-Stage_2' is not a valid Kubernetes name" + HINT
    )


def test_a_long_environment_name_is_blamed_rather_than_a_short_project(make_project: MakeProject) -> None:
    long = "e" * 60
    services = f"project: demo\nenvironments:\n  dev: {{}}\n  {long}: {{}}\n"
    assert error(make_project, services, long) == (
        f"services.yaml:4: environments.{long}: namespace 'demo-{long}' is not a valid Kubernetes name" + HINT
    )
