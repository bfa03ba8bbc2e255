"""The ComponentResources of a slot stack: one per infrastructure group, service and the agent."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from codex_stacks.components.hooks import register_steps
from codex_stacks.components.kube import kube_resource
from codex_stacks.config.hooks import HookStage
from codex_stacks.plan import ComponentPlan, KubeObject
from codex_stacks.plan.hooks import PlannedHook, hooks_at
from codex_stacks.plan.kinds import is_namespaced

TYPE_TOKENS = {
    "InfrastructureGroup": "codex:stack:InfrastructureGroup",
    "ServiceComponent": "codex:stack:ServiceComponent",
    "CodexAgent": "codex:stack:CodexAgent",
    "CodexSystem": "codex:stack:CodexSystem",
}
RETAINED_KINDS = frozenset({"PersistentVolumeClaim", "PersistentVolume"})
"""Data outlives the stack: never deleted by a destroy, a mode switch or a removed manifest."""


def retained(obj: KubeObject, namespace: str) -> bool:
    """Kept in the cluster when the stack deletes it: data, and everything outside the stack's
    namespace (cluster-scoped objects, ``kube-system/coredns``): those belong to the cluster stack
    alone, and destroying even that stack must not take the cluster's DNS, issuers or the agent's
    containment policy with it (docs/security.md, "The cluster stack")."""
    if obj.kind in RETAINED_KINDS or not is_namespaced(obj.kind):
        return True
    return obj.namespace is not None and obj.namespace != namespace


def resource_name(component: str, obj: KubeObject, namespace: str) -> str:
    """Stable and unique per stack: the component, the kind, and the object's name (and namespace
    when it is not the stack's), so the URN is the same in every mode."""
    parts = [component, obj.kind.lower()]
    if obj.namespace and obj.namespace != namespace:
        parts.append(obj.namespace)
    parts.append(obj.name)
    return "/".join(parts)


class PlanComponent(pulumi.ComponentResource):
    """A component of the plan: its objects as children, each apply tier waiting for the previous.

    Hook steps are children too, placed by dependency edges. Pulumi creates a resource
    after what it depends on and deletes it *before* that, so one graph serves both directions:

    - beforeApply → the first tier depends on it: it runs before any object is created;
    - afterApply → depends on every object: it runs once they are created and ready;
    - beforeDestroy → depends on every object (like afterApply) and does its work in ``delete``:
      on destroy the engine deletes it first, before any object;
    - afterDestroy → the first tier depends on it (like beforeApply), work in ``delete``: the
      engine deletes it last, after every object is gone.
    """

    resources: dict[str, pulumi.CustomResource]
    hook_steps: dict[str, list[pulumi.Resource]]

    def __init__(
        self,
        plan: ComponentPlan,
        *,
        namespace: str,
        depends_on: Sequence[pulumi.Resource],
        hooks: Sequence[PlannedHook] = (),
        adopt: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKENS[plan.kind], plan.name, None, opts)
        self.plan = plan
        self.resources = {}
        self.hook_steps = {}
        waits = list(depends_on)
        before = [
            *self._steps(hooks, "afterDestroy", depends_on=waits),
            *self._steps(hooks, "beforeApply", depends_on=waits),
        ]
        previous: list[pulumi.Resource] = [*waits, *before]
        for tier in plan.tiers():
            current: list[pulumi.Resource] = []
            for obj in tier:
                name = resource_name(plan.name, obj, namespace)
                retain = retained(obj, namespace)
                resource = kube_resource(
                    name,
                    obj.manifest,
                    pulumi.ResourceOptions(parent=self, depends_on=previous, retain_on_delete=retain or None),
                    adopt=adopt,
                )
                self.resources[obj.key] = resource
                current.append(resource)
            previous = current
        objects: list[pulumi.Resource] = list(self.resources.values()) or [*waits, *before]
        self._steps(hooks, "afterApply", depends_on=objects)
        self._steps(hooks, "beforeDestroy", depends_on=objects)
        self.register_outputs({"objects": [obj.key for obj in plan.objects]})

    def _steps(
        self, hooks: Sequence[PlannedHook], stage: HookStage, *, depends_on: Sequence[pulumi.Resource]
    ) -> list[pulumi.Resource]:
        steps = register_steps(
            hooks_at(hooks, stage, self.plan.name),
            depends_on=depends_on,
            parent=self,
        )
        self.hook_steps[stage] = steps
        return steps


class InfrastructureGroup(PlanComponent):
    """An infrastructure group of services.yaml (databases, config, ingress …)."""


class ServiceComponent(PlanComponent):
    """A service of services.yaml, with its environment's overlays applied."""


class CodexAgent(PlanComponent):
    """The agent's ServiceAccount, Role and RoleBinding: namespace-scoped only; and, where the
    agent works alone in its namespace, that namespace's NetworkPolicies."""


class CodexSystem(PlanComponent):
    """What the cluster stack generates: the agent containment policy, the slot-claim rights."""


COMPONENT_CLASSES: dict[str, type[PlanComponent]] = {
    "InfrastructureGroup": InfrastructureGroup,
    "ServiceComponent": ServiceComponent,
    "CodexAgent": CodexAgent,
    "CodexSystem": CodexSystem,
}
