"""The codex agent's identity and rights in its namespace: never cluster-wide, never RBAC or
anything else that limits the agent (docs/security.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codex_stacks.errors import CodexError, Location, PlanError
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


FORBIDDEN_VERBS = frozenset({"bind", "escalate", "impersonate", "*"})
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
LIMITS: frozenset[tuple[str, str]] = frozenset(
    {
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "rolebindings"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("rbac.authorization.k8s.io", "clusterrolebindings"),
        ("networking.k8s.io", "networkpolicies"),
        ("", "resourcequotas"),
        ("", "limitranges"),
        ("", "namespaces"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicies"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
    }
)
"""What limits the agent: no Role of the agent may write it (docs/security.md)."""


def _pod_service_account(objects: list[KubeObject], service: str) -> tuple[KubeObject, str] | None:
    """The agent's Deployment (named like the service, else the service's first) and its ServiceAccount."""
    deployments = [obj for obj in objects if obj.kind == "Deployment"]
    chosen = next((obj for obj in deployments if obj.name == service), deployments[0] if deployments else None)
    if chosen is None:
        return None
    spec = chosen.manifest.get("spec", {}).get("template", {}).get("spec", {})
    return chosen, str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")


def rule_problems(rule: Mapping[str, Any]) -> list[str]:
    """Why a rule gives the agent more than it may have (empty: it is fine)."""
    verbs = {str(verb) for verb in rule.get("verbs") or ()}
    groups = {str(group) for group in rule.get("apiGroups") or ()}
    resources = {str(resource) for resource in rule.get("resources") or ()}
    problems = [f"verb {verb!r}" for verb in sorted(verbs & FORBIDDEN_VERBS)]
    if "*" in groups or "*" in resources:
        problems.append("a wildcard API group or resource")
    if verbs & WRITE_VERBS:
        problems += [
            f"writes to {resource}" for group, resource in sorted(LIMITS) if group in groups and resource in resources
        ]
    return problems


def shipped_rbac_problems(
    components: Sequence[Any], *, repair_set: frozenset[str], service: str, where: Location | None = None
) -> list[CodexError]:
    """``codex.rbac: none``: the agent's ServiceAccount, and the Roles bound to it, are the project's own.
    They must be in the repair set (so a repair run brings the agent's identity up), and they may not
    give more than the built-in ones may: no wildcards, bind, escalate or impersonate, no writes to
    what limits the agent, nothing cluster-wide (docs/security.md). ``where``: the service's manifests
    in services.yaml, for a service without a Deployment."""
    by_name = {component.name: list(component.objects) for component in components}
    found = _pod_service_account(by_name.get(service, []), service)
    if found is None:
        return [
            PlanError(
                f"the agent's service {service!r} has no Deployment", location=where, hint="codex.service names it"
            )
        ]
    deployment, account = found
    in_repair = [obj for name in repair_set for obj in by_name.get(name, [])]
    everything = [obj for objects in by_name.values() for obj in objects]
    problems: list[CodexError] = []
    if not any(obj.kind == "ServiceAccount" and obj.name == account for obj in in_repair):
        problems.append(
            PlanError(
                f"the agent's ServiceAccount {account!r} (serviceAccountName of {deployment.key}) is not in the "
                "repair set, so a repair run could not start the agent",
                location=Location(file=deployment.source, line=deployment.line),
                hint="ship it in a repair.infrastructure group or in the agent's service, or use codex.rbac: builtin",
            )
        )
    roles = {(obj.kind, obj.name): obj for obj in everything if obj.kind in ("Role", "ClusterRole")}
    for binding in everything:
        if binding.kind not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        subjects = binding.manifest.get("subjects") or []
        if not any(s.get("kind") == "ServiceAccount" and s.get("name") == account for s in subjects):
            continue
        where = Location(file=binding.source, line=binding.line)
        if binding.kind == "ClusterRoleBinding":
            problems.append(PlanError(f"{binding.key} gives the agent rights across the cluster", location=where))
            continue
        ref = binding.manifest.get("roleRef") or {}
        role = roles.get((str(ref.get("kind")), str(ref.get("name"))))
        if role is None:
            problems.append(
                PlanError(
                    f"{binding.key} binds the agent to {ref.get('kind')} {ref.get('name')!r}, which the project does "
                    "not define, so its rights cannot be checked",
                    location=where,
                )
            )
            continue
        for rule in role.manifest.get("rules") or []:
            for problem in rule_problems(rule):
                problems.append(
                    PlanError(
                        f"{role.key} (bound to the agent by {binding.name}) grants {problem}",
                        location=Location(file=role.source, line=role.line),
                        hint="the agent may not change what limits it (docs/security.md)",
                    )
                )
    return problems
