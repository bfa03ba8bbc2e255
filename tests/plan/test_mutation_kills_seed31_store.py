"""The repair store (docs/repair.md): the component steps a normal run stores are those of the
components a repair run does not plan itself; a repair run registers each component step once.

Written against a mutant of codex_stacks/plan/store.py that lived in the seed-31 sample (issue #19).
"""

from __future__ import annotations

from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.store import dump, load, stored_part, with_stored
from tests.conftest import MakeProject

STEP = (
    "    hooks:\n      afterApply:\n"
    "        - name: {name}\n          use: sleep\n          with: {{seconds: {seconds}}}\n"
)
SERVICES = (
    "project: demo\nenvironments:\n  dev: {}\ninfrastructure:\n"
    "  - name: base\n    manifests: [{path: ns.yaml}]\n"
    + STEP.format(name="base-ready", seconds=1)
    + "  - name: extras\n    manifests: [{path: extras.yaml}]\n"
    + STEP.format(name="extras-ready", seconds=2)
)
FILES = {
    "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n",
    "extras.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extras\n",
}


def test_the_store_keeps_the_steps_of_the_components_outside_the_repair_set(make_project: MakeProject) -> None:
    root = make_project(SERVICES, FILES)
    normal = build_plan(PlanRequest(stack="dev", project_dir=root))
    repair = build_plan(PlanRequest(stack="dev", project_dir=root, mode="repair"))
    assert [component.name for component in repair.components] == ["base"]  # the Namespace's group
    stored = load(dump(stored_part(normal)), stack="dev", namespace=normal.target.namespace)
    assert [(hook.component, hook.step) for hook in stored.hooks] == [("extras", "extras-ready")]
    result = with_stored(repair, stored)
    # each component's step once: base's planned by the repair run, extras' from the store
    assert sorted((hook.component or "", hook.step, hook.params["seconds"]) for hook in result.hooks) == [
        ("base", "base-ready", 1),
        ("extras", "extras-ready", 2),
    ]
