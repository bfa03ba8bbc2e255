"""What a plan adds to contain the agent (docs/security.md), and the one-owner rule for objects
outside a stack's namespace.

- A namespace stack owns only its own namespace and what lives in it: anything else is a plan
  error that points to the cluster environment.
- Its namespace gets Pod Security labels (``enforce`` at the strictest level its own pods pass,
  ``warn``/``audit`` at baseline) and the labels the containment policy selects on.
- Where the agent works alone in its namespace, that namespace gets default-deny NetworkPolicies
  with the project's declared traffic allowed (as part of the agent's component).
- The cluster stack owns the containment policy and the slot-claim rights in ``codex-system``.

A namespace can be shared by several environments (``ai-repair`` runs the agent in staging's
namespace): labels are computed over every stack of that namespace, so both compute the same
ones, and only the namespace's owner writes them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_stacks.errors import CodexError, Location, PlanError
from codex_stacks.plan import netpol
from codex_stacks.plan.cluster import CLUSTER_SCOPE, MANAGED_BY, SLOT_CLAIMS, SYSTEM_NAMESPACE, slot_claim_objects
from codex_stacks.plan.netpol import network_policies
from codex_stacks.plan.objects import KubeObject
from codex_stacks.plan.pods import host_paths, pod_spec
from codex_stacks.plan.podsecurity import PodSecurity, namespace_labels, pod_security, strictest_level
from codex_stacks.plan.policy import (
    AGENT_NAMESPACE_LABEL,
    POLICY_PREFIX,
    PROJECT_LABEL,
    covering_folders,
    policy_objects,
)
from codex_stacks.plan.target import SLOT_ENVIRONMENT, Mode, PlanRequest, Target

if TYPE_CHECKING:
    from codex_stacks.config.settings import Settings
    from codex_stacks.plan.build import Plan

UNKNOWN = "a stack deploying into this namespace cannot be planned now, so its pods are not known"
"""Why a namespace enforces ``privileged`` when not every stack deploying into it plans."""

PlanOf = Callable[[PlanRequest], "Plan"]
ResolveOf = Callable[[PlanRequest], Target]


def _request(request: PlanRequest, stack: str, mode: str) -> PlanRequest:
    """Another stack of the same project, as its stack name alone describes it."""
    return dataclasses.replace(request, stack=stack, env=None, slot=None, namespace=None, mode=mode)


def _has_agent(plan: Plan) -> bool:
    return any(component.kind == "CodexAgent" for component in plan.components)


def _pod_objects(plans: Iterable[Plan]) -> list[Mapping[str, Any]]:
    return [obj.manifest for plan in plans for obj in plan.objects if pod_spec(obj.manifest) is not None]


def _scopes(settings: Settings) -> dict[str, str | None]:
    """Each environment's ``scope`` (inherited along ``from`` like every other field)."""
    return {name: settings.environment(name).scope for name in settings.document.environments}


def check_cluster_environment(settings: Settings) -> None:
    """At most one environment owns the cluster-wide objects, and it stands alone: ``from`` would
    pass ``scope`` on, or take another environment's settings into the cluster stack."""
    document = settings.document
    cluster = sorted(name for name, scope in _scopes(settings).items() if scope == CLUSTER_SCOPE)
    for name, parent in document.env_from.items():
        if parent is not None and (name in cluster or parent in cluster):
            document.fail(
                f"environment {name!r}: a scope: cluster environment neither inherits nor is inherited",
                ["environments", name, "from"],
            )
    if len(cluster) > 1:
        document.fail(f"only one environment may have scope: cluster, not {', '.join(cluster)}", ["environments"])


def _cluster_environment(plan: Plan) -> str | None:
    return next((name for name, scope in _scopes(plan.settings).items() if scope == CLUSTER_SCOPE), None)


def _outside(plan: Plan) -> Iterable[tuple[str, KubeObject]]:
    """Objects a namespace stack must not own: cluster-scoped ones and those of other namespaces."""
    namespace = plan.target.namespace
    for component in plan.components:
        for obj in component.objects:
            if obj.namespace == namespace or (obj.kind == "Namespace" and obj.name == namespace):
                continue
            yield component.name, obj


def check_single_owner(plan: Plan) -> None:
    """Only the cluster stack owns objects outside a stack's namespace, so destroying any other
    stack can never delete one (e.g. ``kube-system/coredns``)."""
    for component, obj in _outside(plan):
        cluster = _cluster_environment(plan)
        where = "cluster-scoped" if obj.namespace is None else f"in namespace {obj.namespace}"
        hint = (
            f"move group {component!r} to environment {cluster!r} (scope: cluster), e.g. "
            f"when: \"{{{{ env == '{cluster}' }}}}\"; its stack owns every object outside the project's namespaces"
            if cluster
            else "add an environment with scope: cluster (e.g. 'cluster') and move the group there: "
            "its stack owns every object outside the project's namespaces"
        )
        raise PlanError(
            f"{obj.key} of {component} is {where}, outside namespace {plan.target.namespace} of stack "
            f"{plan.target.stack}",
            location=Location(file=obj.source, line=obj.line or None),
            hint=hint,
        )


