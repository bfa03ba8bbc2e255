"""The program folder and a stack's own ``codex:*`` config, read from its files without Pulumi.

The **program folder** is a team's repository (or a folder in it): the folder of ``Pulumi.yaml``,
a ``__main__.py`` that calls :func:`codex_stacks.program.run`, ``stacks/`` and, by default,
``services.yaml`` (docs/architecture.md). ``codexctl`` finds it as ``pulumi`` does: in the
current folder or the nearest one above it, unless ``--program-dir`` or ``$CODEX_PROGRAM_DIR``
names it.

``pulumi up -s S`` gives the program the project-level ``config:`` of ``Pulumi.yaml`` overlaid
with ``config:`` of ``<stackConfigDir>/Pulumi.<S>.yaml``; the offline commands (preview, validate,
repair-targets) read the same files so they see what ``pulumi up`` would. ``codex:*`` keys are
never declared in ``Pulumi.yaml`` (Pulumi lets a project type or default only keys of its own
namespace, and each repository's project has its own name): their defaults live here, in
:data:`CONFIG_KEYS`. Secret (``secure:``) values are skipped: they cannot be decrypted offline,
and nothing offline needs them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_stacks.config.files import read_optional
from codex_stacks.config.model import STACK_NAME_CHAR, STACK_NAME_MAX, branch_name_problem
from codex_stacks.config.yamlio import load_document
from codex_stacks.errors import ConfigError, Location
from codex_stacks.plan import PlanRequest
from codex_stacks.plan.adoption import force_conflicts

NAMESPACE = "codex"
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
"""The names ``pulumi`` looks for, in this order (sdk/go/common/workspace/paths.go)."""
PROGRAM_DIR_ENV = "CODEX_PROGRAM_DIR"
DEFAULT_PROJECT_DIR = "."
"""services.yaml sits next to Pulumi.yaml unless ``codex:projectDir`` says otherwise."""


@dataclass(frozen=True)
class ConfigKey:
    """A ``codex:*`` stack config key the program reads, with its default (None: no default)."""

    name: str
    default: str | None
    description: str
    secret: bool = False

    @property
    def full(self) -> str:
        return f"{NAMESPACE}:{self.name}"


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "projectDir",
        DEFAULT_PROJECT_DIR,
        "Folder holding services.yaml and the manifests, relative to the program folder (that of Pulumi.yaml) "
        "or absolute.",
    ),
    ConfigKey("servicesFile", "services.yaml", "Name of the services file inside codex:projectDir."),
    ConfigKey("env", "", "Environment of services.yaml; empty: from the stack name (ai-slot-N → ai, else the name)."),
    ConfigKey("slot", "0", "Slot number of an ai stack; 0: from the stack name (ai-slot-N → N)."),
    ConfigKey("namespace", "", "Namespace override; empty: namespace.patterns of the environment."),
    ConfigKey(
        "mode",
        "normal",
        "normal (the whole stack) or repair (only the repair set; docs/repair.md). pulumi up -c saves it into "
        "the stack: say it on every run.",
    ),
    ConfigKey(
        "vars",
        "{}",
        'Extra template variables as a JSON object, e.g. {"feature": "x"}: `vars` in services.yaml and manifests.',
    ),
    ConfigKey(
        "branch",
        "",
        "The branch the agent's working copy is on when codex.workspace.source is pvc (the init container "
        "checks it out, else starts it from the default branch); ci up --issue/--pr sets it. Empty: the "
        "repository's default branch.",
    ),
    ConfigKey(
        "adopt",
        "",
        "kubectl: this up takes over objects the old tool applied with kubectl apply (server-side apply forces "
        "conflicts); unset it afterwards (docs/security-workflows.md). Empty: never force.",
    ),
    ConfigKey(
        "openaiApiKey",
        None,
        "OPENAI_API_KEY for the agent (codex.ensure-codex-secrets); else the OPENAI_API_KEY environment variable.",
        secret=True,
    ),
    ConfigKey(
        "githubToken",
        None,
        "GitHub token for the agent and github.comment steps; else GITHUB_TOKEN, then CODEX_GH_PAT.",
        secret=True,
    ),
    ConfigKey(
        "context7ApiKey",
        None,
        "CONTEXT7_API_KEY for the agent's Context7 MCP server; else the CONTEXT7_API_KEY environment variable.",
        secret=True,
    ),
)
"""Every ``codex:*`` key the program reads: the defaults ``pulumi up`` and codexctl share."""

_DEFAULTS = {key.full: key.default for key in CONFIG_KEYS if key.default is not None}


def _mapping(data: Any, source: Path, key: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{key} must be a mapping, not {type(data).__name__}", location=Location(file=source))
    return data


def check_stack_name(stack: str, *, where: str = "--stack") -> str:
    """``stack`` if Pulumi would take it as a stack name, else a ConfigError — checked before any
    file is read, since the name becomes a file name and a template value.

    Pulumi's rule (``codex_stacks.config.model.STACK_NAME_CHAR``): not empty, at most 100
    characters, only ``[A-Za-z0-9_.-]``. ``org/project/stack`` names the same stack with its
    organization and project, each part by the same rule.
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
        bad = next((index for index, char in enumerate(part) if not STACK_NAME_CHAR.fullmatch(char)), None)
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


