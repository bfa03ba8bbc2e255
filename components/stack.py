"""The whole stack: provider, namespace, components and their dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from codex_stacks.components.groups import COMPONENT_CLASSES, PlanComponent
from codex_stacks.components.hooks import register_steps
from codex_stacks.components.kube import kube_resource
from codex_stacks.plan import Plan
from codex_stacks.plan.hooks import hooks_at


@dataclass(frozen=True)
class DeployedStack:
    provider: k8s.Provider
    namespace: pulumi.Resource
    components: dict[str, PlanComponent]
    before_all: list[pulumi.Resource] = field(default_factory=list)
    after_all: list[pulumi.Resource] = field(default_factory=list)

    def repair_targets(self, plan: Plan) -> pulumi.Output[list[str]]:
        """URNs of what a repair run registers: the ``--target`` list, in either mode."""
        stack_steps = zip(
            [*self.before_all, *self.after_all],
            [*hooks_at(plan.hooks, "beforeAll"), *hooks_at(plan.hooks, "afterAll")],
            strict=True,
        )
        resources: list[pulumi.Resource] = [self.provider]
        # a repair run plans only the stack steps marked ``repair: true``; the others it registers
        # again from the store (docs/repair.md) are outside the targets in either mode
        resources += [step for step, hook in stack_steps if hook.repair]
        if plan.namespace_owner is None:
            resources.append(self.namespace)
        for name in sorted(plan.repair_set):
            component = self.components[name]
            resources.append(component)
            resources.extend(component.resources.values())
            resources.extend(step for steps in component.hook_steps.values() for step in steps)
        return pulumi.Output.all(*(resource.urn for resource in resources)).apply(sorted)


def kubernetes_provider(plan: Plan) -> k8s.Provider:
    """One explicit provider per stack; server-side apply lets it adopt existing objects."""
    return k8s.Provider(
        "kubernetes",
        namespace=plan.target.namespace,
        enable_server_side_apply=True,
        context=plan.target.environment.kube_context,
    )


def deploy(plan: Plan) -> DeployedStack:
    """Register every component of the plan; everything waits for the namespace, and items
    wait only for what their ``dependsOn`` names, so one failing group holds back nothing else.

    Stack hook steps: the namespace (and through it everything else) depends on the beforeAll
    steps, so they are created first and deleted last; the afterAll steps depend on every
    component, so they are created last and deleted first.
    """
    before_all = register_steps(hooks_at(plan.hooks, "beforeAll"), depends_on=[])
    provider = kubernetes_provider(plan)
    base = pulumi.ResourceOptions(provider=provider)
    components: dict[str, PlanComponent] = {}
    namespace: pulumi.Resource
    if plan.namespace_owner is None:
        # shared with whoever else deploys into it (a repair-only stack beside staging): retained
        namespace = kube_resource(
            "namespace",
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": plan.target.namespace,
                    **({"labels": dict(plan.namespace_labels)} if plan.namespace_labels else {}),
                },
            },
            pulumi.ResourceOptions(provider=provider, retain_on_delete=True, depends_on=before_all),
        )
    for component in plan.components:  # in dependency order, the namespace's owner first
        if component.name == plan.namespace_owner:
            waits: list[pulumi.Resource] = [*before_all]
        else:  # the namespace waits for beforeAll, so these do too
            waits = [namespace, *(components[dep] for dep in component.depends_on)]
        cls = COMPONENT_CLASSES[component.kind]
        components[component.name] = cls(
            component, namespace=plan.target.namespace, depends_on=waits, hooks=plan.hooks, adopt=plan.adopt, opts=base
        )
        if component.name == plan.namespace_owner:
            namespace = next(
                resource
                for key, resource in components[component.name].resources.items()
                if key == f"Namespace/{plan.target.namespace}"
            )
    after_all = register_steps(hooks_at(plan.hooks, "afterAll"), depends_on=[namespace, *components.values()])
    return DeployedStack(
        provider=provider,
        namespace=namespace,
        components=components,
        before_all=before_all,
        after_all=after_all,
    )


def outputs(plan: Plan) -> dict[str, object]:
    """Stack outputs: where the stack is, what it deployed, where to look."""
    return {
        "env": plan.target.env,
        "slot": plan.target.slot,
        "namespace": plan.target.namespace,
        "mode": plan.target.mode,
        "components": [component.name for component in plan.components],
        "skipped": {item.name: item.reason for item in plan.skipped},
        "agentDeployment": plan.agent_deployment,
        "links": [{"title": link.title, "url": link.url} for link in plan.links],
        "podSecurity": _pod_security(plan),
    }


POD_SECURITY_SHOWN = 20
"""Lines of ``podSecurity.because`` at most; one more counts the rest."""


def _pod_security(plan: Plan) -> dict[str, object] | None:
    """The level the namespace enforces and what keeps it from the next stricter one (docs/security.md)."""
    security = plan.pod_security
    if security is None:
        return None
    because = list(security.because[:POD_SECURITY_SHOWN])
    hidden = len(security.because) - len(because)
    if hidden:
        because.append(f"… and {hidden} more")
    return {"enforce": security.enforce, "because": because}