def _siblings(plan: Plan, request: PlanRequest, plan_of: PlanOf, resolve: ResolveOf) -> list[Plan | None]:
    """The other stacks deploying into this namespace (None: one that does not plan now)."""
    found: list[Plan | None] = []
    if plan.target.is_slot:
        return found
    for name in plan.settings.document.environments:
        environment = plan.settings.environment(name)
        if name in (plan.target.env, SLOT_ENVIRONMENT) or environment.scope == CLUSTER_SCOPE:
            continue
        other = _request(request, name, environment.mode or "normal")
        try:
            namespace = resolve(other).namespace
        except CodexError:
            continue  # its namespace cannot be known, so neither can sharing it
        if namespace != plan.target.namespace:
            continue
        try:
            found.append(plan_of(other))
        except CodexError:
            found.append(None)
    return found


def _own_pods_plan(plan: Plan, request: PlanRequest, plan_of: PlanOf) -> Plan | None:
    """The plan whose pods decide the level: a repair run still labels for the whole stack (a
    stricter label would refuse the pods of the groups it left out), from the normal-mode plan."""
    if plan.target.mode != "repair" or plan.target.environment.mode == "repair":
        return plan
    try:
        return plan_of(dataclasses.replace(request, mode="normal"))
    except CodexError:
        return None


def _agent_pods(plan: Plan) -> dict[str, str] | None:
    """The selector of the agent Deployment's pods, or None when the plan has no agent Deployment."""
    for obj in plan.objects:
        if obj.kind == "Deployment" and obj.name == plan.agent_deployment:
            selector = (obj.manifest.get("spec") or {}).get("selector") or {}
            labels = selector.get("matchLabels") if isinstance(selector, Mapping) else None
            if isinstance(labels, Mapping) and labels:
                return {str(key): str(value) for key, value in labels.items()}
    return None


def _check_free(plan: Plan, names: Iterable[str], objects: Iterable[KubeObject]) -> None:
    """Generated components and objects must not take a name the project already uses."""
    for component in plan.components:
        if component.name in names:
            document = plan.settings.document
            ref = next((ref for ref in document.items if ref.name == component.name), None)
            raise PlanError(
                f"component name {component.name!r} is reserved for what codex stacks generates",
                location=document.location([*ref.path, "name"]) if ref else Location(path=component.name),
                hint="rename that infrastructure group or service",
            )
    generated = {obj.key for obj in objects}
    for component in plan.components:
        for obj in component.objects:
            if obj.key in generated:
                raise PlanError(
                    f"{obj.key} of {component.name} has the name of an object codex stacks generates",
                    location=Location(file=obj.source, line=obj.line or None),
                    hint="rename it",
                )


def _generated(manifests: Iterable[Mapping[str, Any]], module: str) -> tuple[KubeObject, ...]:
    return tuple(KubeObject(manifest=manifest, source=Path(module), line=0) for manifest in manifests)


