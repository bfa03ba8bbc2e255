"""One object, two components (docs/services-yaml.md): when two of the project's own groups
define the same object, the error points at the second definition, the one that made it a
duplicate, and names both.

Written against a mutant of codex_stacks/plan/build.py that lived in a fresh sample (seed 29,
issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

SERVICES = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: first
    manifests: [{path: a.yaml}]
  - name: second
    manifests: [{path: b.yaml}]
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n"


def test_a_duplicate_between_two_groups_is_pointed_at_the_second_definition(make_project: MakeProject) -> None:
    root = make_project(SERVICES, {"a.yaml": CONFIGMAP, "b.yaml": "# the same again\n---\n" + CONFIGMAP})
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    # b.yaml's ConfigMap starts on its line 3, a.yaml's on line 1
    assert caught.value.message == (
        "ConfigMap/demo-dev/shared is defined twice: in second (b.yaml:3) and in first (a.yaml:1)"
    )
    assert (caught.value.location.file, caught.value.location.line) == ((root / "b.yaml").resolve(), 3)
    assert caught.value.hint == "each Kubernetes object must belong to exactly one component"
