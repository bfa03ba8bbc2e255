"""YAML loading that rejects duplicate keys and can point at the line of a key path."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from codex_stacks.errors import ConfigError, Location

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader whose mappings refuse a key given twice (YAML silently keeps the last)."""

    source: Path | None = None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) and key in seen:
                raise ConfigError(
                    f"duplicate key {key!r} (first given on line {seen[key]})",
                    location=Location(file=self.source, line=line),
                    hint="remove one of the two entries",
                )
            if isinstance(key, str | int | float | bool):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_StrictLoader.add_constructor(
    "tag:yaml.org,2002:map",
    lambda loader, node: loader.construct_mapping(node, deep=True),
)


def _loader(text: str, source: Path | None) -> _StrictLoader:
    loader = _StrictLoader(text)
    loader.source = source
    return loader


def _syntax_error(exc: yaml.YAMLError, source: Path | None) -> ConfigError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    return ConfigError(f"invalid YAML: {problem}", location=Location(file=source, line=line))


def syntax_error(exc: yaml.YAMLError, source: Path | None) -> ConfigError:
    """A YAML error as one located ConfigError."""
    return _syntax_error(exc, source)


def compose_node(text: str, *, source: Path | None = None) -> tuple[Any, yaml.Node | None]:
    """The document's node tree and the loader that made it (the caller constructs values with
    it and disposes of it); syntax errors become ConfigError."""
    loader = _loader(text, source)
    try:
        return loader, loader.get_single_node()
    except yaml.YAMLError as exc:
        loader.dispose()
        raise _syntax_error(exc, source) from None


def load_document(text: str, *, source: Path | None = None) -> Any:
    """Load one YAML document; syntax errors and duplicate keys become ConfigError."""
    loader = _loader(text, source)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None
    finally:
        loader.dispose()


def load_documents(text: str, *, source: Path | None = None) -> Iterator[tuple[int, Any]]:
    """Yield (first line, document) for every document of a multi-document stream."""
    loader = _loader(text, source)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            yield node.start_mark.line + 1, loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None
    finally:
        loader.dispose()


def line_of(text: str, path: Sequence[str | int]) -> int | None:
    """Line (1-based) of the deepest node of ``path`` that exists in the document.

    Only called on the error path, so it re-parses instead of keeping marks for every node.
    """
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_BaseLoader)
    except yaml.YAMLError:
        return None
    best: int | None = None
    for part in path:
        if node is None:
            break
        best = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            found = None
            for key_node, value_node in node.value:
                if key_node.value == part:
                    best = key_node.start_mark.line + 1
                    found = value_node
                    break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
    if node is not None:
        best = node.start_mark.line + 1 if best is None else best
    return best
