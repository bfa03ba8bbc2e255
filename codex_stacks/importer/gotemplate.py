"""A parser for Go's ``text/template`` language, as upstream codexctl writes its templates.

It follows the grammar of Go's ``text/template/parse`` package: ``{{ … }}`` actions with trim
markers (``{{-`` / ``-}}`` remove the whitespace next to them, newlines included), comments
``{{/* … */}}``, pipelines (``a | f b``), variable declarations (``$x := …``) and assignments
(``$x = …``), ``if``/``else if``/``else``, ``with``/``else with``, ``range`` (with one or two
variables), ``define``/``template``/``block``, ``break``/``continue``, and the operands: fields
(``.A.B``), variables (``$x.A``), strings (interpreted and raw), characters, numbers, booleans,
``nil`` and parenthesised pipelines. Trim markers are applied while parsing, as Go does, so the
text nodes hold exactly the text Go would print.

The parser never executes anything; :mod:`codex_stacks.importer.convert` turns the tree into
Jinja2. Every node keeps the line it starts on, so what cannot be converted is reported with
its file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SPACE = " \t\r\n"
MAX_TEMPLATE = 4_000_000
"""Characters in one template: far above any manifest; a bigger input is refused, not parsed."""
MAX_DEPTH = 200
"""Nesting of control structures and parentheses."""


class GoTemplateError(Exception):
    """The template is not valid Go template syntax (Go's parser would refuse it too)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# ---- the tree -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """``.A.B`` on the dot (``names`` empty: the dot itself)."""

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Variable:
    """``$x.A.B`` (``name`` is ``$`` for the root)."""

    name: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Identifier:
    """A function name (``printf``, ``envOr``…)."""

    name: str


@dataclass(frozen=True, slots=True)
class String:
    value: str


@dataclass(frozen=True, slots=True)
class Number:
    text: str
    value: int | float
    is_char: bool = False


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool


@dataclass(frozen=True, slots=True)
class Nil:
    pass


@dataclass(frozen=True, slots=True)
class Chain:
    """``(pipeline).A.B``: fields of a parenthesised pipeline's value."""

    node: Pipe
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Command:
    """One command of a pipeline: an operand, or a function (or method) and its arguments."""

    args: tuple[Operand, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Pipe:
    """``[$a[, $b] :=|=] command | command …``."""

    decl: tuple[str, ...]
    is_assign: bool
    commands: tuple[Command, ...]
    line: int


Operand = Field | Variable | Identifier | String | Number | Bool | Nil | Chain | Pipe


@dataclass(slots=True)
class Text:
    text: str
    line: int


@dataclass(slots=True)
class Comment:
    text: str
    line: int


@dataclass(slots=True)
class Action:
    """``{{ pipeline }}``: prints the value, unless the pipeline declares or assigns."""

    pipe: Pipe
    line: int
    source: str = ""


@dataclass(slots=True)
class Branch:
    pipe: Pipe
    body: list[Node]
    line: int


@dataclass(slots=True)
class If:
    """``if``/``else if``… or ``with``/``else with``…; ``otherwise`` is the last ``else``."""

    kind: str  # "if" | "with"
    branches: list[Branch]
    otherwise: list[Node] | None
    line: int


@dataclass(slots=True)
class Range:
    pipe: Pipe
    body: list[Node]
    otherwise: list[Node] | None
    line: int


@dataclass(slots=True)
class TemplateCall:
    """``{{ template "name" pipeline }}`` (also the call a ``block`` makes)."""

    name: str
    pipe: Pipe | None
    line: int


@dataclass(slots=True)
class LoopControl:
    word: str  # "break" | "continue"
    line: int


@dataclass(slots=True)
class Guard:
    """Nodes kept only when a Jinja condition holds: added by the importer, never parsed from Go."""

    condition: str
    body: list[Node]
    line: int


@dataclass(slots=True)
class Pin:
    """Nodes rendered with some of the stack's names bound to other values (Jinja ``with``, one
    level per list, each level seeing the one before): added by the importer, never parsed from Go."""

    levels: list[list[tuple[str, str]]]
    """``(name, Jinja expression)`` pairs per level."""
    body: list[Node]
    line: int


Node = Text | Comment | Action | If | Range | TemplateCall | LoopControl | Guard | Pin


@dataclass(slots=True)
class Template:
    """A parsed file: its top-level nodes and the templates it defines (``define``/``block``)."""

    nodes: list[Node]
    defines: dict[str, list[Node]] = field(default_factory=dict)
    define_lines: dict[str, int] = field(default_factory=dict)


# ---- lexing of one action ---------------------------------------------------------------------

_NUMBER_RE = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)"
)
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"', "'": "'"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # field var ident string rawstring char number ( ) | := = , space
    text: str
    line: int


