"""Facts about Kubernetes kinds the plan needs: scope, where pods live, and apply order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "CertificateSigningRequest",
        "ClusterIssuer",
        "ClusterRole",
        "ClusterRoleBinding",
        "ComponentStatus",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "SelfSubjectAccessReview",
        "SelfSubjectReview",
        "SelfSubjectRulesReview",
        "StorageClass",
        "StorageVersionMigration",
        "SubjectAccessReview",
        "TokenReview",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
        "VolumeAttributesClass",
        "ClusterTriggerAuthentication",
        "ClusterSecretStore",
    }
)
"""Kinds that live outside any namespace (built-ins, plus common CRDs such as cert-manager's)."""

POD_TEMPLATE_PATHS: Mapping[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where each workload kind keeps its pod spec."""

WORKLOAD_KINDS = frozenset(POD_TEMPLATE_PATHS)

_TIERS: tuple[frozenset[str], ...] = (
    frozenset({"Namespace", "CustomResourceDefinition", "PriorityClass", "StorageClass", "IngressClass"}),
    frozenset(
        {
            "ServiceAccount",
            "ClusterRole",
            "Role",
            "ClusterRoleBinding",
            "RoleBinding",
            "ConfigMap",
            "Secret",
            "LimitRange",
            "ResourceQuota",
            "NetworkPolicy",
            "PersistentVolume",
            "PersistentVolumeClaim",
        }
    ),
    frozenset({"Service", "Endpoints", "EndpointSlice"}),
    frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}),
)
LAST_TIER = len(_TIERS)
"""Objects of unknown kinds (Ingress, custom resources, webhooks …) come last."""


def tier(kind: str) -> int:
    """Apply order of a kind: what others refer to comes first (cf. lightkube's sort_objects)."""
    for index, kinds in enumerate(_TIERS):
        if kind in kinds:
            return index
    return LAST_TIER


def is_namespaced(kind: str) -> bool:
    return kind not in CLUSTER_SCOPED_KINDS


def pod_spec(manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload manifest, or None when it has none (yet)."""
    path = POD_TEMPLATE_PATHS.get(str(manifest.get("kind")))
    if path is None:
        return None
    node: Any = manifest
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node if isinstance(node, dict) else None
