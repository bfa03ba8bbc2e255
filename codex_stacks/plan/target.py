"""Which environment, slot, namespace and mode a stack means (SPEC §2)."""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, NonNegativeInt, ValidationError

from codex_stacks.config.base import Model
from codex_stacks.config.loader import (
    check_environments,
    has_deferred,
    resolve_deferred,
    validate_document,
    validation_error,
)
from codex_stacks.config.model import DNS_LABEL, Environment, Name, ServicesFile, StrMap, one_cluster_environment
from codex_stacks.config.templating import render
from codex_stacks.config.yamlio import line_of
from codex_stacks.errors import ConfigError, Location, PlanError
from codex_stacks.plan.cluster import SYSTEM_NAMESPACE

Mode = Literal["normal", "repair"]
MODES: tuple[Mode, ...] = ("normal", "repair")
SLOT_ENVIRONMENT = "ai"
"""The environment whose stacks are slots: ``ai-slot-<N>``."""
_SLOT_STACK_RE = re.compile(r"^ai-slot-(\d+)$")
_DNS_LABEL_RE = re.compile(DNS_LABEL)
STACK_CONFIG_FILE = "stacks/Pulumi.{stack}.yaml"
"""Where a stack's ``codex:*`` config lives (``stackConfigDir`` of Pulumi.yaml), for hints."""


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What the caller knows: the stack and its ``codex:*`` config."""

    stack: str
    project_dir: Path
    services_file: str = "services.yaml"
    env: str | None = None
    slot: int | None = None
    namespace: str | None = None
    mode: str = "normal"
    vars: Mapping[str, Any] = field(default_factory=dict)

    @property
    def services_path(self) -> Path:
        return self.project_dir / self.services_file


@dataclass(frozen=True, slots=True)
class Storage:
    """Host data directories of this stack (``storage`` in templates)."""

    root: str
    env_dir: str
    dirs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Target:
    """A stack resolved: everything templates and components need to know about *where*."""

    stack: str
    project: str
    env: str
    slot: int | None
    namespace: str
    mode: Mode
    base_domain: str
    registry: str
    environment: Environment
    versions: Mapping[str, str]
    storage: Storage

    @property
    def is_slot(self) -> bool:
        return self.slot is not None


class _EnvPrelude(Model, extra="ignore"):
    from_: str | None = Field(default=None, alias="from")


class _NamespacePrelude(Model, extra="ignore"):
    patterns: dict[str, str] = Field(default_factory=dict)


class _DataPathsPrelude(Model, extra="ignore"):
    root: str | None = None
    env_dir: str | None = None
    dirs: list[str] = Field(default_factory=lambda: ["postgres", "redis", "rabbitmq"])


class Prelude(Model, extra="ignore"):
    """What the first pass reads: the values needed before the namespace is known."""

    project: Name
    namespace: _NamespacePrelude = Field(default_factory=_NamespacePrelude)
    versions: StrMap = Field(default_factory=dict)
    base_domain: dict[str, str] = Field(default_factory=dict)
    environments: Annotated[dict[str, Environment], AfterValidator(one_cluster_environment)] = Field(
        default_factory=dict
    )
    max_slots: NonNegativeInt = 0
    registry: str | None = None
    data_paths: _DataPathsPrelude | None = None


def first_pass_context(request: PlanRequest, env: str, slot: int | None, mode: Mode) -> dict[str, Any]:
    return {
        "env": env,
        "slot": slot or 0,
        "mode": mode,
        "project_root": str(request.project_dir.resolve()),
        "vars": dict(request.vars),
    }


def requested_env_and_slot(request: PlanRequest) -> tuple[str, int | None]:
    """``ai-slot-<N>`` → (ai, N); any other stack → its own name; config overrides both."""
    match = _SLOT_STACK_RE.match(request.stack)
    env = request.env or (SLOT_ENVIRONMENT if match else request.stack)
    slot = request.slot if request.slot is not None else (int(match.group(1)) if match else None)
    return env, slot


def requested_mode(request: PlanRequest) -> Mode:
    if request.mode not in MODES:
        raise PlanError(
            f"unknown mode {request.mode!r}",
            location=Location(path="codex:mode"),
            hint="codex:mode in the stack config (or codexctl's --mode) is 'normal' or 'repair'",
        )
    mode: Mode = request.mode  # type: ignore[assignment]  # checked just above
    return mode


def parse_prelude(raw: dict[str, Any], *, text: str, source: Path) -> Prelude:
    """The first pass's values; an unknown top-level key is reported here already, since it is
    usually the cause of whatever would go wrong next (a misspelt ``environments``)."""
    known = {field.alias or name for name, field in ServicesFile.model_fields.items()}
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
            raise ConfigError(
                f"unknown key {key!r}",
                location=Location(file=source, line=line_of(text, [key]), path=str(key)),
                hint=f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(known))}",
            )
    try:
        prelude = validate_document(Prelude, raw)
    except ValidationError as exc:
        raise validation_error(exc, data=raw, text=text, source=source) from None
    check_environments(prelude.environments, text=text, source=source)
    return prelude


def resolve_environment(name: str, environments: Mapping[str, Environment]) -> Environment:
    """The environment with every field it leaves unset taken from its ``from`` chain."""
    chain = [environments[name]]
    seen = {name}
    while chain[-1].from_ is not None and chain[-1].from_ in environments and chain[-1].from_ not in seen:
        seen.add(chain[-1].from_)
        chain.append(environments[chain[-1].from_])
    merged: dict[str, Any] = {}
    for item in reversed(chain):
        merged.update(item.model_dump(exclude_unset=True, exclude={"from_"}))
    return Environment.model_validate(merged)


def _lookup(name: str, table: Mapping[str, str], environments: Mapping[str, Environment]) -> str | None:
    """A per-environment value, falling back along the ``from`` chain."""
    current: str | None = name
    seen: set[str] = set()
    while current is not None and current not in seen:
        if current in table:
            return table[current]
        seen.add(current)
        current = environments[current].from_ if current in environments else None
    return None


class _FirstPassValues:
    """Resolves the first pass's markers, in the order the values become known."""

    def __init__(self, *, source: Path, project: str) -> None:
        if has_deferred(project):
            raise PlanError(
                "project must be a plain name, not built from other values",
                location=Location(file=source, path="project"),
            )
        self.source = source
        self.values: dict[str, Any] = {"project": project}

    def _lookup(self, path: tuple[str, ...]) -> str | None:
        value: Any = self.values.get(path[0])
        for part in path[1:]:
            value = value.get(part) if isinstance(value, Mapping) else None
        return None if value is None or isinstance(value, Mapping) else str(value)

    def __call__(self, text: str, where: str) -> str:
        resolved = resolve_deferred(text, self._lookup)
        if resolved is None:
            raise PlanError(
                "uses a value that is not known yet when the namespace is computed",
                location=Location(file=self.source, path=where),
                hint="here only project, versions, registry and the earlier of baseDomain/namespace "
                "can be used, and only plainly (no filters on them)",
            )
        return resolved


