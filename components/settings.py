"""Stack config (``codex:*``) → the plan request; the only place the program reads config."""

from __future__ import annotations

import pulumi

from codex_stacks.plan import PlanRequest
from codex_stacks.stackconfig import NAMESPACE
from codex_stacks.stackconfig import plan_request as request_for

KEYS = ("projectDir", "servicesFile", "env", "slot", "namespace", "mode", "vars", "adopt")
"""The non-secret keys that shape the plan (the offline commands read the same ones)."""


def plan_request(config: pulumi.Config | None = None, *, stack: str | None = None) -> PlanRequest:
    """The request for this stack; relative paths are relative to the program's folder."""
    config = config or pulumi.Config(NAMESPACE)
    values = {f"{NAMESPACE}:{key}": value for key in KEYS if (value := config.get(key)) is not None}
    return request_for(stack or pulumi.get_stack(), values)
