"""What a normal run leaves for a repair run: everything outside the repair set, exactly as registered.

``pulumi up -s S -c codex:mode=repair`` without ``--target`` would delete every resource the
repair plan does not register. So every normal run stores the plan of everything outside the
repair set — components with their rendered objects, their hook steps, the stack steps a repair
run leaves out — as the secret stack output ``repairStore`` (in Pulumi state: the agent holds no
backend credential, so it can neither read nor change it). A repair run without targets loads it
and registers those resources again from it, identically, so the engine changes nothing outside
the repair set and no template of theirs is evaluated (docs/repair.md). The store carries a
digest of itself and the stack it belongs to; anything else is refused.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_stacks.config.hooks import HookStage
from codex_stacks.errors import PlanError
from codex_stacks.plan.build import ComponentPlan, Plan, dependency_order
from codex_stacks.plan.hooks import STACK_STAGES, PlannedHook
from codex_stacks.plan.objects import KubeObject

STORE_OUTPUT = "repairStore"
"""The stack output that holds the store (secret)."""
FORMAT = "codex-stacks/repair-store/1"
TARGETED_ENV = "CODEX_REPAIR_TARGETED"
"""Set (to 1) by whoever runs ``pulumi up`` in repair mode with the ``--target`` list of
``codexctl repair-targets`` (``codexctl ci up`` does): the program cannot see ``--target``."""


@dataclass(frozen=True)
class StoredPlan:
    """The part of a normal run's plan a repair run does not plan itself."""

    stack: str
    namespace: str
    components: tuple[ComponentPlan, ...]
    hooks: tuple[PlannedHook, ...]
    """Steps of the stored components, and the stack steps a repair run leaves out."""
    stack_steps: Mapping[HookStage, tuple[str, ...]]
    """Every stack step of the normal run by stage, in order (a repair run keeps that order)."""


def stored_part(plan: Plan) -> StoredPlan:
    """What a repair run of this (normal) plan's stack would not plan itself."""
    outside = tuple(component for component in plan.components if component.name not in plan.repair_set)
    names = {component.name for component in outside}
    hooks = tuple(
        hook
        for hook in plan.hooks
        if (hook.component is None and not hook.repair) or (hook.component is not None and hook.component in names)
    )
    steps = {
        stage: tuple(hook.step for hook in plan.hooks if hook.stage == stage and hook.component is None)
        for stage in STACK_STAGES
    }
    return StoredPlan(
        stack=plan.target.stack,
        namespace=plan.target.namespace,
        components=outside,
        hooks=hooks,
        stack_steps=steps,
    )


def _object(obj: KubeObject) -> dict[str, Any]:
    return {
        "manifest": obj.manifest,
        "source": str(obj.source),
        "line": obj.line,
        "secretPaths": list(obj.secret_paths),
    }


def _hook(hook: PlannedHook) -> dict[str, Any]:
    return {field.name: getattr(hook, field.name) for field in dataclasses.fields(hook)}


def dump(stored: StoredPlan) -> str:
    """The store as text: a small JSON envelope around the compressed plan, with its digest."""
    payload = {
        "stack": stored.stack,
        "namespace": stored.namespace,
        "components": [
            {
                "kind": component.kind,
                "name": component.name,
                "dependsOn": list(component.depends_on),
                "objects": [_object(obj) for obj in component.objects],
            }
            for component in stored.components
        ],
        "hooks": [_hook(hook) for hook in stored.hooks],
        "stackSteps": {stage: list(steps) for stage, steps in stored.stack_steps.items()},
    }
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return json.dumps(
        {
            "format": FORMAT,
            "stack": stored.stack,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "plan": base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii"),
        },
        sort_keys=True,
    )


def _refuse(why: str) -> PlanError:
    return PlanError(
        f"the registrations stored by the last normal run cannot be used: {why}",
        hint="run the repair with the repair set's targets instead: "
        "pulumi up -s <stack> -c codex:mode=repair $(codexctl repair-targets -s <stack> | sed 's/^/--target /')",
    )


