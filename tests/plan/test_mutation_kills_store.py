"""The repair store (docs/repair.md): what a normal run leaves in ``repairStore`` and a repair run
without targets registers again, in process: the stored components with their objects' files and
lines, the stack steps in the normal run's order, and a store of another stack refused.

Written against mutants of codex_stacks/plan/store.py that lived or that no in-process test
reached (issue #19).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.store import dump, load, stored_part, with_stored
from tests.conftest import MakeProject

SERVICES = """\
project: demo
environments:
  dev: {}
hooks:
  beforeAll:
    - name: wake
      use: sleep
      with: {seconds: 1}
      repair: true
    - name: nap
      use: sleep
      with: {seconds: 2}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
  - name: extras
    manifests: [{path: extras.yaml}]
"""
FILES = {
    "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n",
    "extras.yaml": "# shared settings\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extras\n",
}


@pytest.fixture
def root(make_project: MakeProject) -> Path:
    return make_project(SERVICES, FILES)


def plans(root: Path):  # type: ignore[no-untyped-def]
    normal = build_plan(PlanRequest(stack="dev", project_dir=root))
    repair = build_plan(PlanRequest(stack="dev", project_dir=root, mode="repair"))
    return normal, repair


def test_a_repair_run_without_targets_registers_the_stored_part_again(root: Path) -> None:
    normal, repair = plans(root)
    namespace = normal.target.namespace
    assert [component.name for component in repair.components] == ["base"]  # the repair set alone
    stored = load(dump(stored_part(normal)), stack="dev", namespace=namespace)
    result = with_stored(repair, stored)
    assert [component.name for component in result.components] == ["base", "extras"]
    assert result.stored == frozenset({"extras"})
    (configmap,) = result.component("extras").objects
    assert configmap.key == f"ConfigMap/{namespace}/extras"
    assert (configmap.source, configmap.line) == ((root / "extras.yaml").resolve(), 3)
    # the stack steps in the normal run's order: the repair run's own, then the stored one
    assert [(hook.step, hook.params["seconds"]) for hook in result.hooks] == [("wake", 1), ("nap", 2)]
    assert [hook.repair for hook in result.hooks] == [True, False]  # only the fresh one is a repair target


def test_a_store_of_another_namespace_is_refused(root: Path) -> None:
    normal, _ = plans(root)
    text = dump(stored_part(normal))
    with pytest.raises(PlanError) as caught:
        load(text, stack="dev", namespace="somewhere-else")
    assert caught.value.message == (
        "the registrations stored by the last normal run cannot be used: "
        f"it belongs to stack dev in namespace {normal.target.namespace}"
    )
