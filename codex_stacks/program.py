"""The Pulumi program: stack config → Plan → components → stack outputs.

Every project's ``__main__.py`` calls :func:`run`; ``codexctl preview`` runs it too, offline,
under the SDK's mocks.
"""

from __future__ import annotations


def run() -> None:
    """Plan the stack from its ``codex:*`` config, register it, export its outputs."""
    import pulumi

    from codex_stacks.components.settings import plan_request
    from codex_stacks.components.stack import deploy, outputs
    from codex_stacks.errors import CodexError
    from codex_stacks.plan import build_plan

    try:
        request = plan_request()
        plan = build_plan(request)  # all of services.yaml and every template, before any resource
    except CodexError as error:
        raise pulumi.RunError(str(error)) from error

    deployed = deploy(plan)
    for key, value in outputs(plan).items():
        pulumi.export(key, value)
    pulumi.export("repairTargets", deployed.repair_targets(plan))
