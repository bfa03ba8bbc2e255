"""Loading services.yaml: YAML first, then only what holds the file together is checked.

At load time (:func:`load_document`) the file must parse, its top-level keys must be known, the
project must be named, item names must be plain and unique, and environments must inherit from
known ones without loops: that is the file's structure, which every stack relies on. Everything
else — an item's fields, its ``when:``, its hooks, its references — is evaluated and validated
only when a stack selects the item (:class:`codex_stacks.config.settings.Settings`), so a broken
group a stack does not deploy cannot stop it (docs/services-yaml.md, "Evaluation").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from codex_stacks.config import files
from codex_stacks.config.document import Expr, Key, RawList, RawMap, format_path, line_at, parse_document
from codex_stacks.config.model import DNS_LABEL, ENV_VAR_NAME, VAR_NAME, EnvVar, ServicesFile, environment_name_problem
from codex_stacks.config.templating import EnvPolicy, forbidden_env
from codex_stacks.errors import CodexError, ConfigError, Location, raise_all

_M = TypeVar("_M", bound=BaseModel)
Section = Literal["infrastructure", "services"]

CONTEXT_NAMES = frozenset(
    {
        "project",
        "env",
        "slot",
        "namespace",
        "mode",
        "project_root",
        "versions",
        "base_domain",
        "registry",
        "vars",
        "storage",
        "env_or",
    }
)
"""What every template sees besides the file's own vars (docs/services-yaml.md, "Context")."""


def read_text(path: Path, *, root: Path | None = None) -> str:
    """The file's text, read within the limits (:mod:`codex_stacks.config.files`), or a
    ConfigError that names it; with ``root``, the file must stay inside that folder."""
    return files.read_text(path, root=root)


@dataclass(frozen=True, slots=True)
class ItemRef:
    """An infrastructure group or a service as the file writes it (not evaluated)."""

    section: Section
    index: int
    name: str
    raw: RawMap

    @property
    def path(self) -> tuple[Key, ...]:
        return (self.section, self.index)

    @property
    def kind(self) -> Literal["InfrastructureGroup", "ServiceComponent"]:
        return "InfrastructureGroup" if self.section == "infrastructure" else "ServiceComponent"


@dataclass(frozen=True)
class ServicesDocument:
    """services.yaml parsed and checked for structure; values not evaluated yet."""

    source: Path
    root: RawMap
    project: str
    items: tuple[ItemRef, ...]
    environments: Mapping[str, RawMap]
    env_from: Mapping[str, str | None]
    env_vars: Mapping[str, EnvVar]
    var_names: tuple[str, ...]

    @property
    def infrastructure(self) -> tuple[ItemRef, ...]:
        return tuple(item for item in self.items if item.section == "infrastructure")

    @property
    def services(self) -> tuple[ItemRef, ...]:
        return tuple(item for item in self.items if item.section == "services")

    def raw(self, *keys: str) -> Any:
        """The raw value under ``keys`` of nested mappings (None when absent)."""
        node: Any = self.root
        for key in keys:
            if not isinstance(node, RawMap):
                return None
            node = node.get(key)
        return node

    def line(self, path: Sequence[Key]) -> int | None:
        return line_at(self.root, path)

    def location(self, path: Sequence[Key]) -> Location:
        return Location(file=self.source, line=self.line(path), path=format_path(path))

    def fail(self, message: str, path: Sequence[Key], hint: str | None = None) -> NoReturn:
        raise ConfigError(message, location=self.location(path), hint=hint)

    def env_policy(self) -> EnvPolicy:
        return EnvPolicy(declared={name: var.secret for name, var in self.env_vars.items()})


def load_document(path: Path, *, root: Path | None = None) -> ServicesDocument:
    """Read and parse ``path`` (inside the project folder ``root``); the file's structure checked
    (see the module doc)."""
    return parse_services(read_text(path, root=root), source=path)


def parse_services(text: str, *, source: Path) -> ServicesDocument:
    root = parse_document(text, source=source)
    if root is None:
        raise ConfigError("the file is empty", location=Location(file=source))
    if not isinstance(root, RawMap):
        raise ConfigError(
            f"the top level must be a mapping of keys, not {value_kind(root)}",
            location=Location(file=source, line=root.line if isinstance(root, RawList) else 1),
        )
    return _Structure(root, source).check()


