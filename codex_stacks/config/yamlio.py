"""YAML loading that rejects duplicate keys, stays bounded, and can point at the line of a key path.

Every document is bounded before anything is built from it (:mod:`codex_stacks.config.limits`):
at most ``yaml_nodes`` nodes per file, an alias counting as all the nodes it stands for (so a
"billion laughs" document is refused at its first line that goes over, not expanded), at most
``yaml_depth`` levels of nesting through aliases, and no alias inside the node it names (a
recursive structure would never end for anything that walks it). Counting happens twice: while
libyaml composes (every node it resolves), so a dense file stops early, and on the composed
graph, where aliases are shared nodes and are counted as what they expand to.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, NoReturn

import yaml

from codex_stacks.config.limits import YAML_DEPTH_VAR, YAML_NODES_VAR, Limits, current
from codex_stacks.errors import ConfigError, Location

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


class _TooManyNodesError(Exception):
    """Raised from inside the composer: the line is found afterwards, on the error path."""


class _Budget:
    """What one file may still use: nodes resolved while composing, and nodes after expansion."""

    __slots__ = ("composed", "expanded", "limits")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.composed = 0
        self.expanded = 0


class _StrictLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader whose mappings refuse a key given twice (YAML silently keeps the last) and
    that counts the nodes it composes."""

    source: Path | None = None
    budget: _Budget

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # libyaml's composer calls this for every node without an explicit tag: the one hook
        # into the C composer, so a file of millions of tiny nodes stops at the limit
        self.budget.composed += 1
        if self.budget.composed > self.budget.limits.yaml_nodes:
            raise _TooManyNodesError
        return super().resolve(kind, value, implicit)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
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


def _loader(text: str, source: Path | None, limits: Limits | None = None) -> _StrictLoader:
    loader = _StrictLoader(text)
    loader.source = source
    loader.budget = _Budget(limits or current())
    return loader


def _syntax_error(exc: yaml.YAMLError, source: Path | None) -> ConfigError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    return ConfigError(f"invalid YAML: {problem}", location=Location(file=source, line=line))


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _fail(message: str, node: yaml.Node, source: Path | None, hint: str) -> NoReturn:
    raise ConfigError(message, location=Location(file=source, line=_line(node)), hint=hint)


def _too_many_nodes(text: str, source: Path | None, limits: Limits) -> ConfigError:
    """The composer stopped at the limit; the line of the first node over it, from the events."""
    line = None
    count = 0
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.ScalarEvent | yaml.SequenceStartEvent | yaml.MappingStartEvent):
                count += 1
                if count > limits.yaml_nodes:
                    line = int(event.start_mark.line) + 1 if event.start_mark is not None else None
                    break
    except yaml.YAMLError:
        line = None
    return ConfigError(
        f"the YAML has more than {limits.yaml_nodes} nodes",
        location=Location(file=source, line=line),
        hint=f"the limit is {YAML_NODES_VAR} in the environment of codexctl and pulumi",
    )


def _bounded(loader: _StrictLoader, root: yaml.Node, *, check_keys: bool = False) -> None:
    """Refuse ``root`` unless its expansion fits the budget (see the module's docstring).

    One pass over the composed graph, in order, without recursion; the size and depth of every
    collection are kept, so a node reached again through an alias costs one lookup.
    """
    budget, source = loader.budget, loader.source
    max_nodes, max_depth = budget.limits.yaml_nodes, budget.limits.yaml_depth
    nodes_hint = f"the limit is {YAML_NODES_VAR} in the environment of codexctl and pulumi"
    depth_hint = f"the limit is {YAML_DEPTH_VAR} in the environment of codexctl and pulumi"
    scalar = yaml.ScalarNode
    sizes: dict[int, tuple[int, int]] = {}  # id(collection) -> (nodes, depth) once finished
    on_path: set[int] = set()
    if type(root) is scalar:
        budget.expanded += 1
        return
    if check_keys:
        _unique_keys(loader, root)
    # a frame: [collection, its children, nodes so far, levels of collections below it]
    frames: list[list[Any]] = [[root, _children(root), 1, 0]]
    on_path.add(id(root))
    total = budget.expanded
    while frames:
        frame = frames[-1]
        child = next(frame[1], None)
        if child is None:
            frames.pop()
            node, size, depth = frame[0], frame[2], frame[3] + 1
            on_path.discard(id(node))
            sizes[id(node)] = (size, depth)
            if frames:
                parent = frames[-1]
                parent[2] += size
                parent[3] = max(parent[3], depth)
            continue
        if type(child) is scalar:
            frame[2] += 1
            total += 1
        else:
            known = sizes.get(id(child))
            if known is not None:  # an alias (or a merge) of a finished collection
                frame[2] += known[0]
                frame[3] = max(frame[3], known[1])
                total += known[0]
                if len(frames) + known[1] > max_depth:
                    _fail(f"the YAML nests deeper than {max_depth} levels", frame[0], source, depth_hint)
            elif id(child) in on_path:
                _fail(
                    "a YAML alias refers to a node that contains it (a structure without end)",
                    frame[0],
                    source,
                    "aliases may only repeat complete values",
                )
            else:
                if len(frames) >= max_depth:
                    _fail(f"the YAML nests deeper than {max_depth} levels", child, source, depth_hint)
                if check_keys:
                    _unique_keys(loader, child)
                total += 1
                on_path.add(id(child))
                frames.append([child, _children(child), 1, 0])
        if total > max_nodes:
            _fail(
                f"the YAML has more than {max_nodes} nodes once its aliases are expanded",
                frame[0],
                source,
                nodes_hint,
            )
    budget.expanded = total


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return chain.from_iterable(node.value)
    return iter(node.value)