def load(text: object, *, stack: str, namespace: str) -> StoredPlan:
    """The store a normal run of ``stack`` left, checked; a PlanError when it is missing, damaged,
    changed, or belongs to another stack or namespace."""
    if not text:
        raise _refuse(f"stack {stack} has no {STORE_OUTPUT} output (no normal run since repair learned to store)")
    try:
        envelope = json.loads(str(text))
        if envelope.get("format") != FORMAT:
            raise _refuse(f"unknown format {envelope.get('format')!r}")
        try:
            packed = base64.b64decode(envelope["plan"], validate=True)
        except binascii.Error:
            raise _refuse("its plan is not base64") from None
        try:
            raw = gzip.decompress(packed)
        except (OSError, EOFError):
            raise _refuse("its plan is not whole gzip data") from None
        if hashlib.sha256(raw).hexdigest() != envelope.get("sha256"):
            raise _refuse("its digest does not match its content (it was changed)")
        payload = json.loads(raw)
        stored = _parse(payload)
    except PlanError:
        raise
    except (ValueError, KeyError, TypeError, OSError, EOFError) as exc:
        raise _refuse(f"it does not read ({type(exc).__name__})") from None
    if stored.stack != stack or stored.namespace != namespace:
        raise _refuse(f"it belongs to stack {stored.stack} in namespace {stored.namespace}")
    return stored


def _parse(payload: Mapping[str, Any]) -> StoredPlan:
    components = tuple(
        ComponentPlan(
            kind=item["kind"],
            name=str(item["name"]),
            depends_on=tuple(str(dep) for dep in item["dependsOn"]),
            objects=tuple(
                KubeObject(
                    manifest=obj["manifest"],
                    source=Path(obj["source"]),
                    line=int(obj["line"]),
                    secret_paths=tuple(obj["secretPaths"]),
                )
                for obj in item["objects"]
            ),
        )
        for item in payload["components"]
    )
    hooks = tuple(PlannedHook(**hook) for hook in payload["hooks"])
    steps = {stage: tuple(payload["stackSteps"].get(stage, ())) for stage in STACK_STAGES}
    return StoredPlan(
        stack=str(payload["stack"]),
        namespace=str(payload["namespace"]),
        components=components,
        hooks=hooks,
        stack_steps=steps,
    )


def with_stored(plan: Plan, stored: StoredPlan) -> Plan:
    """The repair plan with the stored resources added, for a repair run without targets: stored
    components the repair set does not plan itself, their steps, and the stack steps in the
    normal run's order (so each registers exactly as it did then). A PlanError when a stored
    component depends on one this repair run does not have (services.yaml changed since)."""
    own = {component.name for component in plan.components}
    components = [*plan.components, *(component for component in stored.components if component.name not in own)]
    names = {component.name for component in components}
    for component in components[len(plan.components) :]:
        for dep in component.depends_on:
            if dep not in names:  # services.yaml renamed or dropped it since the normal run
                raise _refuse(f"its component {component.name} depends on {dep}, which this repair run does not have")
    fresh = {(hook.stage, hook.step): hook for hook in plan.hooks if hook.component is None}
    kept = {(hook.stage, hook.step): hook for hook in stored.hooks if hook.component is None}
    stack_hooks = [
        fresh.get((stage, step)) or kept[(stage, step)]
        for stage in STACK_STAGES
        for step in stored.stack_steps.get(stage, ())
        if (stage, step) in fresh or (stage, step) in kept
    ]
    stack_hooks += [hook for key, hook in fresh.items() if hook not in stack_hooks and key not in kept]
    component_hooks = [hook for hook in plan.hooks if hook.component is not None]
    component_hooks += [hook for hook in stored.hooks if hook.component is not None and hook.component not in own]
    return dataclasses.replace(
        plan,
        components=dependency_order(components, plan.namespace_owner),
        hooks=(*stack_hooks, *component_hooks),
        stored=frozenset(component.name for component in stored.components if component.name not in own),
    )
