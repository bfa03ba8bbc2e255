"""The agent containment policy's refusal of a foreign host folder (docs/security.md, "What the
cluster enforces") when its message expression cannot be shown: a path with a line break in it
makes the listed paths multi-line, and Kubernetes then falls back to the validation's fixed
``message`` (the API reference of admissionregistration.k8s.io/v1 ``Validation.messageExpression``:
a result that contains line breaks is treated as if messageExpression were unset). The refusal
still says what the agent may mount.

The admission step is the CEL test double ``tests/support/admission.py``. Written against a
mutant of codex_stacks/plan/policy.py that lived in a fresh sample (seed 31, issue #19).
"""

from __future__ import annotations

from typing import Any

from codex_stacks.plan.policy import policy_objects
from tests.support.admission import Request, admit

PROJECT = "shop"
NAMESPACE = "shop-ai-1"
AGENT = f"system:serviceaccount:{NAMESPACE}:codex-sa"
AGENT_NAMESPACE = {
    "metadata": {
        "name": NAMESPACE,
        "labels": {"codex-stacks.dev/project": PROJECT, "codex-stacks.dev/agent-namespace": "true"},
    }
}


def agent_pod_mounting(path: str) -> list[str]:
    policy, binding = (item.manifest for item in policy_objects(PROJECT, {NAMESPACE: ["/srv/shop/slots/1"]}))
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x", "namespace": NAMESPACE},
        "spec": {
            "containers": [{"name": "app", "image": "busybox"}],
            "volumes": [{"name": "data", "hostPath": {"path": path}}],
        },
    }
    request = Request(
        operation="CREATE", group="", version="v1", resource="pods", kind="Pod", namespace=NAMESPACE, username=AGENT
    )
    decision = admit(policy, binding, request=request, obj=obj, namespace=AGENT_NAMESPACE, param_objects=[binding])
    assert decision.matched
    assert not decision.allowed
    return decision.messages


def test_a_foreign_folder_is_refused_naming_it() -> None:
    assert agent_pod_mounting("/srv/shop/slots/2") == [
        "the codex agent may mount only its slot's own folders, not /srv/shop/slots/2"
    ]


def test_a_foreign_folder_with_a_line_break_is_refused_in_the_fixed_words() -> None:
    assert agent_pod_mounting("/srv/shop/slots/2\nx") == [
        "the codex agent may mount only its slot's own code and data folders"
    ]