def _unique_keys(loader: _StrictLoader, node: yaml.Node) -> None:
    """A mapping node's scalar keys, each given once (what :meth:`construct_mapping` refuses)."""
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if type(key_node) is not yaml.ScalarNode or key_node.tag == _MERGE:
            continue
        key = loader.construct_object(key_node)
        if isinstance(key, str | int | float | bool):
            if key in seen:
                raise ConfigError(
                    f"duplicate key {key!r} (first given on line {seen[key]})",
                    location=Location(file=loader.source, line=_line(key_node)),
                    hint="remove one of the two entries",
                )
            seen[key] = _line(key_node)


def compose_bounded(text: str, *, source: Path | None = None, limits: Limits | None = None) -> yaml.Node | None:
    """The node graph of one YAML document (None when empty), checked like every load here:
    bounded in nodes (aliases expanded) and depth, no recursive alias, no key given twice.

    For callers that walk the nodes themselves (and keep their marks for line numbers).
    Aliases stay shared nodes, so the graph is small even when its expansion is not.
    """
    return _compose(text, source=source, limits=limits, check_keys=True)


def _compose(text: str, *, source: Path | None, limits: Limits | None, check_keys: bool) -> yaml.Node | None:
    loader = _loader(text, source, limits)
    try:
        node = loader.get_single_node()
        if node is not None:
            _bounded(loader, node, check_keys=check_keys)
        return node  # type: ignore[no-any-return]
    except _TooManyNodesError:
        raise _too_many_nodes(text, source, loader.budget.limits) from None
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None
    finally:
        loader.dispose()


def load_document(text: str, *, source: Path | None = None, limits: Limits | None = None) -> Any:
    """Load one YAML document; syntax errors, duplicate keys and oversize become ConfigError."""
    loader = _loader(text, source, limits)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _bounded(loader, node)
        return loader.construct_document(node)
    except _TooManyNodesError:
        raise _too_many_nodes(text, source, loader.budget.limits) from None
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None
    finally:
        loader.dispose()


def load_top_level(text: str, skip: frozenset[str], *, source: Path | None = None, limits: Limits | None = None) -> Any:
    """Like :func:`load_document`, but without the values of the top-level keys in ``skip``.

    The first template pass needs a handful of keys of a file that may list a thousand services;
    composing the whole document is cheap (C), constructing all of it in Python is not.
    """
    loader = _loader(text, source, limits)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _bounded(loader, node)
        if not isinstance(node, yaml.MappingNode):
            return loader.construct_document(node)
        loader.flatten_mapping(node)
        node.value = [(k, v) for k, v in node.value if not isinstance(k, yaml.ScalarNode) or k.value not in skip]
        return loader.construct_document(node)
    except _TooManyNodesError:
        raise _too_many_nodes(text, source, loader.budget.limits) from None
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None
    finally:
        loader.dispose()


def load_documents(text: str, *, source: Path | None = None, limits: Limits | None = None) -> Iterator[tuple[int, Any]]:
    """Yield (first line, document) for every document of a multi-document stream; the limits
    hold for the whole stream."""
    loader = _loader(text, source, limits)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            _bounded(loader, node)
            yield _line(node), loader.construct_document(node)
    except _TooManyNodesError:
        raise _too_many_nodes(text, source, loader.budget.limits) from None
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None
    finally:
        loader.dispose()


def line_of(text: str, path: Sequence[str | int]) -> int | None:
    """Line (1-based) of the deepest node of ``path`` that exists in the document.

    Only called on the error path, so it re-parses instead of keeping marks for every node.
    """
    try:
        node = _compose(text, source=None, limits=None, check_keys=False)
    except ConfigError:
        return None
    best: int | None = None
    for part in path:
        if node is None:
            break
        best = _line(node)
        if isinstance(node, yaml.MappingNode):
            found = None
            for key_node, value_node in node.value:
                if key_node.value == part:
                    best = _line(key_node)
                    found = value_node
                    break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
    if node is not None:
        best = _line(node) if best is None else best
    return best