def _unquote(body: str, quote: str, line: int) -> str:
    """The value of a Go interpreted string or character literal body (between the quotes)."""
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        index += 1
        if index >= len(body):
            raise GoTemplateError("unterminated escape in quoted string", line)
        code = body[index]
        if code in _ESCAPES and (code != "'" or quote == "'") and (code != '"' or quote == '"'):
            out.append(_ESCAPES[code])
            index += 1
        elif code in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[code]
            digits = body[index + 1 : index + 1 + width]
            if len(digits) != width or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise GoTemplateError(f"bad \\{code} escape in quoted string", line)
            value = int(digits, 16)
            if code == "x":
                out.append(chr(value))  # a byte; only ASCII is the same text in Go and here
            else:
                out.append(chr(value))
            index += 1 + width
        elif code in "01234567":
            digits = body[index : index + 3]
            if not re.fullmatch(r"[0-7]{3}", digits):
                raise GoTemplateError("bad octal escape in quoted string", line)
            out.append(chr(int(digits, 8)))
            index += 3
        else:
            raise GoTemplateError(f"unknown escape sequence \\{code}", line)
    return "".join(out)


def _lex_action(source: str, line: int) -> list[_Token]:
    """Tokens of one action's inside (between the delimiters and trim markers)."""
    tokens: list[_Token] = []
    index = 0
    depth = 0
    while index < len(source):
        char = source[index]
        here = line + source.count("\n", 0, index)
        if char in _SPACE:
            start = index
            while index < len(source) and source[index] in _SPACE:
                index += 1
            tokens.append(_Token("space", source[start:index], here))
            continue
        if source.startswith(":=", index):
            tokens.append(_Token(":=", ":=", here))
            index += 2
            continue
        if char in "()|=,":
            if char == "(":
                depth += 1
                if depth > MAX_DEPTH:
                    raise GoTemplateError("parentheses nested too deeply", here)
            tokens.append(_Token(char, char, here))
            index += 1
            continue
        if char == '"':
            end = index + 1
            while end < len(source) and source[end] != '"':
                if source[end] == "\n":
                    raise GoTemplateError("unterminated quoted string", here)
                end += 2 if source[end] == "\\" else 1
            if end >= len(source):
                raise GoTemplateError("unterminated quoted string", here)
            tokens.append(_Token("string", _unquote(source[index + 1 : end], '"', here), here))
            index = end + 1
            continue
        if char == "`":
            end = source.find("`", index + 1)
            if end < 0:
                raise GoTemplateError("unterminated raw quoted string", here)
            tokens.append(_Token("string", source[index + 1 : end].replace("\r", ""), here))
            index = end + 1
            continue
        if char == "'":
            end = index + 1
            while end < len(source) and source[end] != "'":
                end += 2 if source[end] == "\\" else 1
            if end >= len(source):
                raise GoTemplateError("unterminated character constant", here)
            value = _unquote(source[index + 1 : end], "'", here)
            if len(value) != 1:
                raise GoTemplateError("malformed character constant", here)
            tokens.append(_Token("char", value, here))
            index = end + 1
            continue
        if char == "$":
            match = _IDENT_RE.match(source, index + 1)
            name = "$" + (match.group(0) if match else "")
            index += len(name)
            tokens.append(_Token("var", name, here))
            continue
        if char == ".":
            match = _IDENT_RE.match(source, index + 1)
            if match:
                tokens.append(_Token("field", match.group(0), here))
                index = match.end()
                continue
            if index + 1 < len(source) and source[index + 1].isdigit():
                number = _NUMBER_RE.match(source, index)
                assert number is not None
                tokens.append(_Token("number", number.group(0), here))
                index = number.end()
                continue
            tokens.append(_Token("dot", ".", here))
            index += 1
            continue
        if char.isdigit() or (char in "+-" and index + 1 < len(source) and source[index + 1] in "0123456789."):
            number = _NUMBER_RE.match(source, index)
            if number is None or not number.group(0):
                raise GoTemplateError(f"bad number syntax near {source[index : index + 10]!r}", here)
            end = number.end()
            if end < len(source) and source[end] == "i":
                raise GoTemplateError("complex numbers are not supported", here)
            tokens.append(_Token("number", number.group(0), here))
            index = end
            continue
        match = _IDENT_RE.match(source, index)
        if match:
            tokens.append(_Token("ident", match.group(0), here))
            index = match.end()
            continue
        raise GoTemplateError(f"unexpected {char!r} in action", here)
    return tokens