def value_kind(value: Any) -> str:
    """What a value of the file (or a template's result) is, in the words of the file."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, Expr):
        return "a template"
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


class _Structure:
    """The load-time checks; problems are collected, not stopped at."""

    def __init__(self, root: RawMap, source: Path) -> None:
        self.root = root
        self.source = source
        self.problems: list[CodexError] = []

    def problem(self, message: str, path: Sequence[Key], hint: str | None = None, *, line: int | None = None) -> None:
        """One problem at ``path`` (at ``line`` instead of the path's own when given: a key whose
        name is the problem is not written into the key path)."""
        location = Location(file=self.source, line=line or line_at(self.root, path), path=format_path(path))
        self.problems.append(ConfigError(message, location=location, hint=hint))

    def check(self) -> ServicesDocument:
        known = top_level_keys()
        for key in self.root:
            if key not in known:
                self.problem(f"unknown key {key!r}", [key], hint=_suggest(key, known))
        project = self._project()
        var_names = self._vars()
        env_vars = self._env_vars()
        items = self._items()
        environments, env_from = self._environments()
        self._overlays(items)
        self._versions()
        self._per_environment_maps()
        raise_all(self.problems)
        return ServicesDocument(
            source=self.source,
            root=self.root,
            project=project,
            items=tuple(items),
            environments=environments,
            env_from=env_from,
            env_vars=env_vars,
            var_names=tuple(var_names),
        )

    def _plain_name(self, value: Any, path: Sequence[Key], what: str) -> str | None:
        if isinstance(value, Expr):
            self.problem(f"{what} must be written out, not a template", path, hint="names are fixed for every stack")
            return None
        if not isinstance(value, str) or not re.match(DNS_LABEL, value) or len(value) > 63:
            self.problem(
                f"{what} {value!r} is not a valid name",
                path,
                hint="lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63",
            )
            return None
        return value

    def _project(self) -> str:
        if "project" not in self.root:
            self.problem("missing required key 'project'", ["project"])
            return ""
        return self._plain_name(self.root["project"], ["project"], "project") or ""

    def _per_environment_maps(self) -> None:
        """``baseDomain`` and ``namespace.patterns`` give one value per environment: written as a
        single value, they were silently ignored (every stack got no base domain)."""
        for path in (["baseDomain"], ["namespace", "patterns"]):
            node: Any = self.root
            for part in path:
                node = node.get(part) if isinstance(node, RawMap) else None
            if node is not None and not isinstance(node, RawMap):
                shape = "a list" if isinstance(node, RawList) else "a single value"
                self.problem(
                    f"must map environment names to values (one per environment), not {shape}",
                    path,
                    hint=f"e.g. {'.'.join(path)}: {{dev: ..., ai: ...}}",
                )

    def _vars(self) -> list[str]:
        raw = self.root.get("vars")
        if raw is None:
            return []
        if not isinstance(raw, RawMap):
            self.problem("vars must be a mapping of names to values", ["vars"])
            return []
        names = []
        for name in raw:
            if not re.match(VAR_NAME, name):
                self.problem(f"vars: {name!r} is not a template name", ["vars", name], hint="letters, digits and _")
            elif name in CONTEXT_NAMES:
                self.problem(f"vars: {name!r} would hide the context variable of that name", ["vars", name])
            else:
                names.append(name)
        return names

    def _env_vars(self) -> dict[str, EnvVar]:
        raw = self.root.get("envVars")
        if raw is None:
            return {}
        if not isinstance(raw, RawMap):
            self.problem("envVars must be a mapping of variable names to {secret, description}", ["envVars"])
            return {}
        declared: dict[str, EnvVar] = {}
        for name, spec in raw.items():
            path: list[Key] = ["envVars", name]
            if not re.match(ENV_VAR_NAME, name):
                self.problem(f"envVars: {name!r} is not an environment variable name", path)
                continue
            why = forbidden_env(name)
            if why is not None:
                self.problem(f"envVars: {name} may not be read by templates: {why}", path)
                continue
            try:
                declared[name] = validate_document(EnvVar, {} if spec is None else spec)
            except ValidationError as exc:
                self.problems.extend(validation_problems(exc, data=spec, root=self.root, base=path, source=self.source))
        return declared

    def _items(self) -> list[ItemRef]:
        items: list[ItemRef] = []
        seen: dict[str, tuple[Key, ...]] = {}
        for section in ("infrastructure", "services"):
            raw = self.root.get(section)
            if raw is None:
                continue
            if not isinstance(raw, RawList):
                self.problem(f"{section} must be a list of items", [section])
                continue
            for index, entry in enumerate(raw):
                path: tuple[Key, ...] = (section, index)
                if not isinstance(entry, RawMap):
                    self.problem(f"an item must be a mapping with a name, not {value_kind(entry)}", path)
                    continue
                if "name" not in entry:
                    self.problem("missing required key 'name'", path)
                    continue
                name = self._plain_name(entry["name"], [*path, "name"], "the item's name")
                if name is None:
                    continue
                if name in seen:
                    self.problem(
                        f"infrastructure and service names must be unique (they name components): {name!r} "
                        f"is also {format_path(seen[name])}",
                        [*path, "name"],
                    )
                    continue
                seen[name] = path
                items.append(ItemRef(section=section, index=index, name=name, raw=entry))  # type: ignore[arg-type]
        return items

    def _overlays(self, items: Sequence[ItemRef]) -> None:
        """A service's ``overlays`` maps environment names to overlays: anything else, or a name
        no environment has (a typo would silently drop the mounts), is the file's mistake."""
        declared = self.root.get("environments")
        known = sorted(str(name) for name in declared) if isinstance(declared, RawMap) else []
        for item in items:
            overlays = item.raw.get("overlays")
            path = [*item.path, "overlays"]
            if item.section != "services" or overlays is None or isinstance(overlays, Expr):
                continue
            if not isinstance(overlays, RawMap):
                self.problem(f"must be a mapping of environment names to overlays, not {value_kind(overlays)}", path)
                continue
            for name in overlays:
                if name not in known:
                    self.problem(
                        f"{item.name}: overlays names unknown environment {_shown(name)}",
                        [*path, name],
                        hint=f"known environments: {', '.join(known)}" if known else "the file defines no environments",
                    )

    def _versions(self) -> None:
        """``versions`` maps names to version strings (a number is read as its text); a template
        is checked when a stack reads it (plan/target.py)."""
        raw = self.root.get("versions")
        if raw is None:
            return
        if not isinstance(raw, RawMap):
            self.problem(f"must be a mapping of names to version strings, not {value_kind(raw)}", ["versions"])
            return
        for name, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, str | int | float | Expr):
                self.problem(f"must be a version string, not {value_kind(value)}", ["versions", name])

    def _environments(self) -> tuple[dict[str, RawMap], dict[str, str | None]]:
        raw = self.root.get("environments")
        if raw is None:
            return {}, {}
        if not isinstance(raw, RawMap):
            self.problem("environments must be a mapping of environment names", ["environments"])
            return {}, {}
        environments: dict[str, RawMap] = {}
        parents: dict[str, str | None] = {}
        for name, entry in raw.items():
            path: list[Key] = ["environments", name]
            problem = environment_name_problem(name) if isinstance(name, str) else "it is not a string"
            if problem is not None:
                self.problem(
                    f"environment name {_shown(name)} is not usable: {problem}",
                    ["environments"],
                    hint="an environment is picked by a stack's name: letters, digits, '-', '_' and '.' only",
                    line=raw.key_lines.get(name),
                )
                continue
            if entry is None:
                entry = RawMap(raw.key_lines[name])
            if not isinstance(entry, RawMap):
                self.problem(f"environment {name!r} must be a mapping", path)
                continue
            parent = entry.get("from")
            if isinstance(parent, Expr):
                self.problem(f"environment {name!r}: 'from' must be written out, not a template", [*path, "from"])
                parent = None
            environments[name] = entry
            parents[name] = None if parent is None else str(parent)
        for name, parent in parents.items():
            if parent is not None and parent not in parents:
                self.problem(
                    f"environment {name!r}: 'from' names unknown environment {parent!r}",
                    ["environments", name, "from"],
                    hint=f"known environments: {', '.join(sorted(parents))}",
                )
        looped: set[str] = set()
        for name in parents:
            chain = [name]
            parent = parents[name]
            while parent is not None and parent not in chain:
                chain.append(parent)
                parent = parents.get(parent)
            if parent == name and name not in looped:
                looped.update(chain)
                self.problem(
                    f"environment {name!r}: 'from' loops ({' -> '.join([*chain, name])})",
                    ["environments", name, "from"],
                    hint="an environment cannot inherit from itself, directly or through others",
                )
        return environments, parents


