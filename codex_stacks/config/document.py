"""services.yaml parsed before any template runs (docs/services-yaml.md, "Templates").

The file is YAML first: its structure comes from the YAML parser alone, and templates live only
inside scalar values, so no value — whatever text a template puts in it — can add a key, an
item or a step. A scalar holding ``{{`` becomes an :class:`Expr`, evaluated later, when (and
only when) the value is used. Every mapping and list remembers the lines of its keys and items,
so an error found much later still names the line it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from codex_stacks.config.yamlio import compose_node, syntax_error
from codex_stacks.errors import ConfigError, Location

Key = str | int
"""One step of a key path: a mapping key or a list index."""

_STATEMENT_RE = re.compile(r"^\s*\{%-?\s*(\w+)")
_SET_RE = re.compile(r"^\s*\{%-?\s*set\s+([A-Za-z_]\w*)\s*=\s*(.*?)\s*-?%\}\s*$")
_MAX_NODES = 2_000_000
"""Values built from one file, aliases expanded: far above any real services.yaml."""


@dataclass(frozen=True, slots=True)
class Expr:
    """A templated scalar: its text, where it is, and whether the YAML quoted it."""

    source: str
    file: Path | None
    line: int
    path: tuple[Key, ...]

    @property
    def where(self) -> str:
        return format_path(self.path)

    def location(self, template_line: int | None = None) -> Location:
        """The file line of the template's own line ``template_line`` (1-based)."""
        line = self.line + (template_line - 1 if template_line else 0)
        return Location(file=self.file, line=line, path=self.where)


class RawMap(dict[str, Any]):
    """A mapping of the file, with the line of each key."""

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}


class RawList(list[Any]):
    """A list of the file, with the line of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


def format_path(path: Sequence[Key]) -> str:
    """``services[2].overlays.ai.pvcMounts[0]`` from its parts."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def line_at(root: Any, path: Sequence[Key]) -> int | None:
    """The line of the deepest part of ``path`` that exists under ``root``."""
    node = root
    best: int | None = getattr(root, "line", None)
    for part in path:
        if isinstance(node, RawMap) and isinstance(part, str) and part in node:
            best = node.key_lines.get(part, best)
            node = node[part]
        elif isinstance(node, RawList) and isinstance(part, int) and 0 <= part < len(node):
            best = node.item_lines[part]
            node = node[part]
        else:
            break
    return best


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def _old_dialect(text: str, source: Path | None) -> ConfigError | None:
    """A line of the old dialect (a Jinja statement of its own), with what to write instead."""
    for number, line in enumerate(text.splitlines(), start=1):
        found = _STATEMENT_RE.match(line)
        if found is None:
            continue
        assignment = _SET_RE.match(line)
        if assignment is not None:
            name, value = assignment.groups()
            return ConfigError(
                f"'{{% set {name} = … %}}' lines are no longer part of services.yaml",
                location=Location(file=source, line=number),
                hint=f"move it to the top-level vars: mapping: vars: {{{name}: '{{{{ {value} }}}}'}}",
            )
        return ConfigError(
            f"'{{% {found.group(1)} … %}}' statements are no longer part of services.yaml",
            location=Location(file=source, line=number),
            hint="services.yaml is YAML with {{ … }} expressions in values: use when: to switch an item "
            "on or off, and vars: for values computed once",
        )
    return None


def _statements_break_it(text: str, error: ConfigError) -> bool:
    """Whether the old dialect's statement lines are what makes ``text`` fail as YAML: the error is
    on one of them, or the text reads as YAML once they are blanked. A statement line inside a
    block value (``run: |``) is a template of the new dialect, and an error elsewhere is reported
    as itself."""
    lines = text.splitlines()
    statements = {number for number, line in enumerate(lines, start=1) if _STATEMENT_RE.match(line)}
    if error.location.line in statements:
        return True
    blanked = "\n".join("" if number in statements else line for number, line in enumerate(lines, start=1))
    try:
        loader, _ = compose_node(blanked)
    except ConfigError:
        return False
    loader.dispose()
    return True


class _Builder:
    """Plain values from YAML nodes, with lines; aliases are expanded (and counted)."""

    def __init__(self, loader: Any, source: Path | None) -> None:
        self.loader = loader
        self.source = source
        self.count = 0

    def build(self, node: yaml.Node, path: list[Key]) -> Any:
        self.count += 1
        if self.count > _MAX_NODES:
            raise ConfigError(
                f"the file expands to more than {_MAX_NODES:,} values (YAML aliases?)",
                location=Location(file=self.source, line=node.start_mark.line + 1),
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = RawList(node.start_mark.line + 1)
            for index, child in enumerate(node.value):
                path.append(index)
                items.append(self.build(child, path))
                items.item_lines.append(child.start_mark.line + 1)
                path.pop()
            return items
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, str) and is_template(value):
            # a block scalar (| or >) starts on the line of its indicator, its text on the next
            block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
            line = node.start_mark.line + (2 if block else 1)
            return Expr(source=value, file=self.source, line=line, path=tuple(path))
        return value

    def _mapping(self, node: yaml.MappingNode, path: list[Key]) -> RawMap:
        self.loader.flatten_mapping(node)
        mapping = RawMap(node.start_mark.line + 1)
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(
                    "a key must be a plain name", location=Location(file=self.source, line=line, path=format_path(path))
                )
            key = self.loader.construct_object(key_node)
            if key is None or isinstance(key, bool):  # `null:`, `true:`, `no:` would be named "None", "True", "False"
                written = str(key_node.value)[:40]
                raise ConfigError(
                    f"the key {written!r} reads as {'null' if key is None else 'a boolean'}, not as a name",
                    location=Location(file=self.source, line=line, path=format_path(path)),
                    hint=f"quote it to use it as a name: '{written}':",
                )
            if not isinstance(key, str):
                key = str(key)
            if is_template(key):
                raise ConfigError(
                    f"keys cannot be templates: {key!r}",
                    location=Location(file=self.source, line=line, path=format_path(path)),
                    hint="only values may hold {{ … }}",
                )
            if key in mapping:
                raise ConfigError(
                    f"duplicate key {key!r} (first given on line {mapping.key_lines[key]})",
                    location=Location(file=self.source, line=line),
                    hint="remove one of the two entries",
                )
            path.append(key)
            mapping[key] = self.build(value_node, path)
            path.pop()
            mapping.key_lines[key] = line
        return mapping


def parse_document(text: str, *, source: Path | None) -> Any:
    """The file's YAML as plain values (RawMap, RawList, scalars, Expr), before any template."""
    problem = _old_dialect(text, source)
    try:
        loader, node = compose_node(text, source=source)
    except ConfigError as error:
        if problem is not None and _statements_break_it(text, error):
            raise problem from None  # the old dialect is not YAML: say what to change, not why it fails
        raise
    try:
        if node is None:
            return None
        return _Builder(loader, source).build(node, [])
    except yaml.YAMLError as exc:
        raise syntax_error(exc, source) from None
    finally:
        loader.dispose()
