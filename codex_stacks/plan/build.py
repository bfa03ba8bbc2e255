"""From a stack request to a Plan: selected components and their ordered objects."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from codex_stacks.config.loader import ItemRef, cycle_through, environment_chain, names_in_cycles
from codex_stacks.config.model import Infrastructure, Service
from codex_stacks.config.settings import Settings
from codex_stacks.errors import CodexError, Location, PlanError, raise_all
from codex_stacks.plan.agent import AGENT_COMPONENT, agent_objects, shipped_rbac_problems
from codex_stacks.plan.containment import secure_plan
from codex_stacks.plan.hooks import PlannedHook, plan_hooks
from codex_stacks.plan.kinds import tier
from codex_stacks.plan.kube_rules import check_objects
from codex_stacks.plan.objects import KubeObject, manifest_path, render_manifest
from codex_stacks.plan.overlays import apply_service_overlay, check_image_target, dropped, set_default_namespace
from codex_stacks.plan.podsecurity import PodSecurity
from codex_stacks.plan.target import PlanRequest, Target, resolve
from codex_stacks.plan.workspace import workspace_objects

ComponentKind = Literal["InfrastructureGroup", "ServiceComponent", "CodexAgent", "CodexSystem"]
AGENT_SERVICE = "codex"
"""The default name of the service that runs the agent (``codex.service``); its Deployment is the
one ``prompt run`` waits for."""


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
    settings: Settings
    components: tuple[ComponentPlan, ...]
    skipped: tuple[Skipped, ...] = ()
    links: tuple[Link, ...] = ()
    namespace_owner: str | None = None
    agent_deployment: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    hooks: tuple[PlannedHook, ...] = ()
    repair_set: frozenset[str] = frozenset()
    """Components a repair run deploys (all of them in repair mode): the ``--target`` source."""
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the Namespace the program creates itself (when no component owns it)."""
    stored: frozenset[str] = frozenset()
    """Components registered again from the last normal run's store (a repair run without targets)."""
    pod_security: PodSecurity | None = None
    """The Pod Security level the stack's namespace enforces and why no stricter one (namespace stacks)."""
    adopt: bool = False
    """This up takes over objects the old tool applied (``codex:adopt``): server-side apply forces."""

    @property
    def objects(self) -> list[KubeObject]:
        return [obj for component in self.components for obj in component.objects]

    def component(self, name: str) -> ComponentPlan:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(name)


def resolve_stack(request: PlanRequest) -> Target:
    """The stack's environment, slot, namespace and mode, or the CodexError that says what is
    wrong (what ``ci up`` checks before it touches a backend)."""
    return resolve(request)[0]


def load_settings(request: PlanRequest) -> tuple[Target, Settings, Mapping[str, Any]]:
    """The resolved target, the stack's settings (evaluated on use) and its template scope."""
    target, settings = resolve(request)
    return target, settings, settings.scope


def _render_items(
    item: Infrastructure | Service, ref: ItemRef, *, request: PlanRequest, settings: Settings
) -> list[KubeObject]:
    objects: list[KubeObject] = []
    for number, manifest in enumerate(item.manifests):
        where = f"{ref.section}[{ref.index}].manifests[{number}].path"
        path = manifest_path(request.project_dir, manifest, where=where)
        objects.extend(
            render_manifest(path, settings.scope, where=where, known=settings.evaluator.known, root=request.project_dir)
        )
    return objects


def _finish(objects: Sequence[KubeObject], namespace: str) -> tuple[KubeObject, ...]:
    finished = []
    for obj in objects:
        manifest = dict(obj.manifest)
        manifest["metadata"] = dict(manifest.get("metadata") or {})
        set_default_namespace(manifest, namespace)
        finished.append(KubeObject(manifest=manifest, source=obj.source, line=obj.line, secret_paths=obj.secret_paths))
    return tuple(sorted(finished, key=lambda o: tier(o.kind)))


def _service_objects(service: Service, objects: list[KubeObject], target: Target, where: Location) -> list[KubeObject]:
    overlay = service.overlays.get(target.env)
    if service.image is not None:
        check_image_target(
            [obj.manifest for obj in objects], service=service.name, workload=service.workload, where=where
        )
    result = []
    for obj in (obj for obj in objects if not dropped(obj.kind, overlay)):
        manifest = apply_service_overlay(
            dict(obj.manifest),
            service=service.workload or service.name,
            image=service.image.reference if service.image else None,
            overlay=overlay,
            pull_policy=target.environment.image_pull_policy,
        )
        result.append(KubeObject(manifest=manifest, source=obj.source, line=obj.line, secret_paths=obj.secret_paths))
    return result


@dataclass(frozen=True, slots=True)
class Selected:
    ref: ItemRef
    item: Infrastructure | Service