def _project_file(folder: Path) -> Path | None:
    for name in PROJECT_FILES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def find_program_dir(explicit: Path | None = None, *, start: Path | None = None) -> Path:
    """The program folder: ``explicit`` (``--program-dir``), else ``$CODEX_PROGRAM_DIR``, else the
    nearest folder holding ``Pulumi.yaml`` from ``start`` (the current folder) upwards, as
    ``pulumi`` looks for its project (sdk/go/common/workspace/paths.go: DetectProjectPathFrom)."""
    named = explicit if explicit is not None else os.environ.get(PROGRAM_DIR_ENV) or None
    if named is not None:
        where = "--program-dir" if explicit is not None else PROGRAM_DIR_ENV
        folder = Path(named).expanduser().resolve()
        if _project_file(folder) is None:
            raise ConfigError(
                f"no Pulumi.yaml in {folder}",
                location=Location(path=where),
                hint="name the folder of your repository's Pulumi.yaml, or run `codexctl init` there",
            )
        return folder
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _project_file(folder) is not None:
            return folder
    raise ConfigError(
        f"no Pulumi.yaml in {here} or any folder above it",
        hint="run codexctl in your repository (`codexctl init` makes it a program folder: docs/architecture.md), "
        "or pass --program-dir",
    )


PROJECT_NAME_MAX = 100
_PROJECT_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class ProgramFolder:
    """A program folder's ``Pulumi.yaml``: the project name (in every URN and stack path of the
    backend), where stack files live, and its project-level ``codex:*`` values."""

    root: Path
    name: str
    project_file: Path
    stack_config_dir: Path
    main: Path
    """The program's entry: ``__main__.py`` of the folder (or of ``main:``), or the file ``main:`` names."""
    values: Mapping[str, str]

    def stack_file(self, stack: str) -> Path:
        """``<stackConfigDir>/Pulumi.<stack>.yaml`` (the file may not exist: slots need none)."""
        name = check_stack_name(stack).rsplit("/", 1)[-1]  # org/project/stack → stack
        return self.stack_config_dir / f"Pulumi.{name}{self.project_file.suffix}"


def _project_values(name: str, config: Mapping[str, Any], source: Path) -> dict[str, str]:
    """The project-level ``codex:*`` values, checked by Pulumi's rules (sdk/go/common/workspace/
    project.go: Project.Validate, RewriteShorthandConfigValues): a key of the project's own
    namespace may declare a type and a default; any other key only gives a ``value`` (a plain
    scalar is one), and a type or default there is an error ``pulumi`` would stop on too."""
    values: dict[str, str] = {}
    for raw_key, declaration in config.items():
        key = str(raw_key)
        own = ":" not in key or key.startswith(f"{name}:")
        full = key if ":" in key else f"{name}:{key}"
        where = Location(file=source, path=f"config.{key}")
        if isinstance(declaration, Mapping):
            if "default" in declaration and "value" in declaration:
                raise ConfigError("a config key cannot have both a default and a value", location=where)
            if not own:
                if "type" in declaration:
                    raise ConfigError(
                        f"{key} is not in the namespace of project {name!r}, so it may not declare a type",
                        location=where,
                        hint=f"give it a value (`{key}: …`), or set it in the stack files; codex:* defaults "
                        "are codexctl's own (docs/architecture.md)",
                    )
                if "default" in declaration:
                    raise ConfigError(
                        f"{key} is not in the namespace of project {name!r}, so it may not declare a default",
                        location=where,
                        hint=f"write `{key}: <value>` (a project-wide value) instead",
                    )
            value = declaration.get("value", declaration.get("default"))
        else:
            value = declaration
        if full.startswith(f"{NAMESPACE}:") and value is not None and not _is_secret(value):
            values[full] = _as_config_text(value)
    return values


def load_program(root: Path) -> ProgramFolder:
    """The program folder ``root`` as ``pulumi`` reads it; every problem is one located error."""
    project_file = _project_file(root)
    if project_file is None:
        raise ConfigError(f"no Pulumi.yaml in {root}", hint="run `codexctl init` there, or pass --program-dir")
    project = _load_optional(project_file, root=root) or {}
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError("the project has no name", location=Location(file=project_file, path="name"))
    if len(name) > PROJECT_NAME_MAX or not _PROJECT_NAME_RE.match(name):
        raise ConfigError(
            f"{name!r} is not a Pulumi project name",
            location=Location(file=project_file, path="name"),
            hint=f"at most {PROJECT_NAME_MAX} letters, digits, '-', '_' or '.'",
        )
    config_dir = project.get("stackConfigDir") or "."
    main = project.get("main") or "."
    if not isinstance(config_dir, str) or not isinstance(main, str):
        raise ConfigError("stackConfigDir and main are folder names", location=Location(file=project_file))
    entry = root / main
    entry = entry if entry.suffix == ".py" else entry / "__main__.py"
    values = _project_values(name, _mapping(project.get("config"), project_file, "config"), project_file)
    return ProgramFolder(
        root=root,
        name=name,
        project_file=project_file,
        stack_config_dir=root / config_dir,
        main=entry,
        values=values,
    )


