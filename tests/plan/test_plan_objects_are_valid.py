"""Every object the example's stacks would deploy is one the API server accepts: checked against
the official Kubernetes JSON schemas (strict, an unknown field is a problem), in process.

The objects the plan writes itself are the point: the agent's Role and RoleBinding, the
NetworkPolicies of a namespace the agent works in alone, the slot-claim Role and the containment
policy of the cluster stack. A misspelt key or a wrong enum value there (``protocol: UDP``,
``operator: In``) would pass every test that reads single fields and fail only in a cluster.
Found by ``make mutation`` on codex_stacks/plan: such mutants of netpol.py and cluster.py lived.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.kubeschema import NoSchemaError, check_object
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import EXAMPLE

STACKS = [
    ("ai-slot-3", "normal"),
    ("ai-slot-3", "repair"),
    ("dev", "normal"),
    ("ai-staging", "normal"),
    ("cluster", "normal"),
]


@pytest.mark.parametrize(("stack", "mode"), STACKS)
def test_every_object_of_the_example_is_valid_kubernetes(stack: str, mode: str) -> None:
    plan = build_plan(PlanRequest(stack=stack, project_dir=EXAMPLE, mode=mode))
    problems = []
    checked = 0
    for obj in plan.objects:
        try:
            found = check_object(obj.manifest)
        except NoSchemaError:
            continue  # a custom resource: no schema ships for it
        checked += 1
        problems += [f"{obj.key}: {'.'.join(map(str, p.path))}: {p.message}" for p in found]
    assert problems == []
    assert checked >= 5


def test_the_plans_own_objects_are_among_those_checked() -> None:
    """The objects the plan writes itself, so the test above covers them."""
    slot = {(o.kind, o.name) for o in build_plan(PlanRequest(stack="ai-slot-3", project_dir=EXAMPLE)).objects}
    cluster = {(o.kind, o.name) for o in build_plan(PlanRequest(stack="cluster", project_dir=EXAMPLE)).objects}
    assert {"Role", "RoleBinding"} <= {kind for kind, _ in slot}
    assert {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} <= {kind for kind, _ in cluster}


def test_the_containment_policy_is_named_after_its_project(example_copy: Path) -> None:
    """docs/security.md: the policy and its binding are ``codex-agent-containment-<project>``, so
    two projects sharing a cluster each keep their own (one would replace the other's otherwise)."""
    services = example_copy / "services.yaml"
    services.write_text(
        services.read_text(encoding="utf-8").replace("project: project-example", "project: other-shop", 1),
        encoding="utf-8",
    )
    for project_dir, project in ((EXAMPLE, "project-example"), (example_copy, "other-shop")):
        plan = build_plan(PlanRequest(stack="cluster", project_dir=project_dir))
        names = {(obj.kind, obj.name) for obj in plan.objects if obj.kind.startswith("ValidatingAdmissionPolicy")}
        assert names == {
            ("ValidatingAdmissionPolicy", f"codex-agent-containment-{project}"),
            ("ValidatingAdmissionPolicyBinding", f"codex-agent-containment-{project}"),
        }
