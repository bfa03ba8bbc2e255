"""From a stack request to a Plan: selected components and their ordered objects (SPEC §4.1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from codex_stacks.config.loader import load_services_file, read_prelude, read_text
from codex_stacks.config.model import Infrastructure, Service, ServicesFile
from codex_stacks.config.templating import is_enabled
from codex_stacks.errors import CodexError, Location, PlanError, raise_problems
from codex_stacks.plan.agent import AGENT_COMPONENT, agent_objects
from codex_stacks.plan.hooks import PlannedHook, plan_hooks
from codex_stacks.plan.kinds import tier
from codex_stacks.plan.kube_rules import check_objects
from codex_stacks.plan.objects import KubeObject, manifest_path, render_manifest
from codex_stacks.plan.overlays import apply_service_overlay, dropped, set_default_namespace
from codex_stacks.plan.target import (
    PlanRequest,
    Target,
    first_pass_context,
    parse_prelude,
    requested_env_and_slot,
    requested_mode,
    resolve_target,
    template_context,
)

ComponentKind = Literal["InfrastructureGroup", "ServiceComponent", "CodexAgent"]
AGENT_SERVICE = "codex"
"""The service that runs the agent; its Deployment is the one ``prompt run`` waits for."""


@dataclass(frozen=True, slots=True)
class ComponentPlan:
    """One component: its objects in apply order and the components it waits for."""

    kind: ComponentKind
    name: str
    objects: tuple[KubeObject, ...]
    depends_on: tuple[str, ...] = ()

    def tiers(self) -> list[list[KubeObject]]:
        """Objects grouped by apply tier, in order; each tier waits for the one before."""
        groups: dict[int, list[KubeObject]] = {}
        for obj in self.objects:
            groups.setdefault(tier(obj.kind), []).append(obj)
        return [groups[key] for key in sorted(groups)]


@dataclass(frozen=True, slots=True)
class Skipped:
    """An item of services.yaml that this stack does not deploy, and why."""

    kind: ComponentKind
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the Pulumi layer needs, decided in pure Python."""

    target: Target
    settings: ServicesFile
    components: tuple[ComponentPlan, ...]
    skipped: tuple[Skipped, ...] = ()
    links: tuple[Link, ...] = ()
    namespace_owner: str | None = None
    agent_deployment: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    hooks: tuple[PlannedHook, ...] = ()
    repair_set: frozenset[str] = frozenset()
    """Components a repair run deploys (all of them in repair mode): the ``--target`` source."""

    @property
    def objects(self) -> list[KubeObject]:
        return [obj for component in self.components for obj in component.objects]

    def component(self, name: str) -> ComponentPlan:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(name)


def _first_pass(request: PlanRequest, text: str) -> Target:
    source = request.services_path
    env, slot = requested_env_and_slot(request)
    mode = requested_mode(request)
    raw = read_prelude(text, first_pass_context(request, env, slot, mode), source=source)
    prelude = parse_prelude(raw, text=text, source=source)
    return resolve_target(request, prelude, source=source, text=text)


def resolve_stack(request: PlanRequest) -> Target:
    """The first template pass alone: the stack's environment, slot, namespace and mode, or the
    CodexError that says what is wrong (what ``ci up`` checks before it touches a backend)."""
    return _first_pass(request, read_text(request.services_path, root=request.project_dir))


def load_settings(request: PlanRequest) -> tuple[Target, ServicesFile, dict[str, Any]]:
    """Both template passes: the resolved target, the validated file, the full context."""
    text = read_text(request.services_path, root=request.project_dir)
    target = _first_pass(request, text)
    context = template_context(target, request)
    settings = load_services_file(text, context, source=request.services_path)
    return target, settings, context


def _render_items(
    item: Infrastructure | Service,
    *,
    index: int,
    section: str,
    request: PlanRequest,
    context: Mapping[str, Any],
) -> list[KubeObject]:
    objects: list[KubeObject] = []
    for number, ref in enumerate(item.manifests):
        where = f"{section}[{index}].manifests[{number}].path"
        path = manifest_path(request.project_dir, ref, where=where)
        objects.extend(render_manifest(path, context, where=where, root=request.project_dir))
    return objects


