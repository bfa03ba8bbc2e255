"""Loading services.yaml: two template passes (SPEC §3), YAML, then the pydantic model."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from codex_stacks.config import files
from codex_stacks.config.model import Infrastructure, Service, ServicesFile
from codex_stacks.config.templating import render
from codex_stacks.config.yamlio import line_of, load_document, load_top_level
from codex_stacks.errors import ConfigError, Location

DEFERRED_NAMES = ("project", "namespace", "versions", "base_domain", "storage", "registry")
"""Context names not known in the first pass: the file itself defines them."""

_M = TypeVar("_M", bound=BaseModel)
_MARKER_RE = re.compile(r"@@codex:([A-Za-z0-9_.:-]+)@@")


class Deferred:
    """A first-pass stand-in for a value the file defines itself.

    It renders as a YAML-safe marker (``@@codex:versions:busybox@@``) that
    :func:`resolve_deferred` replaces once the value is known, so that
    ``namespace.patterns.ai: "{{ project }}-dev-{{ slot }}"`` keeps its meaning.
    """

    __slots__ = ("_path",)

    def __init__(self, *path: str) -> None:
        self._path = path

    def __getattr__(self, name: str) -> Deferred:
        return Deferred(*self._path, name)

    def __getitem__(self, key: object) -> Deferred:
        return Deferred(*self._path, str(key))

    def __str__(self) -> str:
        return "@@codex:" + ":".join(self._path) + "@@"

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __bool__(self) -> bool:
        return True


def resolve_deferred(text: str, lookup: Callable[[tuple[str, ...]], str | None]) -> str | None:
    """``text`` with every first-pass marker replaced, or None when one cannot be resolved."""
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        value = lookup(tuple(match.group(1).split(":")))
        if value is None:
            missing = True
            return match.group(0)
        return value

    result = _MARKER_RE.sub(replace, text)
    return None if missing else result


def has_deferred(text: str) -> bool:
    return "@@codex:" in text


def read_text(path: Path, *, root: Path | None = None) -> str:
    """The file's text, read within the limits (:mod:`codex_stacks.config.files`), or a
    ConfigError that names it; with ``root``, the file must stay inside that folder."""
    return files.read_text(path, root=root)


def _mapping(data: Any, source: Path) -> dict[str, Any]:
    if data is None:
        raise ConfigError("the file is empty", location=Location(file=source))
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping of keys, not {type(data).__name__}",
            location=Location(file=source, line=1),
        )
    return data


_NOT_IN_PRELUDE = frozenset({"infrastructure", "services", "hooks", "codex", "images"})
"""The big sections: the first pass does not need them (the second pass reads them whole)."""


def read_prelude(text: str, context: Mapping[str, Any], *, source: Path) -> dict[str, Any]:
    """First pass: the file rendered without the values it defines itself.

    Returns the raw mapping; callers read only ``project``, ``namespace``, ``versions``,
    ``baseDomain``, ``environments``, ``maxSlots`` and ``dataPaths`` from it.
    """
    partial = dict(context)
    for name in DEFERRED_NAMES:
        partial.setdefault(name, Deferred(name))
    return _mapping(load_top_level(render(text, partial, source=source), _NOT_IN_PRELUDE, source=source), source)


def validate_document(model: type[_M], data: Any) -> _M:
    """A model from what a file says: only the camelCase keys count there. The field names
    (``model_reasoning_effort``) are for Python code; in a file they are unknown keys."""
    return model.model_validate(data, by_alias=True, by_name=False)


def load_services_file(text: str, context: Mapping[str, Any], *, source: Path) -> ServicesFile:
    """Second pass: the whole file rendered with the full context, validated by the model."""
    rendered = render(text, context, source=source)
    data = _mapping(load_document(rendered, source=source), source)
    try:
        settings = validate_document(ServicesFile, data)
    except ValidationError as exc:
        raise validation_error(exc, data=data, text=rendered, source=source) from None
    check_references(settings, text=rendered, source=source)
    return settings


class _Refs:
    """Raises a reference error at the key path where it is, with its line."""

    def __init__(self, *, text: str, source: Path) -> None:
        self.text = text
        self.source = source

    def fail(self, message: str, path: Sequence[str | int], hint: str | None = None) -> NoReturn:
        raise ConfigError(
            message,
            location=Location(file=self.source, line=line_of(self.text, path), path=format_path(path)),
            hint=hint,
        )


class _HasFrom(Protocol):
    @property
    def from_(self) -> str | None: ...


def check_environments(environments: Mapping[str, _HasFrom], *, text: str, source: Path) -> None:
    """Every ``from`` names a known environment and no chain loops back (it would never end)."""
    refs = _Refs(text=text, source=source)
    for name, env in environments.items():
        if env.from_ is not None and env.from_ not in environments:
            refs.fail(
                f"environment {name!r}: 'from' names unknown environment {env.from_!r}",
                ["environments", name, "from"],
                hint=f"known environments: {', '.join(sorted(environments))}",
            )
    for name in environments:
        chain = [name]
        parent = environments[name].from_
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = environments[parent].from_
        if parent == name:
            refs.fail(
                f"environment {name!r}: 'from' loops ({' -> '.join([*chain, name])})",
                ["environments", name, "from"],
                hint="an environment cannot inherit from itself, directly or through others",
            )


def check_references(settings: ServicesFile, *, text: str, source: Path) -> None:
    """Names that refer to other items of the file: unique, known, and without cycles."""
    refs = _Refs(text=text, source=source)
    sections: list[tuple[str, Sequence[Infrastructure | Service]]] = [
        ("infrastructure", settings.infrastructure),
        ("services", settings.services),
    ]
    items: dict[str, tuple[str, int, Infrastructure | Service]] = {}
    for section, entries in sections:
        for index, item in enumerate(entries):
            if item.name in items:
                first = items[item.name]
                refs.fail(
                    f"infrastructure and service names must be unique (they name components): {item.name!r} "
                    f"is also {first[0]}[{first[1]}]",
                    [section, index, "name"],
                )
            items[item.name] = (section, index, item)
    for name, (section, index, item) in items.items():
        for position, dep in enumerate(item.depends_on):
            if dep == name:
                refs.fail(f"{name}: an item cannot depend on itself", [section, index, "dependsOn", position])
            if dep not in items:
                close = difflib.get_close_matches(dep, list(items), n=1)
                refs.fail(
                    f"{name}: dependsOn names unknown item {dep!r}",
                    [section, index, "dependsOn", position],
                    hint=f"did you mean {close[0]!r}?" if close else None,
                )
    edges = {key: value[2].depends_on for key, value in items.items()}
    for name in _names_in_cycles(edges):
        section, index, _ = items[name]
        cycle = _cycle_through(name, edges)
        if cycle:
            refs.fail(
                f"dependsOn forms a cycle: {' -> '.join(cycle)}",
                [section, index, "dependsOn"],
                hint="remove one of these dependsOn entries",
            )
    check_environments(settings.environments, text=text, source=source)
    groups = {item.name for item in settings.infrastructure}
    for env_name, env in settings.environments.items():
        for position, group in enumerate(env.slot_bootstrap_infra or []):
            if group not in groups:
                refs.fail(
                    f"environments.{env_name}.slotBootstrapInfra names unknown infrastructure group {group!r}",
                    ["environments", env_name, "slotBootstrapInfra", position],
                )
    for position, group in enumerate(settings.repair.infrastructure or []):
        if group not in groups:
            refs.fail(
                f"repair.infrastructure names unknown infrastructure group {group!r}",
                ["repair", "infrastructure", position],
            )
    if "services" in settings.repair.model_fields_set:
        known_services = {item.name for item in settings.services}
        for position, service in enumerate(settings.repair.services):
            if service not in known_services:
                refs.fail(f"repair.services names unknown service {service!r}", ["repair", "services", position])


def _names_in_cycles(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Names (in file order) that can reach themselves: one depth-first pass, linear in the file."""
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