def _number(text: str, line: int) -> Number:
    clean = text.replace("_", "")
    try:
        if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", clean):
            return Number(text, int(clean, 16))
        if re.fullmatch(r"[+-]?0[oO][0-7]+", clean):
            return Number(text, int(clean, 8))
        if re.fullmatch(r"[+-]?0[bB][01]+", clean):
            return Number(text, int(clean, 2))
        if re.fullmatch(r"[+-]?0[0-7]+", clean):
            return Number(text, int(clean, 8))
        if re.fullmatch(r"[+-]?\d+", clean):
            return Number(text, int(clean))
        return Number(text, float(clean))
    except ValueError:
        raise GoTemplateError(f"bad number syntax: {text!r}", line) from None


class _ActionParser:
    """Pipelines and operands of one action (Go's ``parse.Tree.pipeline`` and ``operand``)."""

    def __init__(self, tokens: list[_Token], line: int) -> None:
        self.tokens = tokens
        self.pos = 0
        self.line = line

    def peek(self, *, skip_space: bool = True) -> _Token | None:
        pos = self.pos
        while skip_space and pos < len(self.tokens) and self.tokens[pos].kind == "space":
            pos += 1
        return self.tokens[pos] if pos < len(self.tokens) else None

    def next(self) -> _Token | None:
        while self.pos < len(self.tokens) and self.tokens[self.pos].kind == "space":
            self.pos += 1
        if self.pos >= len(self.tokens):
            return None
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at_end(self) -> bool:
        return self.peek() is None

    def keyword(self) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "ident" and token.text in _KEYWORDS:
            return token.text
        return None

    def pipeline(self, *, allow_decl: bool, ranged: bool = False, end: str | None = None) -> Pipe:
        start = self.pos
        decl: list[str] = []
        is_assign = False
        if allow_decl:
            first = self.next()
            if first is not None and first.kind == "var":
                second = self.next()
                if second is not None and second.kind in (":=", "="):
                    decl = [first.text]
                    is_assign = second.kind == "="
                elif second is not None and second.kind == "," and ranged:
                    third = self.next()
                    fourth = self.next()
                    if third is None or third.kind != "var" or fourth is None or fourth.kind not in (":=", "="):
                        raise GoTemplateError("range can only initialize variables as $k, $v :=", self.line)
                    decl = [first.text, third.text]
                    is_assign = fourth.kind == "="
                else:
                    self.pos = start
            else:
                self.pos = start
        commands: list[Command] = []
        while True:
            token = self.peek()
            if token is None or (end is not None and token.kind == end):
                break
            commands.append(self.command())
            token = self.peek()
            if token is not None and token.kind == "|":
                self.next()
                continue
            break
        if not commands:
            raise GoTemplateError("missing value for command", self.line)
        return Pipe(decl=tuple(decl), is_assign=is_assign, commands=tuple(commands), line=self.line)

    def command(self) -> Command:
        args: list[Operand] = []
        while True:
            token = self.peek(skip_space=False)
            if token is None or token.kind in ("|", ")"):
                break
            if token.kind == "space":
                self.pos += 1
                continue
            args.append(self.operand())
            token = self.peek(skip_space=False)
            if token is not None and token.kind not in ("space", "|", ")"):
                raise GoTemplateError(f"unexpected {token.text!r} in operand", token.line)
        if not args:
            raise GoTemplateError("empty command", self.line)
        return Command(args=tuple(args), line=self.line)

    def operand(self) -> Operand:
        token = self.next()
        assert token is not None
        node: Operand
        if token.kind == "field":
            names = [token.text]
            names.extend(self._field_chain())
            return Field(tuple(names))
        if token.kind == "dot":
            following = self.peek(skip_space=False)
            if following is not None and following.kind == "field":
                raise GoTemplateError("unexpected . after term", token.line)
            return Field(())
        if token.kind == "var":
            return Variable(token.text, tuple(self._field_chain()))
        if token.kind == "ident":
            if token.text in ("true", "false"):
                node = Bool(token.text == "true")
            elif token.text == "nil":
                node = Nil()
            elif token.text in _KEYWORDS:
                raise GoTemplateError(f"unexpected keyword {token.text!r} in operand", token.line)
            else:
                node = Identifier(token.text)
            chain = self._field_chain()
            if chain:
                raise GoTemplateError(f"unexpected field after {token.text}", token.line)
            return node
        if token.kind == "string":
            return String(token.text)
        if token.kind == "char":
            return Number(repr(token.text), ord(token.text), is_char=True)
        if token.kind == "number":
            return _number(token.text, token.line)
        if token.kind == "(":
            inner = self.pipeline(allow_decl=True, end=")")
            closing = self.next()
            if closing is None or closing.kind != ")":
                raise GoTemplateError("unclosed left paren", token.line)
            chain = self._field_chain()
            return Chain(inner, tuple(chain)) if chain else inner
        raise GoTemplateError(f"unexpected {token.text!r} in operand", token.line)

    def _field_chain(self) -> list[str]:
        names: list[str] = []
        while True:
            token = self.peek(skip_space=False)
            if token is None or token.kind != "field":
                return names
            self.pos += 1
            names.append(token.text)


