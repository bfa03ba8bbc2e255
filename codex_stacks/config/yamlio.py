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
_YAML_TAG = "tag:yaml.org,2002:"
_MERGE = _YAML_TAG + "merge"


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
    """Safe loader whose mappings refuse a key given twice (YAML silently keeps the last)."""

    source: Path | None = None
    budget: _Budget
    plain: bool = False
    """The text makes a tree (no anchor) whose nodes are within the limit already."""

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

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A scalar its tag cannot make is a YAML error on its line: PyYAML's constructors raise
        plain Python errors for ``2001-99-99`` (a timestamp by its form), ``!!int x`` or
        ``!!bool maybe``."""
        try:
            return super().construct_object(node, deep=deep)
        except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError):
            tag = str(node.tag).replace(_YAML_TAG, "!!", 1)[:60]
            raise yaml.constructor.ConstructorError(
                problem=f"not a valid {tag} (quote the value to keep it as text)", problem_mark=node.start_mark
            ) from None


_StrictLoader.add_constructor(
    "tag:yaml.org,2002:map",
    lambda loader, node: loader.construct_mapping(node, deep=True),
)


class _CountingLoader(_StrictLoader):
    """The strict loader, counting every node libyaml's composer resolves: a file of millions of
    tiny nodes stops at the limit instead of being composed whole (about 4 µs and 300 bytes a
    node). Only for texts long enough to hold that many nodes: the hook costs a call per node."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # libyaml calls this for every node without an explicit tag: the one hook into the C
        # composer (explicitly tagged nodes are counted by the walk after composing)
        self.budget.composed += 1
        if self.budget.composed > self.budget.limits.yaml_nodes:
            raise _TooManyNodesError
        return super().resolve(kind, value, implicit)


_BYTES_PER_NODE = 1
"""The fewest characters a new node takes (``{a,b}`` is a mapping of two keys and two nulls): a
shorter text cannot hold more nodes than the limit, aliases apart (the walk counts those)."""


def _loader(text: str, source: Path | None, limits: Limits | None = None) -> _StrictLoader:
    budget = _Budget(limits or current())
    loader_class = _CountingLoader if len(text) > _BYTES_PER_NODE * budget.limits.yaml_nodes else _StrictLoader
    loader = loader_class(text)
    loader.source = source
    loader.budget = budget
    # no anchor: no alias; and either too short to hold more nodes than the limit, or counted
    # whole by the composer (no '!': no explicitly tagged node escapes the count)
    loader.plain = "&" not in text and (len(text) <= budget.limits.yaml_nodes or "!" not in text)
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
    """Refuse ``root`` unless it fits the budget: :func:`_measured` in general, the cheaper
    :func:`_nesting` for the usual file, whose text has no anchor (so no alias: a tree) and whose
    nodes are known to be within the limit (see :func:`_loader`)."""
    if loader.plain and not check_keys:
        _nesting(loader, root)
    else:
        _measured(loader, root, check_keys=check_keys)


def _nesting(loader: _StrictLoader, root: yaml.Node) -> None:
    """Refuse a tree nested deeper than the limit (its size is bounded by its text already)."""
    max_depth, scalar, mapping = loader.budget.limits.yaml_depth, yaml.ScalarNode, yaml.MappingNode

    def descend(node: yaml.Node, depth: int) -> None:
        if depth > max_depth:
            _fail(f"the YAML nests deeper than {max_depth} levels", node, loader.source, _hint(YAML_DEPTH_VAR))
        if node.__class__ is mapping:
            for key, value in node.value:
                if value.__class__ is not scalar:
                    descend(value, depth + 1)
                if key.__class__ is not scalar:
                    descend(key, depth + 1)
        else:
            for child in node.value:
                if child.__class__ is not scalar:
                    descend(child, depth + 1)

    if root.__class__ is not scalar:
        try:
            descend(root, 1)
        except RecursionError:  # a depth limit raised past what Python's stack takes
            _fail(_past_the_stack(max_depth), root, loader.source, _hint(YAML_DEPTH_VAR))


