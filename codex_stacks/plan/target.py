"""Which environment, slot, namespace and mode a stack means (docs/services-yaml.md, "Stacks").

The stack's own values (namespace, base domain, registry, storage, versions, the file's vars)
are templates of services.yaml; :func:`bind` puts each into the stack's :class:`Scope` to be
computed on first use, then resolves the few every stack needs into a :class:`Target`.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from codex_stacks.config.document import RawMap
from codex_stacks.config.loader import ServicesDocument, environment_chain, load_document, value_kind
from codex_stacks.config.model import DNS_LABEL, Environment
from codex_stacks.config.scope import Scope
from codex_stacks.config.settings import Evaluator, Settings
from codex_stacks.config.templating import OutsideValues, outside_data
from codex_stacks.errors import ConfigError, Location, PlanError
from codex_stacks.plan.cluster import CLUSTER_SCOPE, SYSTEM_NAMESPACE
from codex_stacks.plan.filters import NameFilters

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
    filters: NameFilters | None = None
    """Items by name (``--only-services`` …): set by the command line only (docs: plan/filters.py)."""
    adopt: bool = False
    """``codex:adopt: kubectl``: this up takes over objects the old tool applied (server-side apply
    forces conflicts); off otherwise (codex_stacks/plan/adoption.py)."""
    branch: str | None = None
    """``codex:branch``: the branch the agent's pvc working copy starts on (codex_stacks/plan/workspace.py)."""

    @property
    def services_path(self) -> Path:
        """Absolute (not resolved), so its errors name it as fully as the manifests'."""
        return Path(os.path.abspath(self.project_dir / self.services_file))


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