_KEYWORDS = frozenset({"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"})

# ---- the template ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """One lexed piece of the file: text, a comment, or an action's tokens."""

    kind: str  # text | comment | action
    text: str
    line: int
    tokens: list[_Token] = field(default_factory=list)


def _split(source: str) -> list[_Item]:
    """Text and actions, with trim markers applied to the neighbouring text (as Go's lexer)."""
    items: list[_Item] = []
    index = 0
    line = 1
    trim_next = False
    while True:
        start = source.find("{{", index)
        text = source[index:] if start < 0 else source[index:start]
        action_line = line + text.count("\n")
        left_trim = start >= 0 and len(source) > start + 3 and source[start + 2] == "-" and source[start + 3] in _SPACE
        shown = text
        if trim_next:
            shown = shown.lstrip(_SPACE)
        if left_trim:
            shown = shown.rstrip(_SPACE)
        if shown:
            items.append(_Item("text", shown, line))
        line = action_line
        if start < 0:
            break
        inner_start = start + (4 if left_trim else 2)
        if source.startswith("/*", inner_start):
            close = source.find("*/", inner_start + 2)
            if close < 0:
                raise GoTemplateError("unclosed comment", line)
            after = close + 2
            right_trim = source.startswith(" -}}", after) or (
                len(source) > after + 3 and source[after] in _SPACE and source.startswith("-}}", after + 1)
            )
            end_delim = after + (4 if right_trim else 0)
            if not right_trim:
                if not source.startswith("}}", after):
                    raise GoTemplateError("comment ends before closing delimiter", line)
                end_delim = after + 2
            items.append(_Item("comment", source[inner_start + 2 : close], line))
            line += source.count("\n", start, end_delim)
            index = end_delim
            trim_next = right_trim
            continue
        close = _find_close(source, inner_start, line)
        right_trim = close - 2 >= inner_start - 1 and source[close - 1] == "-" and source[close - 2] in _SPACE
        inner_end = close - 2 if right_trim else close
        inner = source[inner_start:inner_end]
        tokens = _lex_action(inner, line)
        items.append(_Item("action", source[start : close + 2], line, tokens))
        line += source.count("\n", start, close + 2)
        index = close + 2
        trim_next = right_trim
    return items


