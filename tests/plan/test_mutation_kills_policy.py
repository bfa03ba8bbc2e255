"""The agent containment policy (docs/security.md, "What the cluster enforces") as the API server
applies it: its name carries the project, a harmless bare Pod of the agent is admitted, and a
refusal says why in the policy's own words.

The admission step is the CEL test double ``tests/support/admission.py``. Written against mutants
of codex_stacks/plan/policy.py that lived (issue #19).
"""

from __future__ import annotations

from typing import Any

from codex_stacks.plan.policy import policy_objects
from tests.support.admission import Decision, Request, admit

PROJECT = "shop"
NAMESPACE = "shop-ai-1"
FOLDERS = {NAMESPACE: ["/srv/shop/slots/1"]}
AGENT = f"system:serviceaccount:{NAMESPACE}:codex-sa"
# the labels the plan sets on a namespace the agent works in (docs/security.md)
AGENT_NAMESPACE = {
    "metadata": {
        "name": NAMESPACE,
        "labels": {"codex-stacks.dev/project": PROJECT, "codex-stacks.dev/agent-namespace": "true"},
    }
}


def pod(volumes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "busybox"}]}
    if volumes is not None:
        spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": NAMESPACE}, "spec": spec}


def decide(obj: dict[str, Any]) -> Decision:
    policy, binding = (item.manifest for item in policy_objects(PROJECT, FOLDERS))
    request = Request(
        operation="CREATE", group="", version="v1", resource="pods", kind="Pod", namespace=NAMESPACE, username=AGENT
    )
    return admit(policy, binding, request=request, obj=obj, namespace=AGENT_NAMESPACE, param_objects=[binding])


def test_the_policy_and_its_binding_carry_the_projects_name() -> None:
    names = {(item.kind, item.name) for item in policy_objects(PROJECT, FOLDERS)}
    assert names == {
        ("ValidatingAdmissionPolicy", "codex-agent-containment-shop"),
        ("ValidatingAdmissionPolicyBinding", "codex-agent-containment-shop"),
    }


def test_a_bare_pod_of_the_agent_is_admitted() -> None:
    decision = decide(pod())
    assert decision.matched
    assert decision.allowed, decision.messages
    assert decide(pod([{"name": "code", "hostPath": {"path": "/srv/shop/slots/1/src"}}])).allowed


def test_a_host_path_with_dot_dot_is_refused_in_words() -> None:
    decision = decide(pod([{"name": "up", "hostPath": {"path": "/srv/shop/slots/1/../../../etc"}}]))
    assert not decision.allowed
    assert "the codex agent may mount only absolute host paths without '..'" in decision.messages