def _measured(loader: _StrictLoader, root: yaml.Node, *, check_keys: bool) -> None:
    """Refuse ``root`` unless its expansion fits the budget (see the module's docstring).

    One depth-first pass over the composed graph, recursing only into collections and never
    deeper than the depth limit; the size and height of every collection are kept, so a node
    reached again through an alias costs one lookup however much it expands to.
    """
    budget, source = loader.budget, loader.source
    max_nodes, max_depth = budget.limits.yaml_nodes, budget.limits.yaml_depth
    scalar, mapping = yaml.ScalarNode, yaml.MappingNode
    known: dict[int, tuple[int, int]] = {}  # id(collection) -> (nodes, levels of collections in it)
    on_path: set[int] = set()

    def too_deep(node: yaml.Node) -> NoReturn:
        _fail(f"the YAML nests deeper than {max_depth} levels", node, source, _hint(YAML_DEPTH_VAR))

    def too_many(node: yaml.Node) -> NoReturn:
        message = f"the YAML has more than {max_nodes} nodes once its aliases are expanded"
        _fail(message, node, source, _hint(YAML_NODES_VAR))

    def measure(node: yaml.Node, depth: int) -> tuple[int, int]:
        """(nodes, levels) of a collection first met at ``depth`` (the root is at 1). Each node
        is added to the budget once: a collection when entered, its scalars when it is done,
        an alias's whole expansion where it is met (there the budget is checked)."""
        on_path.add(id(node))
        budget.expanded += 1
        if check_keys:
            _unique_keys(loader, node)
        scalars, size, levels = 0, 1, 0
        for child in chain.from_iterable(node.value) if node.__class__ is mapping else node.value:
            if child.__class__ is scalar:
                scalars += 1
                continue
            seen = known.get(id(child))
            if seen is None:
                if id(child) in on_path:
                    _fail(
                        "a YAML alias refers to a node that contains it (a structure without end)",
                        node,
                        source,
                        "aliases may only repeat complete values",
                    )
                if depth >= max_depth:
                    too_deep(child)
                seen = measure(child, depth + 1)
            else:  # an alias (or a merge) of a finished collection: it costs what it expands to
                if depth + seen[1] > max_depth:
                    too_deep(node)
                budget.expanded += seen[0]
                if budget.expanded > max_nodes:
                    too_many(node)
            size += seen[0]
            levels = max(levels, seen[1])
        budget.expanded += scalars
        if budget.expanded > max_nodes:
            too_many(node)
        on_path.discard(id(node))
        result = (size + scalars, levels + 1)
        known[id(node)] = result
        return result

    if root.__class__ is scalar:
        budget.expanded += 1
    else:
        try:
            measure(root, 1)
        except RecursionError:  # a depth limit raised past what Python's stack takes
            _fail(_past_the_stack(max_depth), root, source, _hint(YAML_DEPTH_VAR))
    if budget.expanded > max_nodes:
        too_many(root)


def _past_the_stack(max_depth: int) -> str:
    """The file is within a depth limit set higher than Python's stack can follow: the limit is
    not what it passed, so the message does not say it nests deeper than the limit."""
    return f"the YAML nests deeper than this process can follow (the limit of {max_depth} levels is set above it)"


def _hint(variable: str) -> str:
    return f"the limit is {variable} in the environment of codexctl and pulumi"


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


def syntax_error(exc: yaml.YAMLError, source: Path | None) -> ConfigError:
    """A YAML error as one located ConfigError."""
    return _syntax_error(exc, source)


def compose_node(
    text: str, *, source: Path | None = None, limits: Limits | None = None
) -> tuple[Any, yaml.Node | None]:
    """The document's node graph, checked like every load here (bounded in nodes, aliases
    expanded, and depth; no recursive alias), and the loader that made it: the caller
    constructs values with it and disposes of it. Syntax errors become ConfigError."""
    loader = _loader(text, source, limits)
    try:
        node = loader.get_single_node()
        if node is not None:
            _bounded(loader, node)
    except _TooManyNodesError:
        loader.dispose()
        raise _too_many_nodes(text, source, loader.budget.limits) from None
    except yaml.YAMLError as exc:
        loader.dispose()
        raise _syntax_error(exc, source) from None
    except ConfigError:
        loader.dispose()
        raise
    return loader, node


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


def load_documents(text: str, *, source: Path | None = None, limits: Limits | None = None) -> Iterator[tuple[int, Any]]:
    """Yield (first line, document) for every document of a multi-document stream; the limits
    hold for the whole stream."""
    loader = _loader(text, source, limits)
    try:
        while loader.check_node():
            node = loader.get_node()  # an empty document is a null scalar, never None
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
