"""What the one cluster-scoped stack owns besides the project's cluster-wide groups: its namespace
``codex-system`` and the rights CI runners need there (docs/security.md, "The cluster stack").

``target`` reads ``SYSTEM_NAMESPACE`` from here, so this module never imports ``target``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codex_stacks.config.model import Subject
from codex_stacks.plan.objects import KubeObject

SYSTEM_NAMESPACE = "codex-system"
"""Slot claims (``coordination.k8s.io`` Leases) and the admission policy's parameters live here:
outside every slot namespace, so no agent can read or change them."""

SLOT_CLAIMS = "codex-slot-claims"
CLUSTER_SCOPE = "cluster"
"""``environments.<name>.scope`` of the environment whose stack owns the cluster-wide objects."""
MANAGED_BY = {"app.kubernetes.io/managed-by": "codex-stacks"}


def slot_claims_name(project: str) -> str:
    return f"{SLOT_CLAIMS}-{project}"


def slot_claim_objects(project: str, runners: Sequence[Subject]) -> tuple[KubeObject, ...]:
    """A Role that lets CI runners claim slots (Leases in codex-system) and its RoleBinding to
    the runners of services.yaml (``security.runners``); no binding when none are named."""
    name = slot_claims_name(project)
    metadata = {"name": name, "namespace": SYSTEM_NAMESPACE, "labels": dict(MANAGED_BY)}
    manifests: list[dict[str, Any]] = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": dict(metadata),
            "rules": [
                {
                    "apiGroups": ["coordination.k8s.io"],
                    "resources": ["leases"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                }
            ],
        }
    ]
    if runners:
        subjects = []
        for runner in runners:
            subject: dict[str, Any] = {"kind": runner.kind, "name": runner.name}
            if runner.kind == "ServiceAccount":
                subject["namespace"] = runner.namespace
            else:
                subject["apiGroup"] = "rbac.authorization.k8s.io"
            subjects.append(subject)
        manifests.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": dict(metadata),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": subjects,
            }
        )
    return tuple(KubeObject(manifest=manifest, source=Path(__file__), line=0) for manifest in manifests)
