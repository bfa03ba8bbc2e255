"""Stack config (``codex:*``) → the plan request; the only place the program reads config."""

from __future__ import annotations

import os
from pathlib import Path

import pulumi

from codex_stacks.plan import PlanRequest
from codex_stacks.stackconfig import CONFIG_KEYS, NAMESPACE
from codex_stacks.stackconfig import plan_request as request_for

KEYS = tuple(key.name for key in CONFIG_KEYS if not key.secret)
"""The non-secret keys that shape the plan (the offline commands read the same ones)."""


def program_dir() -> Path:
    """The program folder: where Pulumi.yaml is (``pulumi`` runs the program there)."""
    return Path(pulumi.get_root_directory() or os.getcwd())


def plan_request(config: pulumi.Config | None = None, *, stack: str | None = None) -> PlanRequest:
    """The request for this stack; a relative ``codex:projectDir`` is relative to the program folder."""
    config = config or pulumi.Config(NAMESPACE)
    values = {f"{NAMESPACE}:{key}": value for key in KEYS if (value := config.get(key)) is not None}
    return request_for(stack or pulumi.get_stack(), values, program_dir=program_dir())