def _repair_infrastructure(settings: Settings, request: PlanRequest, namespace: str) -> set[str]:
    """Named groups, or by default the first group that evaluates, renders and holds the Namespace."""
    named = settings.repair.infrastructure
    if named is not None:
        groups = {ref.name for ref in settings.document.infrastructure}
        for position, group in enumerate(named):
            if group not in groups:
                settings.document.fail(
                    f"repair.infrastructure names unknown infrastructure group {group!r}",
                    ["repair", "infrastructure", position],
                )
        return set(named)
    for ref in settings.document.infrastructure:
        try:
            objects = _render_items(settings.item(ref), ref, request=request, settings=settings)
        except CodexError:
            continue  # a broken group cannot be the one repair needs
        if any(obj.kind == "Namespace" and obj.name == namespace for obj in objects):
            return {ref.name}
    return set()


def _repair_services(settings: Settings) -> list[str]:
    """``repair.services``, each a known service; by default the agent's service alone."""
    services = settings.repair.services
    if services is None:
        return [settings.codex.service]
    known = {ref.name for ref in settings.document.services}
    for position, name in enumerate(services):
        if name not in known:
            settings.document.fail(f"repair.services names unknown service {name!r}", ["repair", "services", position])
    return list(services)


def _selection(
    settings: Settings, target: Target, request: PlanRequest
) -> tuple[list[Selected], list[Selected], list[Skipped]]:
    """The items this stack deploys, evaluated; the others skipped unevaluated (repair set and
    ``when:`` first, nothing else of a skipped item is read)."""
    skipped: list[Skipped] = []
    infra: list[Selected] = []
    services: list[Selected] = []
    repair = target.mode == "repair"
    repair_infra = _repair_infrastructure(settings, request, target.namespace) if repair else set()
    repair_services = _repair_services(settings) if repair else []
    bootstrap = slot_bootstrap(settings, target)
    filters = request.filters
    if filters is not None:
        filters.check(
            [ref.name for ref in settings.document.infrastructure], [ref.name for ref in settings.document.services]
        )
    for ref in settings.document.infrastructure:
        if filters is not None and not filters.includes("infrastructure", ref.name):
            skipped.append(Skipped("InfrastructureGroup", ref.name, filters.reason("infrastructure", ref.name)))
        elif repair and ref.name not in repair_infra:
            skipped.append(Skipped("InfrastructureGroup", ref.name, "not in the repair set"))
        elif not settings.enabled(ref.raw):
            skipped.append(Skipped("InfrastructureGroup", ref.name, _disabled(ref.raw.get("when"), settings)))
        elif bootstrap is not None and ref.name not in bootstrap:
            skipped.append(
                Skipped("InfrastructureGroup", ref.name, f"not in slotBootstrapInfra of environment {target.env}")
            )
        else:
            infra.append(Selected(ref, settings.item(ref)))
    for ref in settings.document.services:
        if filters is not None and not filters.includes("services", ref.name):
            skipped.append(Skipped("ServiceComponent", ref.name, filters.reason("services", ref.name)))
        elif target.environment.scope == "cluster":
            skipped.append(Skipped("ServiceComponent", ref.name, "the cluster stack deploys no services"))
        elif repair and ref.name not in repair_services:
            skipped.append(Skipped("ServiceComponent", ref.name, "not in the repair set"))
        elif not settings.enabled(ref.raw):
            skipped.append(Skipped("ServiceComponent", ref.name, _disabled(ref.raw.get("when"), settings)))
        else:
            services.append(Selected(ref, settings.item(ref)))
    check_dependencies(settings, [*infra, *services])
    return infra, services, skipped


def slot_bootstrap(settings: Settings, target: Target) -> list[str] | None:
    """The groups a slot stack deploys (``slotBootstrapInfra``), each a known group; None: all."""
    bootstrap = target.environment.slot_bootstrap_infra if target.is_slot else None
    groups = {ref.name for ref in settings.document.infrastructure}
    for position, group in enumerate(bootstrap or []):
        if group not in groups:
            owner = next(
                name
                for name in environment_chain(target.env, settings.document.env_from)
                if "slotBootstrapInfra" in settings.document.environments[name]
            )
            settings.document.fail(
                f"environments.{owner}.slotBootstrapInfra names unknown infrastructure group {group!r}",
                ["environments", owner, "slotBootstrapInfra", position],
            )
    return bootstrap


def _disabled(when: object, settings: Settings) -> str:
    value = settings.evaluator.value(when)
    return f"when: is {str(value).strip() or 'empty'!r} for this stack"


