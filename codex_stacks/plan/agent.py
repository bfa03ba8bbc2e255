"""The codex agent's identity and rights in its namespace (SPEC §5): never cluster-wide."""

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

NORMAL_RULES: tuple[dict[str, Any], ...] = (
    {"apiGroups": ["*"], "resources": ["*"], "verbs": _READ},
    {
        "apiGroups": [""],
        "resources": [
            "pods",
            "services",
            "configmaps",
            "secrets",
            "persistentvolumeclaims",
            "serviceaccounts",
        ],
        "verbs": _MANAGE,
    },
    {"apiGroups": [""], "resources": ["pods/exec", "pods/portforward", "pods/attach"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["pods/log", "events"], "verbs": _READ},
    {
        "apiGroups": ["apps"],
        "resources": [
            "deployments",
            "statefulsets",
            "daemonsets",
            "replicasets",
            "deployments/scale",
            "statefulsets/scale",
        ],
        "verbs": _MANAGE,
    },
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": _MANAGE},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": _MANAGE},
)
"""What an agent needs to work on its slot: read everything, run and fix the workloads."""

REPAIR_RULES: tuple[dict[str, Any], ...] = ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},)
"""Repair: every namespaced resource of this namespace (a Role cannot reach further)."""


def rules(mode: Mode) -> list[dict[str, Any]]:
    return [dict(rule) for rule in (REPAIR_RULES if mode == "repair" else NORMAL_RULES)]


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