def _shown(name: object) -> str:
    text = repr(name)
    return text if len(text) <= 42 else text[:40] + "…"


def environment_chain(name: str, parents: Mapping[str, str | None]) -> list[str]:
    """``name`` and the environments it inherits from, nearest first."""
    chain = [name]
    parent = parents.get(name)
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = parents.get(parent)
    return chain


def validate_document(model: type[_M], data: Any) -> _M:
    """A model from what a file says: only the camelCase keys count there. The field names
    (``model_reasoning_effort``) are for Python code; in a file they are unknown keys."""
    return model.model_validate(data, by_alias=True, by_name=False)


def validation_problems(
    exc: ValidationError, *, data: Any, root: Any, base: Sequence[Key], source: Path | None
) -> list[CodexError]:
    """Every pydantic error as a located problem (unknown keys first: a typo usually causes the rest)."""
    errors = sorted(exc.errors(include_url=False), key=lambda error: error["type"] != "extra_forbidden")
    problems: list[CodexError] = []
    for error in errors:
        inner = _document_path(error["loc"], data)
        path = [*base, *inner]
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "model_type":  # "… or instance of CodexSettings": a Python class, not a word of the file
            message = message.partition(" or instance of ")[0]
        hint = None
        if error["type"] == "extra_forbidden" and path:
            key = str(path[-1])
            message = f"unknown key {key!r}"
            known = _keys_at(path[:-1]) or list(_known_keys())
            camel = to_camel(key)
            if camel != key and camel in known:
                hint = f"did you mean {camel!r}? (keys are camelCase)"
            else:
                hint = _suggest(key, known, fallback=False)
        elif error["type"] == "missing" and path:
            message = f"missing required key {path[-1]!r}"
        location = Location(file=source, line=line_at(root, path), path=format_path(path))
        problems.append(ConfigError(message, location=location, hint=hint))
    return problems