def _finish(objects: Sequence[KubeObject], namespace: str) -> tuple[KubeObject, ...]:
    finished = []
    for obj in objects:
        manifest = dict(obj.manifest)
        manifest["metadata"] = dict(manifest.get("metadata") or {})
        set_default_namespace(manifest, namespace)
        finished.append(KubeObject(manifest=manifest, source=obj.source, line=obj.line))
    return tuple(sorted(finished, key=lambda o: tier(o.kind)))


def _service_objects(service: Service, objects: list[KubeObject], target: Target) -> list[KubeObject]:
    overlay = service.overlays.get(target.env)
    result = []
    for obj in objects:
        if dropped(obj.kind, overlay):
            continue
        manifest = apply_service_overlay(
            dict(obj.manifest),
            service=service.name,
            image=service.image.reference if service.image else None,
            overlay=overlay,
            pull_policy=target.environment.image_pull_policy,
        )
        result.append(KubeObject(manifest=manifest, source=obj.source, line=obj.line))
    return result


def _disabled(when: object) -> str:
    return f"when: is {str(when).strip() or 'empty'!r} for this stack"


def _repair_infrastructure(
    settings: ServicesFile, request: PlanRequest, context: Mapping[str, Any], namespace: str
) -> set[str]:
    """Named groups, or by default the first group that renders and holds the Namespace."""
    if settings.repair.infrastructure is not None:
        return set(settings.repair.infrastructure)
    for index, item in enumerate(settings.infrastructure):
        try:
            objects = _render_items(item, index=index, section="infrastructure", request=request, context=context)
        except CodexError:
            continue  # a broken group cannot be the one repair needs
        if any(obj.kind == "Namespace" and obj.name == namespace for obj in objects):
            return {item.name}
    return set()


def _selection(
    settings: ServicesFile, target: Target, request: PlanRequest, context: Mapping[str, Any]
) -> tuple[list[tuple[int, Infrastructure]], list[tuple[int, Service]], list[Skipped]]:
    skipped: list[Skipped] = []
    infra: list[tuple[int, Infrastructure]] = []
    services: list[tuple[int, Service]] = []
    repair = target.mode == "repair"
    repair_infra = _repair_infrastructure(settings, request, context, target.namespace) if repair else set()
    bootstrap = target.environment.slot_bootstrap_infra if target.is_slot else None
    for index, group in enumerate(settings.infrastructure):
        if repair and group.name not in repair_infra:
            skipped.append(Skipped("InfrastructureGroup", group.name, "not in the repair set"))
        elif not is_enabled(group.when):
            skipped.append(Skipped("InfrastructureGroup", group.name, _disabled(group.when)))
        elif bootstrap is not None and group.name not in bootstrap:
            skipped.append(
                Skipped("InfrastructureGroup", group.name, f"not in slotBootstrapInfra of environment {target.env}")
            )
        else:
            infra.append((index, group))
    for index, service in enumerate(settings.services):
        if repair and service.name not in settings.repair.services:
            skipped.append(Skipped("ServiceComponent", service.name, "not in the repair set"))
        elif not is_enabled(service.when):
            skipped.append(Skipped("ServiceComponent", service.name, _disabled(service.when)))
        else:
            services.append((index, service))
    return infra, services, skipped


def _check_unique(components: Sequence[ComponentPlan]) -> None:
    seen: dict[str, tuple[str, KubeObject]] = {}
    for component in components:
        for obj in component.objects:
            if obj.key in seen:
                other_component, other = seen[obj.key]
                raise PlanError(
                    f"{obj.key} is defined twice: in {component.name} ({obj.source.name}:{obj.line}) "
                    f"and in {other_component} ({other.source.name}:{other.line})",
                    location=Location(file=obj.source, line=obj.line),
                    hint="each Kubernetes object must belong to exactly one component",
                )
            seen[obj.key] = (component.name, obj)