def check_dependencies(settings: Settings, selected: list[Selected]) -> None:
    """dependsOn of the selected items: known names, not themselves, no cycles among them."""
    document = settings.document
    names = {ref.name for ref in document.items}
    edges: dict[str, list[str]] = {}
    where: dict[str, Selected] = {}
    for chosen in selected:
        ref, item = chosen.ref, chosen.item
        where[ref.name] = chosen
        for position, dep in enumerate(item.depends_on):
            path = [*ref.path, "dependsOn", position]
            if dep == ref.name:
                document.fail(f"{ref.name}: an item cannot depend on itself", path)
            if dep not in names:
                close = difflib.get_close_matches(dep, sorted(names), n=1)
                document.fail(
                    f"{ref.name}: dependsOn names unknown item {dep!r}",
                    path,
                    hint=f"did you mean {close[0]!r}?" if close else None,
                )
        edges[ref.name] = list(item.depends_on)
    for name in names_in_cycles(edges):
        cycle = cycle_through(name, edges)
        if cycle:
            document.fail(
                f"dependsOn forms a cycle: {' -> '.join(cycle)}",
                [*where[name].ref.path, "dependsOn"],
                hint="remove one of these dependsOn entries",
            )


def _check_unique(components: Sequence[ComponentPlan], *, rbac: str = "builtin") -> None:
    seen: dict[str, tuple[str, KubeObject]] = {}
    for component in components:
        for obj in component.objects:
            if obj.key in seen:
                other_component, other = seen[obj.key]
                builtin = AGENT_COMPONENT in (component.name, other_component) and rbac == "builtin"
                where = [
                    f"{name} ({item.source.name}:{item.line})" if item.line else f"{name} (built in)"
                    for name, item in ((component.name, obj), seen[obj.key])
                ]
                projects = other if component.name == AGENT_COMPONENT else obj  # the project's own copy
                raise PlanError(
                    f"{obj.key} is defined twice: in {where[0]} and in {where[1]}",
                    location=Location(file=projects.source, line=projects.line),
                    hint="the project ships the agent's RBAC itself: set codex.rbac: none in services.yaml"
                    if builtin
                    else "each Kubernetes object must belong to exactly one component",
                )
            seen[obj.key] = (component.name, obj)


def dependency_order(components: Sequence[ComponentPlan], first: str | None) -> tuple[ComponentPlan, ...]:
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
    """The whole plan, or a CodexError before anything is deployed (docs/services-yaml.md)."""
    return secure_plan(_plan(request), request, plan_of=_plan, resolve=resolve_stack)


def _plan(request: PlanRequest) -> Plan:
    """The plan of the stack's own items, before what contains the agent is added (docs/security.md)."""
    target, settings = resolve(request)
    infra, services, skipped = _selection(settings, target, request)
    selected = {chosen.ref.name for chosen in [*infra, *services]}
    components: list[ComponentPlan] = []
    for chosen in infra:
        group = chosen.item
        objects = _render_items(group, chosen.ref, request=request, settings=settings)
        components.append(
            ComponentPlan(
                kind="InfrastructureGroup",
                name=group.name,
                objects=_finish(objects, target.namespace),
                depends_on=tuple(dep for dep in group.depends_on if dep in selected),
            )
        )
    agent_service = settings.codex.service if AGENT_COMPONENT not in selected else None
    if agent_service in selected:
        builtin = settings.codex.rbac == "builtin"
        components.append(
            ComponentPlan(kind="CodexAgent", name=AGENT_COMPONENT, objects=agent_objects(target) if builtin else ())
        )
    for chosen in services:
        service = chosen.item
        assert isinstance(service, Service)
        objects = _render_items(service, chosen.ref, request=request, settings=settings)
        depends_on = tuple(dep for dep in service.depends_on if dep in selected)
        if service.name == agent_service:
            depends_on = (AGENT_COMPONENT, *depends_on)
        shaped = _service_objects(service, objects, target, settings.document.location([*chosen.ref.path, "image"]))
        if service.name == agent_service:
            shaped = workspace_objects(
                settings.codex.workspace, shaped, deployment=service.workload or service.name, branch=request.branch
            )
        components.append(
            ComponentPlan(
                kind="ServiceComponent",
                name=service.name,
                objects=_finish(shaped, target.namespace),
                depends_on=depends_on,
            )
        )
    allowed = {chosen.ref.name: chosen.item.namespaces for chosen in [*infra, *services]}
    raise_all(
        [
            problem
            for component in components
            for problem in check_objects(
                component.objects, namespace=target.namespace, allowed_namespaces=allowed.get(component.name, ())
            )
        ]
    )
    _check_unique(components, rbac=settings.codex.rbac)
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
            if component.name == settings.codex.service
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
        repair_services = set(_repair_services(settings))
        repair_set = frozenset(
            component.name
            for component in components
            if component.name in repair_infra or component.name in repair_services or (component.kind == "CodexAgent")
        )
    if settings.codex.rbac == "none" and agent_service in selected:
        ref = next(chosen.ref for chosen in services if chosen.ref.name == agent_service)
        where = settings.document.location([*ref.path, "manifests"])
        raise_all(shipped_rbac_problems(components, repair_set=repair_set, service=agent_service, where=where))
    return Plan(
        target=target,
        settings=settings,
        components=dependency_order(components, owner),
        skipped=tuple(skipped),
        links=links,
        namespace_owner=owner,
        agent_deployment=agent,
        context=settings.scope,
        hooks=hooks,
        repair_set=repair_set,
        adopt=request.adopt,
    )