def secure_namespace(namespace: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """A Namespace manifest with the security labels set (they win over the manifest's own)."""
    metadata = dict(namespace.get("metadata") or {})
    metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
    return {**namespace, "metadata": metadata}


def _labelled(obj: KubeObject, labels: Mapping[str, str]) -> KubeObject:
    return KubeObject(manifest=secure_namespace(obj.manifest, labels), source=obj.source, line=obj.line)


def namespace_security(plan: Plan, request: PlanRequest, plan_of: PlanOf, resolve: ResolveOf) -> Plan:
    """A namespace stack's plan with its namespace labelled and, where the agent works alone in
    it, the NetworkPolicies added to the agent's component."""
    check_single_owner(plan)
    siblings = _siblings(plan, request, plan_of, resolve)
    basis = [_own_pods_plan(plan, request, plan_of), *siblings]
    known = [item for item in basis if item is not None]
    security = pod_security(_pod_objects(known)) if len(known) == len(basis) else PodSecurity("privileged", (UNKNOWN,))
    agent_here = _has_agent(plan) or any(item is None or _has_agent(item) for item in siblings)
    labels = {
        **namespace_labels(security.enforce),
        PROJECT_LABEL: plan.target.project,
        **({AGENT_NAMESPACE_LABEL: "true"} if agent_here else {}),
    }
    namespace_key = f"Namespace/{plan.target.namespace}"
    policies: tuple[KubeObject, ...] = ()
    if _has_agent(plan) and not siblings:
        policies = _generated(
            network_policies(
                plan.settings.security.network_policy,
                namespace=plan.target.namespace,
                agent_pods=_agent_pods(plan),
                labels=MANAGED_BY,
            ),
            netpol.__file__,
        )
        _check_free(plan, (), policies)
    components = []
    for component in plan.components:
        objects = tuple(_labelled(obj, labels) if obj.key == namespace_key else obj for obj in component.objects)
        if component.kind == "CodexAgent":
            objects = (*objects, *policies)
        components.append(dataclasses.replace(component, objects=objects))
    return dataclasses.replace(
        plan,
        components=tuple(components),
        namespace_labels=labels if plan.namespace_owner is None and not siblings else {},
        pod_security=security,
    )


def agent_host_folders(plan: Plan, request: PlanRequest, plan_of: PlanOf) -> dict[str, list[str]]:
    """For every namespace the agent works in, the host folders its stacks' workloads mount and
    their data folders: every slot ``ai-slot-1…maxSlots`` and every long-lived environment."""
    settings = plan.settings
    stacks: list[tuple[str, Mode]] = []
    for name in settings.document.environments:
        environment = settings.environment(name)
        if environment.scope == CLUSTER_SCOPE:
            continue
        mode: Mode = environment.mode or "normal"
        if name == SLOT_ENVIRONMENT:
            stacks.extend(
                (f"{SLOT_ENVIRONMENT}-slot-{slot}", mode) for slot in range(1, max(settings.max_slots, 1) + 1)
            )
        else:
            stacks.append((name, mode))
    by_namespace: dict[str, list[Plan]] = {}
    for stack, mode in stacks:
        try:
            other = plan_of(_request(request, stack, mode))
        except CodexError as error:
            raise PlanError(
                f"cannot list the host folders of stack {stack} for the agent containment policy: {error.message}",
                location=error.location,
                hint=error.hint or f"fix stack {stack} first: `codexctl validate --stack {stack}`",
            ) from None
        if other.target.is_slot and settings.max_slots == 0 and _has_agent(other):
            raise PlanError(
                "maxSlots is 0 (no limit), but the containment policy must list every slot's folders",
                location=settings.document.location(["maxSlots"]),
                hint="set maxSlots to the number of slots the cluster may run",
            )
        by_namespace.setdefault(other.target.namespace, []).append(other)
    folders: dict[str, list[str]] = {}
    for namespace, plans in by_namespace.items():
        if not any(_has_agent(item) for item in plans):
            continue
        paths = [path for manifest in _pod_objects(plans) for path in host_paths(pod_spec(manifest) or {})]
        folders[namespace] = covering_folders([*paths, *(item.target.storage.env_dir for item in plans)])
    return folders


def cluster_security(plan: Plan, request: PlanRequest, plan_of: PlanOf) -> Plan:
    """The cluster stack's plan with the containment policy and the slot-claim rights added."""
    from codex_stacks.plan.build import ComponentPlan  # here, not above: build imports this module

    if plan.target.mode == "repair":
        raise PlanError(
            f"stack {plan.target.stack} is the cluster stack: it has no agent and no repair mode",
            location=Location(path="codex:mode"),
            hint="run it with codex:mode=normal",
        )
    for component in plan.components:
        for obj in component.objects:
            if obj.namespace == plan.target.namespace:
                raise PlanError(
                    f"{obj.key} of {component.name} would land in {SYSTEM_NAMESPACE}, the cluster stack's own "
                    "namespace: the cluster stack owns only objects outside the project's namespaces",
                    location=Location(file=obj.source, line=obj.line or None),
                    hint=f"keep group {component.name!r} out of environment {plan.target.env!r}, e.g. "
                    f"when: \"{{{{ env != '{plan.target.env}' }}}}\"",
                )
    project = plan.target.project
    policy = policy_objects(project, agent_host_folders(plan, request, plan_of))
    claims = slot_claim_objects(project, plan.settings.security.runners)
    _check_free(plan, (POLICY_PREFIX, SLOT_CLAIMS), (*policy, *claims))
    generated = (
        ComponentPlan(kind="CodexSystem", name=POLICY_PREFIX, objects=policy),
        ComponentPlan(kind="CodexSystem", name=SLOT_CLAIMS, objects=claims),
    )
    return dataclasses.replace(
        plan,
        components=(*plan.components, *generated),
        namespace_labels={**namespace_labels(strictest_level(())), **MANAGED_BY},
    )


def secure_plan(plan: Plan, request: PlanRequest, *, plan_of: PlanOf, resolve: ResolveOf) -> Plan:
    """The plan with what contains the agent added; ``plan_of`` plans another stack of the same
    project without this step, ``resolve`` only binds another stack (its namespace)."""
    check_cluster_environment(plan.settings)
    if plan.target.environment.scope == CLUSTER_SCOPE:
        return cluster_security(plan, request, plan_of)
    return namespace_security(plan, request, plan_of, resolve)
