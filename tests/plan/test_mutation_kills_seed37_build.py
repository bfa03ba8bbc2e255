"""Which items a stack deploys (docs/repair.md, "The repair set"; docs/services-yaml.md): the
groups ``repair.infrastructure`` names are the ones a repair run brings up, even when another
group holds the Namespace; the cluster stack lists every service as skipped with its kind; an
item that depends on itself is refused at its ``dependsOn`` entry.

Written against mutants of codex_stacks/plan/build.py that lived in a fresh sample (seed 37,
issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo-dev\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def test_repair_infrastructure_chooses_the_groups_a_repair_run_deploys(make_project: MakeProject) -> None:
    # 'base' holds the Namespace, so it is what a repair run takes by default; the project names
    # 'config' instead, and that choice must win
    services = """\
project: demo
environments:
  dev: {}
repair:
  infrastructure: [config]
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
  - name: config
    manifests: [{path: config.yaml}]
"""
    root = make_project(services, {"ns.yaml": NAMESPACE, "config.yaml": CONFIGMAP.format(name="settings")})
    plan = build_plan(PlanRequest(stack="dev", project_dir=root, mode="repair"))
    assert [(component.kind, component.name) for component in plan.components] == [("InfrastructureGroup", "config")]
    assert [(obj.kind, obj.name) for obj in plan.objects] == [("ConfigMap", "settings")]
    assert [(item.kind, item.name, item.reason) for item in plan.skipped] == [
        ("InfrastructureGroup", "base", "not in the repair set")
    ]


def test_the_cluster_stack_lists_each_service_as_a_skipped_service_component(make_project: MakeProject) -> None:
    services = """\
project: demo
environments:
  dev: {}
  cluster: {scope: cluster}
services:
  - name: web
    manifests: [{path: web.yaml}]
"""
    root = make_project(services, {"web.yaml": CONFIGMAP.format(name="web")})
    plan = build_plan(PlanRequest(stack="cluster", project_dir=root))
    # what `codexctl preview` prints as skipped and the stack output `skipped` holds
    assert [(item.kind, item.name, item.reason) for item in plan.skipped] == [
        ("ServiceComponent", "web", "the cluster stack deploys no services")
    ]


def test_an_item_that_depends_on_itself_is_refused_at_its_depends_on_entry(make_project: MakeProject) -> None:
    services = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: base
    manifests: [{path: base.yaml}]
  - name: data
    manifests: [{path: data.yaml}]
    dependsOn:
      - base
      - data
"""
    root = make_project(services, {"base.yaml": CONFIGMAP.format(name="base"), "data.yaml": CONFIGMAP.format(name="d")})
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    # 'data' (the second entry of dependsOn) is on line 11 of services.yaml
    assert (
        str(caught.value)
        == f"{root / 'services.yaml'}:11: infrastructure[1].dependsOn[1]: data: an item cannot depend on itself"
    )
