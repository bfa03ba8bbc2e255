"""The codex agent's identity and rights in its namespace: never cluster-wide, never RBAC or
anything else that limits the agent (docs/security.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_stacks.plan.objects import KubeObject
from codex_stacks.plan.target import Mode, Target

SERVICE_ACCOUNT = "codex-sa"
ROLE = "codex-agent"
AGENT_COMPONENT = "codex-agent"

_READ = ["get", "list", "watch"]
_MANAGE = [*_READ, "create", "update", "patch", "delete"]

READABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "",
        (
            "pods",
            "pods/log",
            "pods/status",
            "services",
            "endpoints",
            "configmaps",
            "secrets",
            "persistentvolumeclaims",
            "serviceaccounts",
            "events",
            "replicationcontrollers",
            "resourcequotas",
            "limitranges",
            "podtemplates",
        ),
    ),
    ("apps", ("deployments", "statefulsets", "daemonsets", "replicasets", "controllerrevisions")),
    ("batch", ("jobs", "cronjobs")),
    ("autoscaling", ("horizontalpodautoscalers",)),
    ("policy", ("poddisruptionbudgets",)),
    ("networking.k8s.io", ("ingresses", "networkpolicies")),
    ("discovery.k8s.io", ("endpointslices",)),
    ("events.k8s.io", ("events",)),
    ("rbac.authorization.k8s.io", ("roles", "rolebindings")),
    ("metrics.k8s.io", ("pods",)),
)
"""What the agent may read in its namespace: every kind a project's stack is made of, named
one by one (a wildcard would also cover kinds added later, and the resources of every CRD)."""

NORMAL_RULES: tuple[dict[str, Any], ...] = (
    *({"apiGroups": [group], "resources": list(resources), "verbs": _READ} for group, resources in READABLE),
    {"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": _MANAGE},
    {"apiGroups": [""], "resources": ["pods/exec", "pods/portforward", "pods/attach"], "verbs": ["create", "get"]},
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"],
        "verbs": _MANAGE,
    },
    {
        "apiGroups": ["apps"],
        "resources": ["deployments/scale", "statefulsets/scale", "replicasets/scale"],
        "verbs": ["get", "update", "patch"],
    },
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": _MANAGE},
)
"""What an agent needs to work on its slot: read the stack, run and fix the workloads and their
config, exec into and follow its pods. The cluster's admission policy still refuses workloads
that would reach the node (docs/security.md)."""

REPAIR_RULES: tuple[dict[str, Any], ...] = (
    *NORMAL_RULES,
    {
        "apiGroups": [""],
        "resources": ["services", "secrets", "persistentvolumeclaims", "serviceaccounts"],
        "verbs": _MANAGE,
    },
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": _MANAGE},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": _MANAGE},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": _MANAGE},
)
"""Repair: also the objects a broken deploy leaves wrong (Services, Secrets, claims, Ingresses …).
Never what limits the agent itself: RBAC, NetworkPolicies, ResourceQuotas, LimitRanges, the
containment policy; never bind, escalate or impersonate."""


def rules(mode: Mode) -> list[dict[str, Any]]:
    """The Role's rules in this mode, each a fresh copy (the plan's objects are changed later)."""
    chosen = REPAIR_RULES if mode == "repair" else NORMAL_RULES
    return [{key: list(value) for key, value in rule.items()} for rule in chosen]


def agent_objects(target: Target) -> tuple[KubeObject, ...]:
    """ServiceAccount, Role and RoleBinding of the agent in the stack's namespace."""
    namespace = target.namespace
    labels = {"app.kubernetes.io/managed-by": "codex-stacks", "app.kubernetes.io/component": AGENT_COMPONENT}

    def meta(name: str) -> dict[str, Any]:
        return {"name": name, "namespace": namespace, "labels": dict(labels)}

    manifests: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(SERVICE_ACCOUNT)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta(ROLE),
            "rules": rules(target.mode),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta(ROLE),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE},
            "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": namespace}],
        },
    ]
    return tuple(KubeObject(manifest=m, source=Path(__file__), line=0) for m in manifests)
