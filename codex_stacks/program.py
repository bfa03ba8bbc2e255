"""The Pulumi program: stack config → Plan → components → stack outputs.

Every project's ``__main__.py`` calls :func:`run`; ``codexctl preview`` runs it too, offline,
under the SDK's mocks.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codex_stacks.plan import Plan


def run() -> None:
    """Plan the stack from its ``codex:*`` config, register it, export its outputs."""
    import pulumi

    from codex_stacks.components.settings import plan_request
    from codex_stacks.errors import CodexError
    from codex_stacks.plan import build_plan
    from codex_stacks.plan.store import TARGETED_ENV

    try:
        request = plan_request()
        plan = build_plan(request)  # all it deploys, every template evaluated, before any resource
    except CodexError as error:
        raise pulumi.RunError(str(error)) from error
    if plan.target.mode == "repair" and os.environ.get(TARGETED_ENV) != "1":
        _repair_from_store(plan)
    else:
        _deploy(plan)


def _deploy(plan: Plan) -> None:
    import pulumi

    from codex_stacks.components.stack import deploy, outputs
    from codex_stacks.plan.store import STORE_OUTPUT, dump, stored_part

    deployed = deploy(plan)
    for key, value in outputs(plan).items():
        pulumi.export(key, value)
    pulumi.export("repairTargets", deployed.repair_targets(plan))
    if plan.target.mode == "normal":
        pulumi.export(STORE_OUTPUT, pulumi.Output.secret(dump(stored_part(plan))))


def _repair_from_store(plan: Plan) -> None:
    """A repair run without ``--target`` (``pulumi up -c codex:mode=repair``): everything outside
    the repair set is registered again from the last normal run's store, so nothing there
    changes; with no valid store, nothing is registered at all (docs/repair.md)."""
    import pulumi

    from codex_stacks.components.stack import deploy, outputs
    from codex_stacks.errors import CodexError
    from codex_stacks.plan.store import STORE_OUTPUT, load, with_stored

    own = pulumi.StackReference(f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}")
    store = own.get_output(STORE_OUTPUT)

    def register(text: Any) -> tuple[Plan, Any]:
        try:
            merged = with_stored(plan, load(text, stack=plan.target.stack, namespace=plan.target.namespace))
        except CodexError as error:
            raise pulumi.RunError(str(error)) from error
        return merged, deploy(merged)

    done = pulumi.Output.unsecret(store).apply(register)  # only the store itself stays secret
    merged_outputs = done.apply(lambda pair: outputs(pair[0]))
    for key in outputs(plan):
        pulumi.export(key, merged_outputs[key])
    pulumi.export("repairTargets", done.apply(lambda pair: pair[1].repair_targets(pair[0])))
    pulumi.export(STORE_OUTPUT, pulumi.Output.secret(store))
