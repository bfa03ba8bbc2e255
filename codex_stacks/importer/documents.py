"""The YAML documents of a Go manifest template, found in its tree before any rendering.

The importer changes a few documents of a manifest as a whole: a Secret that upstream filled
from the agent's credentials (made by a hook here), the agent's ServiceAccount (made by the
``CodexAgent`` component here), an object that two items both define (upstream applied both and
the later won; here an object belongs to one component). A document is the run of nodes between
two ``---`` lines of the same node list; one inside an ``{{ if }}`` is found inside its branch.
Its kind, name and namespace are read from its literal text (an action there is kept as its
source), which is enough to tell what it is without rendering it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from codex_stacks.importer import gotemplate as go

_SEPARATOR_RE = re.compile(r"^---[ \t]*(?:#[^\n]*)?(?:\n|$)", re.MULTILINE)


def _is_separator(node: go.Node) -> bool:
    return isinstance(node, go.Text) and bool(_SEPARATOR_RE.fullmatch(node.text))


def split_separators(nodes: list[go.Node]) -> None:
    """Every ``---`` line becomes a text node of its own, in every node list (in place)."""
    index = 0
    while index < len(nodes):
        node = nodes[index]
        if isinstance(node, go.Text) and not _is_separator(node):
            pieces: list[go.Node] = []
            position = 0
            line = node.line
            for match in _SEPARATOR_RE.finditer(node.text):
                at_line_start = match.start() > 0 and node.text[match.start() - 1] == "\n"
                if match.start() == 0:
                    previous = nodes[index - 1] if index else None
                    at_line_start = (
                        previous is None
                        or (isinstance(previous, go.Text) and previous.text.endswith("\n"))
                        or _is_separator(previous)
                    )
                if not at_line_start:
                    continue
                if match.start() > position:
                    pieces.append(go.Text(node.text[position : match.start()], line))
                line = node.line + node.text.count("\n", 0, match.start())
                pieces.append(go.Text(match.group(0), line))
                position = match.end()
            if pieces:
                if position < len(node.text):
                    pieces.append(go.Text(node.text[position:], node.line + node.text.count("\n", 0, position)))
                nodes[index : index + 1] = pieces
                index += len(pieces)
                continue
        elif isinstance(node, go.If):
            for branch in node.branches:
                split_separators(branch.body)
            if node.otherwise is not None:
                split_separators(node.otherwise)
        elif isinstance(node, go.Range):
            split_separators(node.body)
        index += 1


def _has_separator(nodes: list[go.Node]) -> bool:
    for node in nodes:
        if _is_separator(node):
            return True
        if isinstance(node, go.If) and (
            any(_has_separator(branch.body) for branch in node.branches)
            or (node.otherwise is not None and _has_separator(node.otherwise))
        ):
            return True
    return False


@dataclass
class Document:
    """One leaf document: ``nodes[start:end]`` of its node list."""

    container: list[go.Node]
    start: int
    end: int
    line: int
    scope: tuple[go.Action, ...] = ()
    """The declarations and assignments Go runs before it in the node lists that hold it (what a
    copy of the document elsewhere needs to see the same variables)."""

    @property
    def nodes(self) -> list[go.Node]:
        return self.container[self.start : self.end]

    @property
    def text(self) -> str:
        """The document's own text, actions written as their source (nested blocks skipped)."""
        return _text(self.nodes)

    def field(self, pattern: str) -> str | None:
        """A field's literal text (up to a structure the text cannot show, written as NUL)."""
        match = re.search(pattern, self.text, re.MULTILINE)
        return match.group(1).strip().strip("\"'") if match else None

    @property
    def kind(self) -> str | None:
        return self.field(r"^kind:[ \t]*([^\n#\x00]+)")

    @property
    def name(self) -> str | None:
        return self.field(r"^metadata:[ \t]*\n(?:[ \t]+[^\n]*\n)*?[ \t]+name:[ \t]*([^\n#\x00]+)")

    @property
    def namespace(self) -> str | None:
        return self.field(r"^metadata:[ \t]*\n(?:[ \t]+[^\n]*\n)*?[ \t]+namespace:[ \t]*([^\n#\x00]+)")

    @property
    def normalized(self) -> str:
        """The document's source with layout differences removed (to tell identical copies)."""
        source = "".join(_source(node) for node in self.nodes)
        return "\n".join(line.rstrip() for line in source.strip().splitlines() if line.strip())

    def actions(self) -> Iterator[go.Action]:
        yield from _actions(self.nodes)


