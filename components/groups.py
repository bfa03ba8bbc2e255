"""The ComponentResources of a slot stack: one per infrastructure group, service and the agent."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from codexctl.plan import ComponentPlan, KubeObject
from codexctl.plan.kinds import is_namespaced
from components.kube import kube_resource

TYPE_TOKENS = {
    "InfrastructureGroup": "codex:stack:InfrastructureGroup",
    "ServiceComponent": "codex:stack:ServiceComponent",
    "CodexAgent": "codex:stack:CodexAgent",
}
RETAINED_KINDS = frozenset({"PersistentVolumeClaim", "PersistentVolume"})
"""Data outlives the stack: never deleted by a destroy, a mode switch or a removed manifest."""


def resource_name(component: str, obj: KubeObject, namespace: str) -> str:
    """Stable and unique per stack: the component, the kind, and the object's name (and namespace
    when it is not the stack's), so the URN is the same in every mode."""
    parts = [component, obj.kind.lower()]
    if obj.namespace and obj.namespace != namespace:
        parts.append(obj.namespace)
    parts.append(obj.name)
    return "/".join(parts)


class PlanComponent(pulumi.ComponentResource):
    """A component of the plan: its objects as children, each apply tier waiting for the previous."""

    resources: dict[str, pulumi.CustomResource]

    def __init__(
        self,
        plan: ComponentPlan,
        *,
        namespace: str,
        depends_on: Sequence[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKENS[plan.kind], plan.name, None, opts)
        self.plan = plan
        self.resources = {}
        previous: list[pulumi.Resource] = list(depends_on)
        for tier in plan.tiers():
            current: list[pulumi.Resource] = []
            for obj in tier:
                name = resource_name(plan.name, obj, namespace)
                retain = obj.kind in RETAINED_KINDS or not is_namespaced(obj.kind)
                resource = kube_resource(
                    name,
                    obj.manifest,
                    pulumi.ResourceOptions(parent=self, depends_on=previous, retain_on_delete=retain or None),
                )
                self.resources[obj.key] = resource
                current.append(resource)
            previous = current
        self.register_outputs({"objects": [obj.key for obj in plan.objects]})


class InfrastructureGroup(PlanComponent):
    """An infrastructure group of services.yaml (databases, config, ingress …)."""


class ServiceComponent(PlanComponent):
    """A service of services.yaml, with its environment's overlays applied."""


class CodexAgent(PlanComponent):
    """The agent's ServiceAccount, Role and RoleBinding: namespace-scoped only."""


COMPONENT_CLASSES: dict[str, type[PlanComponent]] = {
    "InfrastructureGroup": InfrastructureGroup,
    "ServiceComponent": ServiceComponent,
    "CodexAgent": CodexAgent,
}