def is_inside(path: str, root: str) -> bool:
    """``path`` strictly below ``root``, both normalised (no ``..`` tricks)."""
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    return path != root and path.startswith(root.rstrip("/") + "/")


def data_path_problem(root: str, env_dir: str) -> tuple[str, str, str] | None:
    """The first unsafe data path as (key, message, hint), or None: data folders are created and
    deleted by hooks and ``ci cleanup``, so never ``/`` and never outside the root."""
    normal_root = posixpath.normpath(root)
    if not posixpath.isabs(normal_root) or normal_root == "/":
        return "root", f"data root {root!r} is not allowed", "dataPaths.root must be an absolute folder other than /"
    if not is_inside(env_dir, normal_root):
        return (
            "envDir",
            f"data folder {env_dir!r} is not inside the data root {normal_root!r}",
            "dataPaths.envDir must be a sub-folder of dataPaths.root",
        )
    return None


def _check_storage(root: str, env_dir: str, *, text: str, source: Path) -> None:
    problem = data_path_problem(root, env_dir)
    if problem is not None:
        key, message, hint = problem
        path = ["dataPaths", key]
        raise ConfigError(
            message, location=Location(file=source, line=line_of(text, path), path=".".join(path)), hint=hint
        )


def resolve_target(request: PlanRequest, prelude: Prelude, *, source: Path, text: str = "") -> Target:
    """Environment, slot, namespace and mode of the stack, or a PlanError saying why not."""
    env_name, slot = requested_env_and_slot(request)
    mode = requested_mode(request)
    envs = prelude.environments
    if env_name not in envs:
        known = ", ".join(sorted(envs)) or "none"
        raise PlanError(
            f"stack {request.stack!r} means environment {env_name!r}, which {source.name} does not define",
            location=Location(file=source, path="environments"),
            hint=f"known environments: {known}; slot stacks are named ai-slot-<N>; "
            f"or set codex:env in the stack config ({STACK_CONFIG_FILE.format(stack=request.stack)})",
        )
    if slot is not None and env_name != SLOT_ENVIRONMENT:
        raise PlanError(
            f"environment {env_name!r} has no slots (only {SLOT_ENVIRONMENT!r} does)",
            location=Location(path="codex:slot"),
            hint=f"remove codex:slot from the stack config, or use a stack named {SLOT_ENVIRONMENT}-slot-<N>",
        )
    if slot is None and env_name == SLOT_ENVIRONMENT:
        raise PlanError(
            f"environment {SLOT_ENVIRONMENT!r} needs a slot",
            location=Location(path="codex:slot"),
            hint=f"use a stack named {SLOT_ENVIRONMENT}-slot-<N>, or set codex:slot in the stack config",
        )
    if slot is not None:
        if slot < 1:
            raise PlanError(f"slot {slot} is out of range: slots start at 1", location=Location(path="codex:slot"))
        if prelude.max_slots and slot > prelude.max_slots:
            raise PlanError(
                f"slot {slot} is out of range: {source.name} allows maxSlots={prelude.max_slots}",
                location=Location(file=source, path="maxSlots"),
                hint=f"use a slot from 1 to {prelude.max_slots}, or raise maxSlots",
            )
    environment = resolve_environment(env_name, envs)
    if environment.scope == "cluster" and env_name == SLOT_ENVIRONMENT:
        raise PlanError(
            f"environment {SLOT_ENVIRONMENT!r} has slots, so it cannot have scope: cluster",
            location=Location(file=source, path=f"environments.{env_name}.scope"),
            hint="give the cluster-wide objects an environment of their own, e.g. 'cluster'",
        )
    if environment.mode is not None and environment.mode != mode:
        raise PlanError(
            f"environment {env_name!r} runs only in {environment.mode} mode, not {mode}",
            location=Location(file=source, path=f"environments.{env_name}.mode"),
            hint=f"set codex:mode: {environment.mode} in the stack config "
            f"({STACK_CONFIG_FILE.format(stack=request.stack)}), or pass --mode {environment.mode} to codexctl",
        )
    resolve = _FirstPassValues(source=source, project=prelude.project)
    versions = {name: resolve(value, f"versions.{name}") for name, value in prelude.versions.items()}
    resolve.values["versions"] = versions
    registry = resolve(prelude.registry or "", "registry")
    resolve.values["registry"] = registry
    base_domain = resolve(_lookup(env_name, prelude.base_domain, envs) or "", f"baseDomain.{env_name}")
    resolve.values["base_domain"] = base_domain
    if environment.scope == "cluster":
        if request.namespace and request.namespace != SYSTEM_NAMESPACE:
            raise PlanError(
                f"the namespace of a scope: cluster environment is always {SYSTEM_NAMESPACE}",
                location=Location(path="codex:namespace"),
                hint=f"remove codex:namespace from {STACK_CONFIG_FILE.format(stack=request.stack)}",
            )
        namespace = SYSTEM_NAMESPACE  # slot claims and the containment policy's home, for every project
    elif request.namespace:
        namespace = request.namespace
    else:
        pattern = _lookup(env_name, prelude.namespace.patterns, envs)
        if pattern is None:
            context = first_pass_context(request, env_name, slot, mode) | {"project": prelude.project}
            default = "{{ project }}-{{ env }}" + ("-{{ slot }}" if slot is not None else "")
            pattern = render(default, context, source=source)
        namespace = resolve(pattern, f"namespace.patterns.{env_name}").strip()
    if not _DNS_LABEL_RE.match(namespace) or len(namespace) > 63:
        raise PlanError(
            f"namespace {namespace!r} is not a valid Kubernetes name",
            location=Location(path="codex:namespace")
            if request.namespace
            else Location(
                file=source,
                line=line_of(text, ["namespace", "patterns", env_name]),
                path=f"namespace.patterns.{env_name}",
            ),
            hint="lowercase letters, digits and '-', at most 63 characters",
        )
    resolve.values["namespace"] = namespace
    project_root = str(request.project_dir.resolve())
    data = prelude.data_paths
    root = resolve(data.root, "dataPaths.root") if data and data.root else f"{project_root}/.data"
    root = root.rstrip("/") or "/"
    if data and data.env_dir:
        env_dir = resolve(data.env_dir, "dataPaths.envDir")
    elif slot is not None:
        env_dir = f"{root}/slots/{slot}"
    else:
        env_dir = f"{root}/{env_name}"
    _check_storage(root, env_dir, text=text, source=source)
    storage = Storage(root=root, env_dir=env_dir, dirs=tuple(data.dirs) if data else ("postgres", "redis", "rabbitmq"))
    return Target(
        stack=request.stack,
        project=prelude.project,
        env=env_name,
        slot=slot,
        namespace=namespace,
        mode=mode,
        base_domain=base_domain,
        registry=registry,
        environment=environment,
        versions=versions,
        storage=storage,
    )


def template_context(target: Target, request: PlanRequest) -> dict[str, Any]:
    """The full context of the second pass and of every manifest (SPEC §3)."""
    return {
        "project": target.project,
        "env": target.env,
        "slot": target.slot or 0,
        "namespace": target.namespace,
        "mode": target.mode,
        "project_root": str(request.project_dir.resolve()),
        "versions": dict(target.versions),
        "base_domain": target.base_domain,
        "registry": target.registry,
        "vars": dict(request.vars),
        "storage": target.storage,
    }