def _cycle_through(start: str, edges: Mapping[str, Sequence[str]]) -> list[str] | None:
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


def validation_error(exc: ValidationError, *, data: Any, text: str, source: Path) -> ConfigError:
    """The first pydantic error as one message with file, line, key path and a hint."""
    errors = exc.errors(include_url=False)
    # an unknown key is usually the cause of a "missing" one (a typo), so it is reported first
    first = min(errors, key=lambda error: error["type"] != "extra_forbidden")
    path = _document_path(first["loc"], data)
    message = first["msg"].removeprefix("Value error, ")
    hint = None
    if first["type"] == "extra_forbidden" and path:
        key = str(path[-1])
        message = f"unknown key {key!r}"
        known = _keys_at(path[:-1]) or list(_known_keys())
        camel = to_camel(key)
        if camel != key and camel in known:
            hint = f"did you mean {camel!r}? (keys are camelCase)"
        else:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else None
    elif first["type"] == "missing" and path:
        message = f"missing required key {path[-1]!r}"
    more = len(errors) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ConfigError(
        message,
        location=Location(file=source, line=line_of(text, path) if path else None, path=format_path(path)),
        hint=hint,
    )


def _document_path(loc: Sequence[int | str], data: Any) -> list[str | int]:
    """The pydantic location in document terms: union tags (``build``) are not keys of the file."""
    path: list[str | int] = []
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


def format_path(path: Sequence[str | int]) -> str:
    """``services[2].overlays.ai.pvcMounts[0]`` from its parts."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


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


def _keys_at(path: Sequence[str | int]) -> list[str]:
    """The keys the model allows at ``path`` (for a "did you mean" among the right keys)."""
    models: list[type[BaseModel]] = [ServicesFile]
    in_mapping = False
    for part in path:
        if isinstance(part, int):
            continue
        fields = [
            field for model in models for name, field in model.model_fields.items() if part in (field.alias, name)
        ]
        if fields:
            models = [found for field in fields for found in _models_in(field.annotation)]
            in_mapping = any(get_origin(field.annotation) is dict for field in fields)
        elif not in_mapping:
            return []
        else:
            in_mapping = False  # ``part`` was a key of a mapping (an environment name, say)
    return sorted({field.alias or name for model in models for name, field in model.model_fields.items()})


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    from typing import get_args

    found: list[type[BaseModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.append(annotation)
    for arg in get_args(annotation):
        found.extend(_models_in(arg))
    return found