def _dependency_order(components: Sequence[ComponentPlan], first: str | None) -> tuple[ComponentPlan, ...]:
    """Components after what they depend on (file order otherwise), the namespace's owner first."""
    by_name = {component.name: component for component in components}
    ordered: list[ComponentPlan] = []
    state: dict[str, str] = {}

    def visit(component: ComponentPlan, trail: tuple[str, ...]) -> None:
        if state.get(component.name) == "done":
            return
        if state.get(component.name) == "active":
            cycle = " -> ".join([*trail[trail.index(component.name) :], component.name])
            raise PlanError(f"dependsOn forms a cycle: {cycle}", hint="remove one of these dependsOn entries")
        state[component.name] = "active"
        for dep in component.depends_on:
            visit(by_name[dep], (*trail, component.name))
        state[component.name] = "done"
        ordered.append(component)

    if first is not None:
        visit(by_name[first], ())
    for component in components:
        visit(component, ())
    return tuple(ordered)


def build_plan(request: PlanRequest) -> Plan:
    """The whole plan, or a CodexError before anything is deployed (SPEC §9)."""
    target, settings, context = load_settings(request)
    infra, services, skipped = _selection(settings, target, request, context)
    selected = {item.name for _, item in infra} | {item.name for _, item in services}
    components: list[ComponentPlan] = []
    for index, group in infra:
        objects = _render_items(group, index=index, section="infrastructure", request=request, context=context)
        components.append(
            ComponentPlan(
                kind="InfrastructureGroup",
                name=group.name,
                objects=_finish(objects, target.namespace),
                depends_on=tuple(dep for dep in group.depends_on if dep in selected),
            )
        )
    if AGENT_SERVICE in selected and AGENT_COMPONENT not in selected:
        components.append(ComponentPlan(kind="CodexAgent", name=AGENT_COMPONENT, objects=agent_objects(target)))
    for index, service in services:
        objects = _render_items(service, index=index, section="services", request=request, context=context)
        depends_on = tuple(dep for dep in service.depends_on if dep in selected)
        if service.name == AGENT_SERVICE and AGENT_COMPONENT not in selected:
            depends_on = (AGENT_COMPONENT, *depends_on)
        components.append(
            ComponentPlan(
                kind="ServiceComponent",
                name=service.name,
                objects=_finish(_service_objects(service, objects, target), target.namespace),
                depends_on=depends_on,
            )
        )
    allowed = {group.name: group.namespaces for _, group in infra} | {svc.name: svc.namespaces for _, svc in services}
    raise_problems(
        [
            problem
            for component in components
            for problem in check_objects(
                component.objects, namespace=target.namespace, allowed_namespaces=allowed.get(component.name, ())
            )
        ]
    )
    _check_unique(components)
    owner = next(
        (
            component.name
            for component in components
            for obj in component.objects
            if obj.kind == "Namespace" and obj.name == target.namespace
        ),
        None,
    )
    agent = next(
        (
            obj.name
            for component in components
            if component.name == AGENT_SERVICE
            for obj in component.objects
            if obj.kind == "Deployment"
        ),
        None,
    )
    links = tuple(
        Link(title=link.title, url=f"https://{target.base_domain}{link.path}")
        for link in settings.codex.links
        if target.base_domain
    )
    hooks = plan_hooks(
        settings=settings,
        target=target,
        components={component.name: component.objects for component in components},
    )
    if target.mode == "repair":
        repair_set = frozenset(component.name for component in components)
    else:
        named = settings.repair.infrastructure
        repair_infra = set(named) if named is not None else ({owner} if owner else set())
        repair_set = frozenset(
            component.name
            for component in components
            if component.name in repair_infra
            or component.name in settings.repair.services
            or (component.kind == "CodexAgent")
        )
    return Plan(
        target=target,
        settings=settings,
        components=_dependency_order(components, owner),
        skipped=tuple(skipped),
        links=links,
        namespace_owner=owner,
        agent_deployment=agent,
        context=context,
        hooks=hooks,
        repair_set=repair_set,
    )