def _suggest(key: str, known: Sequence[str], *, fallback: bool = True) -> str | None:
    close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known keys: {', '.join(sorted(known))}" if fallback else None


def _document_path(loc: Sequence[int | str], data: Any) -> list[Key]:
    """The pydantic location in document terms: union tags (``build``) are not keys of the file."""
    path: list[Key] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("type") == part:
            continue
        path.append(part)
        if isinstance(node, dict) and part in node:  # noqa: SIM114  (mypy needs the branches apart)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return path


@lru_cache(maxsize=1)
def top_level_keys() -> tuple[str, ...]:
    return tuple(field.alias or name for name, field in ServicesFile.model_fields.items())


@lru_cache(maxsize=1)
def _known_keys() -> tuple[str, ...]:
    keys: set[str] = set()
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            keys.add(field.alias or name)
            for candidate in _models_in(field.annotation):
                walk(candidate)

    walk(ServicesFile)
    return tuple(sorted(keys))


def _keys_at(path: Sequence[Key]) -> list[str]:
    """The keys the model allows at ``path`` (for a "did you mean" among the right keys)."""
    models: list[type[BaseModel]] = [ServicesFile]
    in_mapping = False
    for part in path:
        if isinstance(part, int):
            continue
        if in_mapping:  # ``part`` is a key of a mapping (an environment named "mode", say), never a field
            in_mapping = False
            continue
        fields = [
            field for model in models for name, field in model.model_fields.items() if part in (field.alias, name)
        ]
        if not fields:
            return []
        models = [found for field in fields for found in _models_in(field.annotation)]
        in_mapping = any(get_origin(field.annotation) is dict for field in fields)
    return sorted({field.alias or name for model in models for name, field in model.model_fields.items()})


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.append(annotation)
    for arg in get_args(annotation):
        found.extend(_models_in(arg))
    return found


def names_in_cycles(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Names (in order) that can reach themselves: one depth-first pass, linear in the file."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    cyclic: set[str] = set()
    for root in edges:
        if root in state:
            continue
        state[root] = 1
        path = [root]
        stack = [iter(edges[root])]
        while stack:
            dep = next(stack[-1], None)
            if dep is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(dep) == 1:
                cyclic.update(path[path.index(dep) :])
            elif dep not in state and dep in edges:
                state[dep] = 1
                path.append(dep)
                stack.append(iter(edges[dep]))
    return [name for name in edges if name in cyclic]


def cycle_through(start: str, edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """The names of a dependsOn cycle that passes through ``start``, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for dep in edges.get(node, ()):
            if dep == start:
                return [*path, start]
            if dep not in seen and dep in edges:
                seen.add(dep)
                stack.append((dep, [*path, dep]))
    return None
