"""Everything of services.yaml evaluated for every environment: what ``codexctl validate`` reports.

A run evaluates only what its stack uses (docs/services-yaml.md, "Evaluation"), so a broken
value elsewhere waits silently until some stack needs it. ``validate`` looks at all of it: every
top-level section, and for each environment every item and hook step its ``when:`` enables
there, manifests included, and reports every problem found, not just the first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from codex_stacks.config.loader import ItemRef, ServicesDocument, load_document
from codex_stacks.config.model import Infrastructure, Service
from codex_stacks.config.settings import Settings
from codex_stacks.errors import CodexError, CombinedError
from codex_stacks.plan.build import Selected, _render_items, check_dependencies, slot_bootstrap
from codex_stacks.plan.hooks import COMPONENT_STAGES, STACK_STAGES
from codex_stacks.plan.target import SLOT_ENVIRONMENT, PlanRequest, Target, bind, requested_env_and_slot, stack_scope

_FAILED = object()


class _Collector:
    """Runs one check after another; every problem is kept (once), none stops the others."""

    def __init__(self) -> None:
        self.problems: list[CodexError] = []
        self._seen: set[str] = set()

    def attempt(self, work: Callable[[], Any]) -> Any:
        """``work()``'s result, or ``_FAILED`` when it raised a CodexError (recorded)."""
        try:
            return work()
        except CombinedError as exc:
            for problem in exc.problems:
                self._add(problem)
        except CodexError as exc:
            self._add(exc)
        return _FAILED

    def _add(self, problem: CodexError) -> None:
        key = str(problem)
        if key not in self._seen:
            self._seen.add(key)
            self.problems.append(problem)


def _environment_request(request: PlanRequest, env: str) -> PlanRequest:
    stack_env, stack_slot = requested_env_and_slot(request)
    slot = (stack_slot or 1) if env == SLOT_ENVIRONMENT else None
    return dataclasses.replace(
        request,
        stack=f"{SLOT_ENVIRONMENT}-slot-{slot}" if slot is not None else env,
        env=env,
        slot=slot,
        namespace=request.namespace if env == stack_env else None,
    )


def _bind(request: PlanRequest, document: ServicesDocument) -> tuple[Target, Settings]:
    """The environment bound in the mode it runs in (a repair-only environment: repair)."""
    env = request.env or ""
    fixed = stack_scope(request, document, env, request.slot, "normal").environment(env).mode
    return bind(dataclasses.replace(request, mode=fixed or "normal"), document)


def _check_item(settings: Settings, ref: ItemRef, request: PlanRequest) -> Infrastructure | Service:
    item = settings.item(ref)
    _render_items(item, ref, request=request, settings=settings)
    return item


def _check_settings(settings: Settings, target: Target, request: PlanRequest, found: _Collector) -> None:
    found.attempt(lambda: slot_bootstrap(settings, target))
    found.attempt(lambda: settings.codex)
    found.attempt(lambda: settings.images)
    found.attempt(lambda: settings.max_slots)
    found.attempt(lambda: settings.repair)
    found.attempt(lambda: settings.security)
    found.attempt(lambda: settings.scope["storage"])
    for name in settings.document.var_names:
        found.attempt(lambda name=name: settings.scope[name])  # type: ignore[misc]
    stack_hooks = settings.document.raw("hooks")
    for stage in STACK_STAGES:
        found.attempt(lambda stage=stage: list(settings.stage(stack_hooks, stage, ["hooks"])))  # type: ignore[misc]
    selected: list[Selected] = []
    for ref in settings.document.items:
        if found.attempt(lambda ref=ref: settings.enabled(ref.raw)) is not True:  # type: ignore[misc]
            continue
        item = found.attempt(lambda ref=ref: _check_item(settings, ref, request))  # type: ignore[misc]
        if item is not _FAILED:
            selected.append(Selected(ref, item))
        for stage in COMPONENT_STAGES:
            found.attempt(
                lambda stage=stage, ref=ref: list(settings.stage(ref.raw.get("hooks"), stage, [*ref.path, "hooks"]))  # type: ignore[misc]
            )
    found.attempt(lambda: check_dependencies(settings, selected))


def check_everything(request: PlanRequest) -> list[CodexError]:
    """Every problem of services.yaml and its manifests, for every environment it defines."""
    found = _Collector()
    document = found.attempt(lambda: load_document(request.services_path, root=request.project_dir))
    if document is _FAILED:
        return found.problems
    for env in document.environments:
        env_request = _environment_request(request, env)
        bound = found.attempt(lambda env_request=env_request: _bind(env_request, document))  # type: ignore[misc]
        if bound is not _FAILED:
            target, settings = bound
            _check_settings(settings, target, env_request, found)
    return found.problems
