"""Stack config (``codex:*``) → the plan request; the only place the program reads config."""

from __future__ import annotations

from pathlib import Path

import pulumi

from codexctl.errors import ConfigError, Location
from codexctl.plan import PlanRequest

PROGRAM_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROJECT_DIR = "examples/project-example"


def plan_request(config: pulumi.Config | None = None, *, stack: str | None = None) -> PlanRequest:
    """The request for this stack; relative paths are relative to the program's folder."""
    config = config or pulumi.Config("codex")
    project_dir = Path(config.get("projectDir") or DEFAULT_PROJECT_DIR)
    if not project_dir.is_absolute():
        project_dir = PROGRAM_ROOT / project_dir
    return PlanRequest(
        stack=stack or pulumi.get_stack(),
        project_dir=project_dir,
        services_file=config.get("servicesFile") or "services.yaml",
        env=config.get("env") or None,
        slot=_slot(config.get("slot")),
        namespace=config.get("namespace") or None,
        mode=config.get("mode") or "normal",
        vars=_vars(config),
    )


def _slot(value: str | None) -> int | None:
    """``codex:slot``; unset or 0 means "from the stack name"."""
    if value in (None, "", "0"):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ConfigError(f"{value!r} is not a slot number", location=Location(path="codex:slot")) from None


def _vars(config: pulumi.Config) -> dict[str, object]:
    """``codex:vars``: a JSON object of extra template variables."""
    try:
        value = config.get_object("vars")
    except (ValueError, pulumi.ConfigTypeError) as exc:
        raise ConfigError(
            f"codex:vars is not valid JSON ({exc})", location=Location(path="codex:vars"), hint='e.g. {"feature": "x"}'
        ) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("codex:vars must be a JSON object", location=Location(path="codex:vars"))
    return value
