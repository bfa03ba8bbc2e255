"""Only the cluster stack owns what lies outside the project's namespaces, and it has no repair
mode (docs/security.md, docs/services-yaml.md ``scope: cluster``): both refusals name the fix in
full.

Written against mutants of codex_stacks/plan/containment.py that lived in a fresh sample (seed 31,
issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

ISSUER = """\
# cert-manager's issuer for every stack
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: le
spec: {selfSigned: {}}
"""


def test_a_cluster_scoped_object_without_a_cluster_environment_says_to_add_one(make_project: MakeProject) -> None:
    services = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: issuer
    manifests: [{path: issuer.yaml}]
"""
    root = make_project(services, {"issuer.yaml": ISSUER})
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    error = caught.value
    assert error.message == "ClusterIssuer/le of issuer is cluster-scoped, outside namespace demo-dev of stack dev"
    assert error.location.file is not None
    assert (error.location.file.name, error.location.line) == ("issuer.yaml", 2)  # after the comment line
    assert error.hint == (
        "add an environment with scope: cluster (e.g. 'cluster') and move the group there: "
        "its stack owns every object outside the project's namespaces"
    )


def test_the_cluster_stack_in_repair_mode_is_refused_with_the_mode_to_use(make_project: MakeProject) -> None:
    services = """\
project: demo
environments:
  dev: {}
  cluster: {scope: cluster}
"""
    root = make_project(services)
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="cluster", project_dir=root, mode="repair"))
    error = caught.value
    assert str(error) == (
        "codex:mode: stack cluster is the cluster stack: it has no agent and no repair mode\n"
        "  hint: run it with codex:mode=normal"
    )
