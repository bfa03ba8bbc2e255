"""A stack's own ``codex:*`` config, read from the Pulumi project's files without Pulumi.

``pulumi up -s S`` gives the program the declared defaults of ``Pulumi.yaml`` overlaid with
``config:`` of ``<stackConfigDir>/Pulumi.<S>.yaml``; the offline commands (preview, validate,
repair-targets) read the same files so they see what ``pulumi up`` would. Secret (``secure:``)
values are skipped: they cannot be decrypted offline, and nothing offline needs them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codex_stacks.config.files import read_optional
from codex_stacks.config.yamlio import load_document
from codex_stacks.errors import ConfigError, Location
from codex_stacks.plan import PlanRequest

PROGRAM_ROOT = Path(__file__).resolve().parents[1]
"""The folder of the Pulumi program (``Pulumi.yaml``, ``__main__.py``)."""
NAMESPACE = "codex"
DEFAULT_PROJECT_DIR = "examples/project-example"


def _mapping(data: Any, source: Path, key: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{key} must be a mapping, not {type(data).__name__}", location=Location(file=source))
    return data


STACK_NAME_MAX = 100
_STACK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def check_stack_name(stack: str, *, where: str = "--stack") -> str:
    """``stack`` if Pulumi would take it as a stack name, else a ConfigError — checked before any
    file is read, since the name becomes a file name and a template value.

    Pulumi's rule (pulumi/pulumi ``sdk/go/common/tokens/stack_name.go``, ``ParseStackName``): not
    empty, at most 100 characters, only ``[A-Za-z0-9_.-]``. ``org/project/stack`` names the same
    stack with its organization and project, each part by the same rule.
    """
    parts = stack.split("/")
    if len(parts) > 3:
        raise ConfigError(
            "a stack name has at most three parts: organization/project/stack", location=Location(path=where)
        )
    for part in parts:
        if not part:
            raise ConfigError("the stack name (or a part of it) is empty", location=Location(path=where))
        if len(part) > STACK_NAME_MAX:
            raise ConfigError(
                f"the stack name is {len(part)} characters long; Pulumi allows at most {STACK_NAME_MAX}",
                location=Location(path=where),
            )
        bad = next((index for index, char in enumerate(part) if not _STACK_NAME_RE.match(char)), None)
        if bad is not None:
            raise ConfigError(
                f"invalid character {part[bad]!r} at position {bad + 1} of the stack name",
                location=Location(path=where),
                hint="a stack name may only contain letters, digits, '-', '_' and '.'",
            )
    return stack


def _load_optional(path: Path, *, root: Path) -> dict[str, Any] | None:
    text = read_optional(path, root=root)
    return None if text is None else _mapping(load_document(text, source=path), path, "the top level")


def _as_config_text(value: Any) -> str:
    """How Pulumi hands a config value to the program: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and "secure" in value


def stack_file(stack: str, *, program_dir: Path | None = None) -> Path:
    """``<program>/<stackConfigDir>/Pulumi.<stack>.yaml`` (the file may not exist: slots need none)."""
    check_stack_name(stack)
    root = program_dir or PROGRAM_ROOT
    project = _load_optional(root / "Pulumi.yaml", root=root) or {}
    config_dir = project.get("stackConfigDir") or "."
    name = stack.rsplit("/", 1)[-1]  # org/project/stack → stack
    return root / str(config_dir) / f"Pulumi.{name}.yaml"


def program_config(stack: str, *, program_dir: Path | None = None) -> dict[str, str]:
    """The non-secret ``codex:*`` config ``pulumi up -s stack`` would give the program."""
    check_stack_name(stack)
    root = program_dir or PROGRAM_ROOT
    project_file = root / "Pulumi.yaml"
    project = _load_optional(project_file, root=root) or {}
    project_name = str(project.get("name") or NAMESPACE)
    config: dict[str, str] = {}
    for key, declaration in _mapping(project.get("config"), project_file, "config").items():
        full = str(key) if ":" in str(key) else f"{project_name}:{key}"
        default = declaration.get("default") if isinstance(declaration, Mapping) else declaration
        if full.startswith(f"{NAMESPACE}:") and default is not None and not _is_secret(default):
            config[full] = _as_config_text(default)
    path = stack_file(stack, program_dir=root)
    stack_settings = _load_optional(path, root=root)
    if stack_settings is not None:
        for key, value in _mapping(stack_settings.get("config"), path, "config").items():
            full = str(key) if ":" in str(key) else f"{project_name}:{key}"
            if full.startswith(f"{NAMESPACE}:") and value is not None and not _is_secret(value):
                config[full] = _as_config_text(value)
    return config


def resolve_project_dir(value: str | None, *, program_dir: Path | None = None) -> Path:
    """``codex:projectDir``: relative to the program's folder, as the program reads it."""
    path = Path(value or DEFAULT_PROJECT_DIR)
    return (path if path.is_absolute() else (program_dir or PROGRAM_ROOT) / path).resolve()


def with_overrides(
    config: Mapping[str, str], *, project_dir: Path | None = None, mode: str | None = None
) -> dict[str, str]:
    """The stack's config with the command line's options on top (they win)."""
    merged = dict(config)
    if project_dir is not None:
        merged[f"{NAMESPACE}:projectDir"] = str(project_dir)
    if mode is not None:
        merged[f"{NAMESPACE}:mode"] = mode
    merged[f"{NAMESPACE}:projectDir"] = str(resolve_project_dir(merged.get(f"{NAMESPACE}:projectDir")))
    return merged


def plan_request(stack: str, config: Mapping[str, str]) -> PlanRequest:
    """The program's request for these config values (what components/settings.py builds)."""

    check_stack_name(stack, where="stack")

    def get(key: str) -> str | None:
        value = config.get(f"{NAMESPACE}:{key}")
        return value if value not in (None, "") else None

    return PlanRequest(
        stack=stack,
        project_dir=resolve_project_dir(get("projectDir")),
        services_file=get("servicesFile") or "services.yaml",
        env=get("env"),
        slot=_slot(get("slot")),
        namespace=get("namespace"),
        mode=get("mode") or "normal",
        vars=_vars(get("vars")),
    )


def stack_request(
    stack: str, *, project_dir: Path | None = None, mode: str | None = None, program_dir: Path | None = None
) -> PlanRequest:
    """What ``pulumi up -s stack`` plans: the stack's config files, with these options on top."""
    check_stack_name(stack)
    config = with_overrides(program_config(stack, program_dir=program_dir), project_dir=project_dir, mode=mode)
    return plan_request(stack.rsplit("/", 1)[-1], config)  # org/project/stack → stack


def _slot(value: str | None) -> int | None:
    if value in (None, "0"):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ConfigError(f"{value!r} is not a slot number", location=Location(path="codex:slot")) from None


def _vars(value: str | None) -> dict[str, object]:
    if value is None:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise ConfigError(
            f"codex:vars is not valid JSON ({exc})", location=Location(path="codex:vars"), hint='e.g. {"feature": "x"}'
        ) from None
    if not isinstance(parsed, dict):
        raise ConfigError("codex:vars must be a JSON object", location=Location(path="codex:vars"))
    return parsed