def program_folder(program_dir: Path | None = None) -> ProgramFolder:
    """The program folder ``program_dir``, or the one :func:`find_program_dir` finds."""
    return load_program((program_dir or find_program_dir()).resolve())


def stack_settings(folder: ProgramFolder, stack: str) -> dict[str, Any]:
    """The stack file of ``stack`` as a mapping (read bounded; empty when the stack has none)."""
    return _load_optional(folder.stack_file(stack), root=folder.root) or {}


def stack_file(stack: str, *, program_dir: Path | None = None) -> Path:
    """``<program>/<stackConfigDir>/Pulumi.<stack>.yaml`` (the file may not exist: slots need none)."""
    check_stack_name(stack)
    return program_folder(program_dir).stack_file(stack)


def program_config(stack: str, *, program_dir: Path | None = None) -> dict[str, str]:
    """The non-secret ``codex:*`` config ``pulumi up -s stack`` would give the program: the
    project-level values of Pulumi.yaml, then the stack file's (codexctl's defaults are applied
    where the program reads them, as the program applies them)."""
    check_stack_name(stack)
    folder = program_folder(program_dir)
    config = dict(folder.values)
    path = folder.stack_file(stack)
    for key, value in _mapping(stack_settings(folder, stack).get("config"), path, "config").items():
        full = str(key) if ":" in str(key) else f"{folder.name}:{key}"
        if full.startswith(f"{NAMESPACE}:") and value is not None and not _is_secret(value):
            config[full] = _as_config_text(value)
    return config


def resolve_project_dir(value: str | None, *, program_dir: Path | None = None) -> Path:
    """``codex:projectDir``: relative to the program folder, as the program reads it."""
    path = Path(value or DEFAULT_PROJECT_DIR)
    if path.is_absolute():
        return path.resolve()
    return ((program_dir or find_program_dir()) / path).resolve()


def with_overrides(
    config: Mapping[str, str],
    *,
    project_dir: Path | None = None,
    mode: str | None = None,
    program_dir: Path | None = None,
) -> dict[str, str]:
    """The stack's config with the command line's options on top (they win); ``codex:projectDir``
    made absolute against the program folder."""
    merged = dict(config)
    if project_dir is not None:
        merged[f"{NAMESPACE}:projectDir"] = str(project_dir)
    if mode is not None:
        merged[f"{NAMESPACE}:mode"] = mode
    merged[f"{NAMESPACE}:projectDir"] = str(
        resolve_project_dir(merged.get(f"{NAMESPACE}:projectDir"), program_dir=program_dir)
    )
    return merged


def config_value(config: Mapping[str, str], key: str) -> str | None:
    """``codex:<key>`` of ``config``, else its default (:data:`CONFIG_KEYS`); empty text counts as unset."""
    full = f"{NAMESPACE}:{key}"
    value = config.get(full)
    if value in (None, ""):
        value = _DEFAULTS.get(full)
    return value if value not in (None, "") else None


def plan_request(stack: str, config: Mapping[str, str], *, program_dir: Path | None = None) -> PlanRequest:
    """The program's request for these config values (what components/settings.py builds)."""

    check_stack_name(stack, where="stack")

    def get(key: str) -> str | None:
        return config_value(config, key)

    return PlanRequest(
        stack=stack,
        project_dir=resolve_project_dir(get("projectDir"), program_dir=program_dir),
        services_file=get("servicesFile") or "services.yaml",
        env=get("env"),
        slot=_slot(get("slot")),
        namespace=get("namespace"),
        mode=get("mode") or "normal",
        vars=_vars(get("vars")),
        adopt=force_conflicts(get("adopt")),
        branch=_branch(get("branch")),
    )


def stack_request(
    stack: str, *, project_dir: Path | None = None, mode: str | None = None, program_dir: Path | None = None
) -> PlanRequest:
    """What ``pulumi up -s stack`` plans: the stack's config files, with these options on top."""
    check_stack_name(stack)
    root = (program_dir or find_program_dir()).resolve()
    config = with_overrides(
        program_config(stack, program_dir=root), project_dir=project_dir, mode=mode, program_dir=root
    )
    return plan_request(stack.rsplit("/", 1)[-1], config, program_dir=root)  # org/project/stack → stack


def _slot(value: str | None) -> int | None:
    if value in (None, "0"):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ConfigError(f"{value!r} is not a slot number", location=Location(path="codex:slot")) from None


def _branch(value: str | None) -> str | None:
    if value is None:
        return None
    problem = branch_name_problem(value)
    if problem is not None:
        raise ConfigError(
            f"{value[:80]!r} is not a usable branch name: {problem}", location=Location(path="codex:branch")
        )
    return value


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
