"""``codexctl validate`` (check_everything): every hook step of every environment is read, and a
service's overlay for an unknown environment is named at its key path (docs/services-yaml.md,
"Evaluation").

Written against mutants of codex_stacks/plan/check.py that lived (issue #19).
"""

from __future__ import annotations

from codex_stacks.plan import PlanRequest
from codex_stacks.plan.check import check_everything
from tests.conftest import MakeProject

BASE = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
"""
FILES = {"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"}


def problems(make_project: MakeProject, services: str) -> list[tuple[str, str]]:
    root = make_project(services, FILES)
    return [
        (str(problem.location.path), problem.message)
        for problem in check_everything(PlanRequest(stack="dev", project_dir=root))
    ]


def test_an_unknown_stack_step_is_reported(make_project: MakeProject) -> None:
    found = problems(make_project, BASE + "hooks:\n  afterAll:\n    - name: tell\n      use: no.such-step\n")
    assert [path for path, message in found if "no.such-step" in message] == ["hooks.afterAll[0]"]


def test_an_unknown_step_of_an_item_is_reported(make_project: MakeProject) -> None:
    services = BASE + "    hooks:\n      beforeApply:\n        - name: tell\n          use: no.such-step\n"
    found = problems(make_project, services)
    assert [path for path, message in found if "no.such-step" in message] == ["infrastructure[0].hooks.beforeApply[0]"]


def test_an_overlay_for_an_unknown_environment_is_named_at_its_key(make_project: MakeProject) -> None:
    services = BASE + "services:\n  - name: web\n    manifests: [{path: ns.yaml}]\n    overlays:\n      prod: {}\n"
    found = problems(make_project, services)
    assert ("services[0].overlays.prod", "web: overlays names unknown environment 'prod'") in found


def test_an_environment_with_an_empty_name_is_reported_not_a_crash(make_project: MakeProject) -> None:
    """Hostile services.yaml: ``"": {}`` is a mapping key YAML allows; no stack can pick it."""
    found = problems(make_project, BASE.replace("  dev: {}\n", '  "": {}\n  dev: {}\n'))
    assert found == [("environments", "environment name '' is not usable: it is empty")]