class _Versions(Mapping[str, str]):
    """``versions``: each entry evaluated when a template reads it."""

    def __init__(self, raw: Any, evaluator: Evaluator) -> None:
        self._raw = raw if isinstance(raw, RawMap) else RawMap(0)
        self._evaluator = evaluator
        self._done: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        if key not in self._done:
            value = self._evaluator.value(self._raw[key])
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                self._evaluator.document.fail(
                    f"the template gives {value_kind(value)}, not a version string", ["versions", key]
                )
            self._done[key] = value if isinstance(value, str) else str(value)
        return self._done[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def _per_environment(document: ServicesDocument, key: tuple[str, ...], env: str) -> tuple[Any, list[str | int]] | None:
    """The raw value of ``key.<env>``, else of the nearest environment ``env`` inherits from."""
    table = document.raw(*key)
    if not isinstance(table, RawMap):
        return None
    for name in environment_chain(env, document.env_from):
        if name in table:
            return table[name], [*key, name]
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def stack_scope(request: PlanRequest, document: ServicesDocument, env: str, slot: int | None, mode: Mode) -> Settings:
    """The stack's settings and scope: every name a template may use, each computed on first use."""
    known = OutsideValues()
    project_root = str(request.project_dir.resolve())
    scope = Scope(
        {
            "project": document.project,
            "env": env,
            "slot": slot or 0,
            "mode": mode,
            "project_root": project_root,
            "vars": outside_data(dict(request.vars), origin="vars", known=known),
            "env_or": document.env_policy().reader(known),
        }
    )
    evaluator = Evaluator(document, scope, known)
    settings = Settings(document, evaluator, env=env)

    def registry() -> str:
        return _text(evaluator.value(document.raw("registry")))

    def base_domain() -> str:
        found = _per_environment(document, ("baseDomain",), env)
        return "" if found is None else _text(evaluator.value(found[0])).strip()

    def namespace() -> str:
        if settings.environment(env).scope == CLUSTER_SCOPE:
            return SYSTEM_NAMESPACE  # slot claims and the containment policy's home, for every project
        if request.namespace:
            return request.namespace
        found = _per_environment(document, ("namespace", "patterns"), env)
        if found is None:
            return f"{document.project}-{env}" + (f"-{slot}" if slot is not None else "")
        return _text(evaluator.value(found[0])).strip()

    scope.define("versions", lambda: _Versions(document.raw("versions"), evaluator))
    scope.define("registry", registry)
    scope.define("base_domain", base_domain)
    scope.define("namespace", namespace)
    scope.define("storage", lambda: _storage(settings, document, env=env, slot=slot, project_root=project_root))
    raw_vars = document.raw("vars")
    names = document.var_names
    for index, name in enumerate(names):
        hidden = frozenset(names[index:])
        scope.define(
            name,
            lambda name=name, hidden=hidden: evaluator.value(raw_vars[name], scope=scope.view(hide=hidden)),  # type: ignore[misc]
        )
    return settings


def _storage(
    settings: Settings, document: ServicesDocument, *, env: str, slot: int | None, project_root: str
) -> Storage:
    data = settings.data_paths
    root = data.root if data else f"{project_root}/.data"
    root = root.rstrip("/") or "/"
    if data and data.env_dir:
        env_dir = data.env_dir
    elif slot is not None:
        env_dir = f"{root}/slots/{slot}"
    else:
        env_dir = f"{root}/{env}"
    problem = data_path_problem(root, env_dir)
    if problem is not None:
        key, message, hint = problem
        raise ConfigError(message, location=document.location(["dataPaths", key]), hint=hint)
    return Storage(root=root, env_dir=env_dir, dirs=tuple(data.dirs) if data else ("postgres", "redis", "rabbitmq"))


def bind(request: PlanRequest, document: ServicesDocument) -> tuple[Target, Settings]:
    """Environment, slot, namespace and mode of the stack (or a PlanError saying why not), and
    the stack's settings to evaluate everything else from."""
    source = document.source
    env_name, slot = requested_env_and_slot(request)
    mode = requested_mode(request)
    if env_name not in document.environments:
        known = ", ".join(sorted(document.environments)) or "none"
        raise PlanError(
            f"stack {request.stack!r} means environment {env_name!r}, which {source.name} does not define",
            location=document.location(["environments"]),
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
    settings = stack_scope(request, document, env_name, slot, mode)
    if slot is not None:
        if slot < 1:
            raise PlanError(f"slot {slot} is out of range: slots start at 1", location=Location(path="codex:slot"))
        max_slots = settings.max_slots
        if max_slots and slot > max_slots:
            raise PlanError(
                f"slot {slot} is out of range: {source.name} allows maxSlots={max_slots}",
                location=document.location(["maxSlots"]),
                hint=f"use a slot from 1 to {max_slots}, or raise maxSlots",
            )
    environment = settings.environment(env_name)
    if environment.scope == CLUSTER_SCOPE:
        if env_name == SLOT_ENVIRONMENT:
            raise PlanError(
                f"environment {SLOT_ENVIRONMENT!r} has slots, so it cannot have scope: cluster",
                location=document.location(["environments", env_name, "scope"]),
                hint="give the cluster-wide objects an environment of their own, e.g. 'cluster'",
            )
        if request.namespace and request.namespace != SYSTEM_NAMESPACE:
            raise PlanError(
                f"the namespace of a scope: cluster environment is always {SYSTEM_NAMESPACE}",
                location=Location(path="codex:namespace"),
                hint=f"remove codex:namespace from {STACK_CONFIG_FILE.format(stack=request.stack)}",
            )
    if environment.mode is not None and environment.mode != mode:
        raise PlanError(
            f"environment {env_name!r} runs only in {environment.mode} mode, not {mode}",
            location=document.location(["environments", env_name, "mode"]),
            hint=f"set codex:mode: {environment.mode} in the stack config "
            f"({STACK_CONFIG_FILE.format(stack=request.stack)}), or pass --mode {environment.mode} to codexctl",
        )
    scope = settings.scope
    namespace = scope["namespace"]
    if not _DNS_LABEL_RE.match(namespace) or len(namespace) > 63:
        raise PlanError(
            f"namespace {namespace!r} is not a valid Kubernetes name",
            location=Location(path="codex:namespace")
            if request.namespace
            else document.location(_per_environment(document, ("namespace", "patterns"), env_name)[1])  # type: ignore[index]
            if _per_environment(document, ("namespace", "patterns"), env_name)
            else _default_namespace_location(document, env_name),
            hint="lowercase letters, digits and '-', at most 63 characters",
        )
    target = Target(
        stack=request.stack,
        project=document.project,
        env=env_name,
        slot=slot,
        namespace=namespace,
        mode=mode,
        base_domain=scope["base_domain"],
        registry=scope["registry"],
        environment=environment,
        versions=scope["versions"],
        storage=scope["storage"],
    )
    return target, settings


def resolve(request: PlanRequest) -> tuple[Target, Settings]:
    """Load services.yaml for ``request`` and bind it to the stack."""
    return bind(request, load_document(request.services_path, root=request.project_dir))


def fixed_mode(request: PlanRequest) -> Mode | None:
    """The one mode the stack's environment runs in (``mode:`` of a repair-only environment), if any."""
    document = load_document(request.services_path, root=request.project_dir)
    env, slot = requested_env_and_slot(request)
    if env not in document.environments:
        return None
    return stack_scope(request, document, env, slot, "normal").environment(env).mode


def _default_namespace_location(document: ServicesDocument, env_name: str) -> Location:
    """Where a default namespace (``<project>-<environment>``) went wrong: the name that is no
    namespace itself (the project's first), else, for one too long, the longer name."""
    project = document.project
    if not _DNS_LABEL_RE.match(project):
        return document.location(["project"])
    if not _DNS_LABEL_RE.match(env_name) or len(env_name) > len(project):
        return document.location(["environments", env_name])
    return document.location(["project"])