def _text(nodes: list[go.Node]) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, go.Text):
            parts.append(node.text)
        elif isinstance(node, go.Action):
            parts.append(node.source if not node.pipe.decl else "")
        elif isinstance(node, go.Guard | go.Pin):  # the importer's wrappers hold whole documents
            parts.append(_text(node.body))
        else:
            parts.append("\x00")
    return "".join(parts)


def _source(node: go.Node) -> str:
    if isinstance(node, go.Text):
        return node.text
    if isinstance(node, go.Action):
        return node.source
    return f"\x00{id(node)}"


def _actions(nodes: list[go.Node]) -> Iterator[go.Action]:
    for node in nodes:
        if isinstance(node, go.Action):
            yield node
        elif isinstance(node, go.If):
            for branch in node.branches:
                yield from _actions(branch.body)
            if node.otherwise is not None:
                yield from _actions(node.otherwise)
        elif isinstance(node, go.Range):
            yield from _actions(node.body)


def _declarations(nodes: list[go.Node]) -> list[go.Action]:
    return [node for node in nodes if isinstance(node, go.Action) and node.pipe.decl]


def _content(node: go.Node) -> bool:
    """Whether a node can print something: not blank text, a comment or a declaration."""
    if isinstance(node, go.Text):
        return bool(node.text.strip())
    if isinstance(node, go.Action):
        return not node.pipe.decl
    return not isinstance(node, go.Comment)


def documents(nodes: list[go.Node], scope: tuple[go.Action, ...] = ()) -> list[Document]:
    """The leaf documents of a node list (after :func:`split_separators`), each with the
    declarations before it (``scope``: those of the node lists around this one).

    An ``if`` that holds ``---`` lines holds documents of its own (found in its branches); the
    text around it, up to the separators outside it, is a document too (typically the one an
    ``{{- if … }}`` at its end continues with another)."""
    found: list[Document] = []
    start = 0
    for index in range(len(nodes) + 1):
        if index < len(nodes) and not _is_separator(nodes[index]):
            continue
        run = start
        for position in range(start, index + 1):
            node = nodes[position] if position < index else None
            if position < index and not (isinstance(node, go.If) and _has_separator([node])):
                continue
            if any(_content(item) for item in nodes[run:position]):
                line = next((item.line for item in nodes[run:position] if getattr(item, "line", 0)), 1)
                found.append(Document(nodes, run, position, line, (*scope, *_declarations(nodes[:run]))))
            if isinstance(node, go.If):
                inner = (*scope, *_declarations(nodes[:position]))
                for branch in node.branches:
                    found.extend(documents(branch.body, inner))
                if node.otherwise is not None:
                    found.extend(documents(node.otherwise, inner))
            run = position + 1
        start = index + 1
    return found


def guard(document: Document, condition: str) -> None:
    """Keep the document only when ``condition`` (Jinja) holds."""
    body = document.nodes
    document.container[document.start : document.end] = [go.Guard(condition, body, document.line)]


def remove(document: Document) -> None:
    """Drop the document and the separator that follows it (or precedes it, at the end)."""
    container = document.container
    end = document.end
    if end < len(container) and _is_separator(container[end]):
        end += 1
    elif document.start > 0 and _is_separator(container[document.start - 1]):
        document.start -= 1
    del container[document.start : end]


def prune(nodes: list[go.Node]) -> None:
    """Drop every ``if`` left with nothing but blank text in each branch (after :func:`remove`
    took the documents out of it), in place."""
    for node in nodes:
        if isinstance(node, go.If):
            for branch in node.branches:
                prune(branch.body)
            if node.otherwise is not None:
                prune(node.otherwise)
    nodes[:] = [node for node in nodes if not (isinstance(node, go.If) and _blank(node))]


def _blank(node: go.If) -> bool:
    bodies = [branch.body for branch in node.branches] + ([node.otherwise] if node.otherwise is not None else [])
    return all(isinstance(item, go.Text) and not item.text.strip() for body in bodies for item in body)