def _find_close(source: str, start: int, line: int) -> int:
    """Index of the ``}}`` that ends the action starting at ``start`` (strings may hold braces)."""
    index = start
    while index < len(source):
        char = source[index]
        if source.startswith("}}", index):
            return index
        if char == '"':
            end = index + 1
            while end < len(source) and source[end] not in '"\n':
                end += 2 if source[end] == "\\" else 1
            index = end + 1
            continue
        if char == "`":
            end = source.find("`", index + 1)
            if end < 0:
                raise GoTemplateError("unterminated raw quoted string", line)
            index = end + 1
            continue
        if char == "'":
            end = index + 1
            while end < len(source) and source[end] not in "'\n":
                end += 2 if source[end] == "\\" else 1
            index = end + 1
            continue
        index += 1
    raise GoTemplateError("unclosed action", line)


class _TreeParser:
    def __init__(self, items: list[_Item]) -> None:
        self.items = items
        self.pos = 0
        self.template = Template(nodes=[])
        self._stop = _ActionParser([], 0)

    def parse(self) -> Template:
        nodes, stop, line = self.list_until(depth=0)
        if stop is not None:
            raise GoTemplateError(f"unexpected {{{{{stop}}}}}", line)
        self.template.nodes = nodes
        return self.template

    def list_until(self, *, depth: int) -> tuple[list[Node], str | None, int]:
        """Nodes up to an ``end``/``else`` (returned as the stop word, with the parser at its tokens)."""
        if depth > MAX_DEPTH:
            raise GoTemplateError("control structures nested too deeply", self.items[self.pos - 1].line)
        nodes: list[Node] = []
        while self.pos < len(self.items):
            item = self.items[self.pos]
            self.pos += 1
            if item.kind == "text":
                nodes.append(Text(item.text, item.line))
                continue
            if item.kind == "comment":
                nodes.append(Comment(item.text, item.line))
                continue
            parser = _ActionParser(item.tokens, item.line)
            word = parser.keyword()
            if word is None:
                pipe = parser.pipeline(allow_decl=True)
                if not parser.at_end():
                    raise GoTemplateError("unexpected tokens at the end of the action", item.line)
                nodes.append(Action(pipe, item.line, item.text))
                continue
            parser.next()
            if word in ("end", "else"):
                self._stop = parser
                return nodes, word, item.line
            if word in ("if", "with"):
                nodes.append(self.conditional(word, parser, item.line, depth))
            elif word == "range":
                nodes.append(self.range_(parser, item.line, depth))
            elif word in ("break", "continue"):
                if not parser.at_end():
                    raise GoTemplateError(f"unexpected tokens after {word}", item.line)
                nodes.append(LoopControl(word, item.line))
            elif word == "template":
                nodes.append(self.template_call(parser, item.line))
            elif word == "define":
                name = self._name(parser, item.line, "define")
                body, stop, line = self.list_until(depth=depth + 1)
                if stop != "end":
                    raise GoTemplateError("define needs {{end}}", line)
                self._expect_end(line)
                if name in self.template.defines:
                    raise GoTemplateError(f"template {name!r} defined twice", item.line)
                self.template.defines[name] = body
                self.template.define_lines[name] = item.line
            elif word == "block":
                name = self._name(parser, item.line, "block")
                data = None if parser.at_end() else parser.pipeline(allow_decl=False)
                body, stop, line = self.list_until(depth=depth + 1)
                if stop != "end":
                    raise GoTemplateError("block needs {{end}}", line)
                self._expect_end(line)
                self.template.defines.setdefault(name, body)
                self.template.define_lines.setdefault(name, item.line)
                nodes.append(TemplateCall(name, data, item.line))
        return nodes, None, self.items[-1].line if self.items else 1

    def _expect_end(self, line: int) -> None:
        if not self._stop.at_end():
            raise GoTemplateError("unexpected tokens after end", line)

    @staticmethod
    def _name(parser: _ActionParser, line: int, word: str) -> str:
        token = parser.next()
        if token is None or token.kind != "string":
            raise GoTemplateError(f"{word} needs a quoted template name", line)
        return token.text

    def template_call(self, parser: _ActionParser, line: int) -> TemplateCall:
        name = self._name(parser, line, "template")
        pipe = None if parser.at_end() else parser.pipeline(allow_decl=False)
        return TemplateCall(name, pipe, line)

    def conditional(self, word: str, parser: _ActionParser, line: int, depth: int) -> If:
        branches: list[Branch] = []
        pipe = parser.pipeline(allow_decl=True)
        otherwise: list[Node] | None = None
        while True:
            body, stop, stop_line = self.list_until(depth=depth + 1)
            branches.append(Branch(pipe, body, line))
            if stop is None:
                raise GoTemplateError(f"unexpected EOF: {word} at line {line} has no {{{{end}}}}", stop_line)
            if stop == "end":
                self._expect_end(stop_line)
                break
            following = self._stop
            chained = following.keyword()
            if chained == word:
                following.next()
                pipe = following.pipeline(allow_decl=True)
                line = stop_line
                continue
            if not following.at_end():
                raise GoTemplateError("unexpected tokens after else", stop_line)
            otherwise, stop, stop_line = self.list_until(depth=depth + 1)
            if stop != "end":
                raise GoTemplateError(f"{word}'s else needs {{{{end}}}}", stop_line)
            self._expect_end(stop_line)
            break
        return If(word, branches, otherwise, branches[0].line)

    def range_(self, parser: _ActionParser, line: int, depth: int) -> Range:
        pipe = parser.pipeline(allow_decl=True, ranged=True)
        body, stop, stop_line = self.list_until(depth=depth + 1)
        otherwise: list[Node] | None = None
        if stop is None:
            raise GoTemplateError(f"unexpected EOF: range at line {line} has no {{{{end}}}}", stop_line)
        if stop == "else":
            if not self._stop.at_end():
                raise GoTemplateError("unexpected tokens after else", stop_line)
            otherwise, stop, stop_line = self.list_until(depth=depth + 1)
            if stop != "end":
                raise GoTemplateError("range's else needs {{end}}", stop_line)
        self._expect_end(stop_line)
        return Range(pipe, body, otherwise, line)


def parse(source: str) -> Template:
    """The tree of a Go template, or GoTemplateError with the line Go's parser would name."""
    if len(source) > MAX_TEMPLATE:
        raise GoTemplateError(f"template too large ({len(source):,} characters)", 1)
    return _TreeParser(_split(source)).parse()


def has_actions(source: str) -> bool:
    return "{{" in source
