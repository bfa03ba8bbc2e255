"""Go templates (upstream codexctl's dialect) → Jinja2 with the same output.

Upstream renders services.yaml and manifests with Go's ``text/template`` and a small function
map (docs/migrating-from-codexctl.md lists it with each function's exact behaviour). This module
turns a parsed template (:mod:`codex_stacks.importer.gotemplate`) into:

- a Jinja2 *text* template (:func:`to_text`), for manifests: statements allowed;
- a services.yaml *value* (:func:`to_value`): ``{{ expression }}`` only, so control structures
  become conditional expressions and variables are substituted.

The output renders to the same text as Go's for the same context: Go's printing rules are kept
(``true``/``false``, ``<no value>`` for a missing map key, ``map[k:v]``, ``[a b]``), as are the
argument orders of upstream's functions (``default`` takes the value first and the fallback
second, so ``x | default "y"`` always gives ``"y"``; ``ternary`` takes the condition first).
Whatever has no faithful equivalent is left out of the output and reported as an
:class:`Issue` with its line, never silently dropped.

Upstream's context fields map to this project's context: ``.Env`` → ``env``, ``.Namespace`` →
``namespace``, ``.Project`` → ``project``, ``.ProjectRoot`` → ``project_root``, ``.Slot`` →
``slot``, ``.Versions`` → ``versions``, ``.UserVars`` → ``vars`` (``codex:vars``), ``.EnvMap.X``
and ``envOr`` → ``env_or("X", …)``, ``.BaseDomain`` → the file var ``base_domains`` (every
environment's, as upstream had them), ``now``/``.Now`` → the time in ``CODEXCTL_NOW``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from codex_stacks.importer import gotemplate as go

NOW_VARIABLE = "CODEXCTL_NOW"
"""The runner variable that stands for upstream's clock (``now``): UTC, ``2006-01-02T15:04:05.000000000Z``."""
BASE_DOMAINS_VAR = "base_domains"
"""The file var holding every environment's ``baseDomain`` (upstream's ``.BaseDomain`` map)."""
NO_VALUE = "<no value>"
_UNSET: Any = object()

# ---- types and values ----------------------------------------------------------------------------

STR, INT, FLOAT, BOOL, TIME, NIL, ANY, ROOT, MONTH = (
    "str",
    "int",
    "float",
    "bool",
    "time",
    "nil",
    "any",
    "root",
    "month",
)
MAP_STR = ("map", STR)
LIST_STR = ("list", STR)
ENVMAP = "envmap"
Type = str | tuple[str, str]


@dataclass(frozen=True, slots=True)
class Value:
    """A Jinja expression and what Go would have had: its type, and a constant when known."""

    expr: str
    type: Type
    const: Any = _UNSET
    missing: str | None = None
    """For a map field (``.Versions.x``): the expression Go prints when the key is absent."""
    outside: bool = False
    """From outside the repository (``env_or``, ``codex:vars``)."""
    fallback: str | None = None
    """For ``env_or``: the literal fallback (its YAML type says how upstream's output was typed)."""

    @property
    def known(self) -> bool:
        return self.const is not _UNSET


@dataclass(frozen=True, slots=True)
class Issue:
    """Something the conversion could not keep (``manual``) or changed on purpose (a note)."""

    line: int
    message: str
    manual: bool = True


class UnsupportedError(Exception):
    """Raised inside the conversion of one action: the action is left out and reported."""


_JINJA_RESERVED = frozenset(
    {"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else", "loop", "self"}
    | {"varargs", "kwargs", "caller", "range", "dict", "namespace", "lipsum", "cycler", "joiner"}
)
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
        BASE_DOMAINS_VAR,
    }
)


def literal(text: str) -> str:
    """A Jinja string literal of ``text``."""
    return json.dumps(text, ensure_ascii=False)


def snake(name: str) -> str:
    """``slotCodeRoot`` → ``slot_code_root``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.lstrip("$"))
    text = re.sub(r"[^A-Za-z0-9_]", "_", text).lower().strip("_") or "value"
    return "v_" + text if text[0].isdigit() else text


def go_print(value: Any) -> str:
    """How Go's fmt prints a constant (``%v``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return NO_VALUE
    if isinstance(value, float):
        text = repr(value)
        if "e" in text:
            mantissa, exponent = text.split("e")
            sign = "-" if exponent.startswith("-") else "+"
            digits = exponent.lstrip("+-").rjust(2, "0")
            return f"{mantissa.removesuffix('.0')}e{sign}{digits}"
        return text.removesuffix(".0") if abs(value) < 1e21 else text
    return str(value)


def constant(value: Any) -> Value:
    if isinstance(value, bool):
        return Value("true" if value else "false", BOOL, value)
    if isinstance(value, int):
        return Value(str(value), INT, value)
    if isinstance(value, float):
        return Value(repr(value), FLOAT, value)
    if value is None:
        return Value("none", NIL, None)
    return Value(literal(str(value)), STR, str(value))


def printed(value: Value) -> str:
    """A Jinja expression for the text Go prints for ``value``."""
    if value.known:
        return literal(go_print(value.const))
    kind = value.type
    if value.missing is not None:
        return value.missing
    if kind in (STR, INT, ANY, "envmap"):
        return value.expr
    if kind == BOOL:
        return f'("true" if {value.expr} else "false")'
    if kind == NIL:
        return literal(NO_VALUE)
    if kind == TIME:
        return time_format(value.expr, "2006-01-02 15:04:05.999999999 -0700 MST")
    if kind == MONTH:
        return f"{_MONTHS}[({value.expr}) - 1]"
    if kind == MAP_STR:
        return f'("map[" ~ ({value.expr} | dictsort(true) | map("join", ":") | join(" ")) ~ "]")'
    if kind in (LIST_STR, ("list", INT)):
        return f'("[" ~ ({value.expr} | join(" ")) ~ "]")'
    if kind == FLOAT:
        raise UnsupportedError("printing a floating-point number (Go's shortest form has no Jinja equivalent)")
    if kind == ROOT:
        raise UnsupportedError("printing the whole template context")
    return value.expr


def text_of(value: Value) -> str:
    """Like :func:`printed`, and always text when it is a value of its own (``'{{ slot }}'`` would
    keep the number's type in services.yaml; Go's output was text)."""
    expression = printed(value)
    if value.type in (INT, ANY) and not value.known and value.missing is None:
        return f"({expression} | string)"
    return expression


def concat(parts: Sequence[str]) -> str:
    """Jinja expressions of texts joined into one string expression."""
    if not parts:
        return '""'
    if len(parts) == 1:
        return parts[0]
    return "(" + " ~ ".join(parts) + ")"


# ---- time: upstream's now, formatted with Go's layouts ---------------------------------------

_MONTHS = (
    '["January", "February", "March", "April", "May", "June", '
    '"July", "August", "September", "October", "November", "December"]'
)
_SHORT_MONTHS = '["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]'
_LAYOUT_RE = re.compile(
    r"January|Jan|Monday|Mon|MST|2006|002|01|02|03|04|05|06|_2|15|1|2|3|4|5|PM|pm"
    r"|Z07:00:00|Z070000|Z07:00|Z0700|Z07|-07:00:00|-070000|-07:00|-0700|-07"
    r"|[.,](?:0+|9+)(?!\d)"
)


def time_format(t: str, layout: str) -> str:
    """Go's ``Time.Format(layout)`` of a UTC time held as ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`` in ``t``."""
    pieces: list[str] = []
    position = 0
    month = f"(({t})[5:7] | int)"
    hour = f"(({t})[11:13] | int)"
    for match in _LAYOUT_RE.finditer(layout):
        if match.start() > position:
            pieces.append(literal(layout[position : match.start()]))
        token = match.group(0)
        position = match.end()
        if token in ("Monday", "Mon", "002"):
            raise UnsupportedError(f"the time layout element {token!r}")
        slices = {
            "2006": "[0:4]",
            "06": "[2:4]",
            "01": "[5:7]",
            "02": "[8:10]",
            "15": "[11:13]",
            "04": "[14:16]",
            "05": "[17:19]",
        }
        if token in slices:
            pieces.append(f"({t}){slices[token]}")
        elif token in ("1", "2", "4", "5"):
            index = {"1": "[5:7]", "2": "[8:10]", "4": "[14:16]", "5": "[17:19]"}[token]
            pieces.append(f"((({t}){index} | int) | string)")
        elif token == "_2":
            pieces.append(f'("%2d" % ((({t})[8:10] | int),))')
        elif token == "03":
            pieces.append(f'("%02d" % (({hour} + 11) % 12 + 1,))')
        elif token == "3":
            pieces.append(f"((({hour} + 11) % 12 + 1) | string)")
        elif token in ("PM", "pm"):
            upper = token == "PM"
            pieces.append(
                f"({literal('PM' if upper else 'pm')} if {hour} >= 12 else {literal('AM' if upper else 'am')})"
            )
        elif token == "Jan":
            pieces.append(f"{_SHORT_MONTHS}[{month} - 1]")
        elif token == "January":
            pieces.append(f"{_MONTHS}[{month} - 1]")
        elif token == "MST":
            pieces.append(literal("UTC"))
        elif token.startswith("Z"):
            pieces.append(literal("Z"))
        elif token.startswith("-"):
            pieces.append(
                literal(
                    {
                        "-07:00:00": "+00:00:00",
                        "-070000": "+000000",
                        "-07:00": "+00:00",
                        "-0700": "+0000",
                        "-07": "+00",
                    }[token]
                )
            )
        else:  # fractional seconds
            digits = len(token) - 1
            fraction = f"({t})[20:{20 + digits}]"
            if token[1] == "0":
                pieces.append(f"({literal(token[0])} ~ {fraction})")
            else:
                trimmed = f'{fraction}.rstrip("0")'
                pieces.append(f'(({literal(token[0])} ~ {trimmed}) if {trimmed} else "")')
    if position < len(layout):
        pieces.append(literal(layout[position:]))
    return concat(pieces)


# ---- printf -----------------------------------------------------------------------------------

_VERB_RE = re.compile(r"%([-+# 0]*)(?:\[(\d+)\])?(\*|\d+)?(?:\.(\*|\d*))?(?:\[(\d+)\])?(.)?", re.DOTALL)


def printf(fmt: Value, args: list[Value]) -> Value:
    """Go's ``fmt.Sprintf`` as Python's ``%`` formatting, verb by verb, for the types it agrees on."""
    if not fmt.known or not isinstance(fmt.const, str):
        raise UnsupportedError("printf with a format that is not a literal string")
    text = fmt.const
    out: list[str] = []
    values: list[str] = []
    used = [False] * len(args)
    next_arg = 0
    position = 0
    while True:
        start = text.find("%", position)
        if start < 0:
            out.append(text[position:].replace("%", "%%"))
            break
        out.append(text[position:start].replace("%", "%%"))
        match = _VERB_RE.match(text, start)
        assert match is not None
        flags, index_a, width, precision, index_b, verb = match.groups()
        position = match.end()
        if verb is None:
            raise UnsupportedError("printf format ends in the middle of a verb")
        if verb == "%" and not (flags or width or precision or index_a or index_b):
            out.append("%%")
            continue
        if index_a:
            next_arg = int(index_a) - 1
        spec = "%" + flags
        for part, is_width in ((width, True), (precision, False)):
            if part is None:
                continue
            prefix = "" if is_width else "."
            if part == "*":
                if next_arg >= len(args) or args[next_arg].type != INT:
                    raise UnsupportedError("printf: a * width or precision without an int argument")
                values.append(args[next_arg].expr)
                used[next_arg] = True
                next_arg += 1
                spec += prefix + "*"
            else:
                spec += prefix + part
        if index_b:
            next_arg = int(index_b) - 1
        if next_arg >= len(args):
            raise UnsupportedError(f"printf: %{verb} has no argument (Go prints %!{verb}(MISSING))")
        arg = args[next_arg]
        used[next_arg] = True
        next_arg += 1
        python_verb, expr = _verb(verb, flags, precision, arg)
        out.append(spec + python_verb)
        values.append(expr)
    if not all(used):
        raise UnsupportedError("printf: more arguments than verbs (Go appends %!(EXTRA …))")
    pattern = "".join(out)
    if not values:
        return constant(pattern.replace("%%", "%"))
    return Value(f"({literal(pattern)} % ({', '.join(values)},))", STR)


def _verb(verb: str, flags: str, precision: str | None, arg: Value) -> tuple[str, str]:
    kind = arg.type
    mismatch = UnsupportedError(f"printf: %{verb} of a {kind if isinstance(kind, str) else kind[0]} value")
    if "0" in flags and verb in "sqv" and kind not in (INT,):
        raise UnsupportedError(f"printf: %0{verb} pads text with zeros in Go, with spaces in Jinja")
    if verb == "v":
        if kind in (STR, ANY, "envmap"):
            return "s", printed(arg)
        if kind == INT:
            return "d", arg.expr
        if kind in (BOOL, TIME, MAP_STR, LIST_STR, MONTH, NIL) and not flags and precision is None:
            return "s", printed(arg)
        raise mismatch
    if verb == "s":
        if kind in (STR, ANY, "envmap"):
            return "s", printed(arg)
        if kind in (TIME, MONTH):
            return "s", printed(arg)
        raise mismatch
    if verb == "q":
        if kind in (STR, ANY) and not flags:
            return "s", f"({printed(arg)} | tojson)"
        raise mismatch
    if verb == "t":
        if kind == BOOL:
            return "s", printed(arg)
        raise mismatch
    if verb in "dxXoc":
        if kind == INT and not (verb == "o" and "#" in flags):
            return verb, arg.expr
        raise mismatch
    if verb in "eEfF":
        if kind == FLOAT:
            return verb, arg.expr
        raise mismatch
    if verb in "gG":
        if kind == FLOAT and precision not in (None, ""):
            return verb, arg.expr
        raise mismatch
    raise UnsupportedError(f"printf verb %{verb}")


# ---- the conversion ----------------------------------------------------------------------------


@dataclass
class Binding:
    """A Go variable as Jinja sees it: a name (``ns``: a namespace holding ``.v``) or an inline value."""

    value: Value
    jinja: str | None = None
    namespace: bool = False


@dataclass
class Usage:
    """What converted templates need from the project: runner variables, the clock, base domains."""

    env_vars: dict[str, int] = field(default_factory=dict)
    """Runner variables read with ``env_or`` → the first line that reads each."""
    forbidden: dict[str, int] = field(default_factory=dict)
    now: bool = False
    base_domains: bool = False
    user_vars: bool = False


@dataclass
class Converter:
    """One template's conversion (see the module doc); collects issues and what it used."""

    template: go.Template
    mode: str  # "text" (manifests) or "value" (services.yaml scalars)
    usage: Usage = field(default_factory=Usage)
    issues: list[Issue] = field(default_factory=list)
    file_vars: dict[str, Binding] = field(default_factory=dict)
    """Variables upstream declared at the top of services.yaml, visible to its values."""
    forbidden_env: Callable[[str], bool] = lambda name: False
    scopes: list[dict[str, Binding]] = field(default_factory=list)
    used_names: set[str] = field(default_factory=set)
    dot: Value = field(default_factory=lambda: Value("", ROOT))
    root: Value = field(default_factory=lambda: Value("", ROOT))
    loop_depth: int = 0
    namespaced: set[int] = field(default_factory=set)
    declarations: int = 0
    calls: list[str] = field(default_factory=list)
    declared: list[tuple[str, Binding]] = field(default_factory=list)
    """Top-level declarations of a value template (``$x := …`` outside any block), in order."""

    def __post_init__(self) -> None:
        if not self.scopes:
            self.scopes = [dict(self.file_vars)]
        self.used_names |= CONTEXT_NAMES | _JINJA_RESERVED

    # -- helpers

    def issue(self, line: int, message: str, *, manual: bool = True) -> None:
        self.issues.append(Issue(line, message, manual))

    def fresh(self, name: str) -> str:
        base = snake(name)
        candidate = base
        number = 2
        while candidate in self.used_names:
            candidate = f"{base}_{number}"
            number += 1
        self.used_names.add(candidate)
        return candidate

    def lookup(self, name: str, line: int) -> Binding:
        if name == "$":
            return Binding(self.root)
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        raise UnsupportedError(f"undefined variable {name}")

    # -- operands and pipelines

    def field_of(self, value: Value, name: str) -> Value:
        kind = value.type
        if kind == ROOT:
            return self.root_field(name)
        if kind == MAP_STR:
            key = literal(name)
            return Value(
                f'{value.expr}.get({key}, "")',
                STR,
                missing=f"{value.expr}.get({key}, {literal(NO_VALUE)})",
                outside=value.outside,
            )
        if kind == ENVMAP:
            return self.env_or(name, '""', missing=True)
        if kind == TIME:
            return self.time_field(value, name)
        if kind == ANY:
            return Value(f"{value.expr}[{literal(name)}]", ANY)
        raise UnsupportedError(f"field .{name} of a {kind if isinstance(kind, str) else kind[0]} value")

    def time_field(self, value: Value, name: str) -> Value:
        t = value.expr
        if name == "UTC":
            return value
        parts = {"Year": "[0:4]", "Day": "[8:10]", "Hour": "[11:13]", "Minute": "[14:16]", "Second": "[17:19]"}
        if name in parts:
            return Value(f"(({t}){parts[name]} | int)", INT)
        if name == "Month":
            return Value(f"(({t})[5:7] | int)", MONTH)
        if name == "String":
            return Value(printed(value), STR)
        raise UnsupportedError(f"the time method .{name}")

    def root_field(self, name: str) -> Value:
        simple: dict[str, tuple[str, Type]] = {
            "Env": ("env", STR),
            "Namespace": ("namespace", STR),
            "Project": ("project", STR),
            "ProjectRoot": ("project_root", STR),
            "Slot": ("slot", INT),
            "Versions": ("versions", MAP_STR),
        }
        if name in simple:
            expr, kind = simple[name]
            return Value(expr, kind)
        if name == "BaseDomain":
            self.usage.base_domains = True
            return Value(BASE_DOMAINS_VAR, MAP_STR)
        if name == "UserVars":
            self.usage.user_vars = True
            return Value("vars", MAP_STR, outside=True)
        if name == "EnvMap":
            return Value("", ENVMAP)
        if name == "Now":
            return self.now()
        if name in ("Codex", "Storage", "IssueComments", "ReviewComments"):
            raise UnsupportedError(f".{name} (upstream's own settings; this project does not give templates that)")
        raise UnsupportedError(f"unknown field .{name} (upstream's template context has no such field)")

    def now(self) -> Value:
        self.usage.now = True
        self.usage.env_vars.setdefault(NOW_VARIABLE, 0)
        return Value(f'env_or({literal(NOW_VARIABLE)}, "")', TIME)

    def env_or(self, name: str, fallback: str, *, missing: bool = False, fallback_text: str | None = None) -> Value:
        if self.forbidden_env(name):
            self.usage.forbidden.setdefault(name, 0)
            raise UnsupportedError(
                f"envOr {name!r}: templates may not read the runner's credentials here (docs/services-yaml.md)"
            )
        self.usage.env_vars.setdefault(name, 0)
        expr = f"env_or({literal(name)}, {fallback})"
        return Value(
            expr,
            STR,
            missing=f"env_or({literal(name)}, {literal(NO_VALUE)})" if missing else None,
            outside=True,
            fallback=fallback_text,
        )

    def operand(self, node: go.Operand, line: int) -> Value:
        if isinstance(node, go.Field):
            value = self.dot
            for name in node.names:
                value = self.field_of(value, name)
            return value
        if isinstance(node, go.Variable):
            binding = self.lookup(node.name, line)
            value = binding.value
            if binding.jinja is not None:
                expr = f'{binding.jinja}["v"]' if binding.namespace else binding.jinja
                value = replace(value, expr=expr, const=_UNSET, missing=None)
            for name in node.names:
                value = self.field_of(value, name)
            return value
        if isinstance(node, go.String):
            return constant(node.value)
        if isinstance(node, go.Number):
            return constant(node.value)
        if isinstance(node, go.Bool):
            return constant(node.value)
        if isinstance(node, go.Nil):
            raise UnsupportedError("nil is not a command")
        if isinstance(node, go.Identifier):
            return self.call(node.name, [], line)
        if isinstance(node, go.Chain):
            value = self.pipeline(node.node)
            for name in node.names:
                value = self.field_of(value, name)
            return value
        if isinstance(node, go.Pipe):
            return self.pipeline(node)
        raise UnsupportedError(f"operand {node!r}")

    def pipeline(self, pipe: go.Pipe) -> Value:
        value: Value | None = None
        for command in pipe.commands:
            value = self.command(command, value, pipe.line)
        assert value is not None
        return value

    def command(self, command: go.Command, piped: Value | None, line: int) -> Value:
        first, rest = command.args[0], command.args[1:]
        if isinstance(first, go.Identifier):
            args = [self.operand(arg, line) for arg in rest]
            if piped is not None:
                args.append(piped)
            return self.call(first.name, args, line)
        if isinstance(first, go.Field | go.Variable | go.Chain) and (rest or piped is not None):
            names = first.names
            if not names:
                raise UnsupportedError("a value given arguments")
            receiver_node: go.Operand
            if isinstance(first, go.Field):
                receiver_node = go.Field(names[:-1])
            elif isinstance(first, go.Variable):
                receiver_node = go.Variable(first.name, names[:-1])
            else:
                receiver_node = go.Chain(first.node, names[:-1])
            receiver = self.operand(receiver_node, line)
            args = [self.operand(arg, line) for arg in rest]
            if piped is not None:
                args.append(piped)
            return self.method(receiver, names[-1], args)
        if rest or piped is not None:
            raise UnsupportedError("a value given arguments")
        return self.operand(first, line)

    def method(self, receiver: Value, name: str, args: list[Value]) -> Value:
        if receiver.type == TIME and name == "Format" and len(args) == 1:
            layout = args[0]
            if not layout.known or not isinstance(layout.const, str):
                raise UnsupportedError("Format with a layout that is not a literal string")
            return Value(time_format(receiver.expr, layout.const), STR)
        raise UnsupportedError(f"the method .{name}")

    # -- functions

    def call(self, name: str, args: list[Value], line: int) -> Value:
        handler = getattr(self, f"fn_{name}", None)
        if handler is None:
            raise UnsupportedError(f"the function {name!r} (not in upstream's function map, or no equivalent here)")
        result: Value = handler(args, line)
        return result

    @staticmethod
    def _arity(name: str, args: list[Value], count: int) -> None:
        if len(args) != count:
            raise UnsupportedError(f"{name} takes {count} arguments, got {len(args)}")

    @staticmethod
    def _text(name: str, value: Value) -> None:
        if value.type not in (STR, ANY):
            kind = value.type if isinstance(value.type, str) else value.type[0]
            raise UnsupportedError(f"{name} needs text, got a {kind} value (upstream fails here)")

    def fn_default(self, args: list[Value], line: int) -> Value:
        self._arity("default", args, 2)
        value, fallback = args
        self._text("default", value)
        self._text("default", fallback)
        if value.known:
            return value if str(value.const).strip() else fallback
        outside = value.outside or fallback.outside
        return Value(f"({value.expr} if ({value.expr} | trim) else {fallback.expr})", STR, outside=outside)

    def fn_toLower(self, args: list[Value], line: int) -> Value:
        self._arity("toLower", args, 1)
        self._text("toLower", args[0])
        if args[0].known:
            return constant(str(args[0].const).lower())
        return Value(f"({args[0].expr} | lower)", STR)

    def fn_slug(self, args: list[Value], line: int) -> Value:
        self._arity("slug", args, 1)
        self._text("slug", args[0])
        if args[0].known:
            return constant(str(args[0].const).strip().lower().replace(" ", "-").replace("_", "-"))
        return Value(f'({args[0].expr} | trim | lower | replace(" ", "-") | replace("_", "-"))', STR)

    def fn_truncSHA(self, args: list[Value], line: int) -> Value:
        self._arity("truncSHA", args, 1)
        self._text("truncSHA", args[0])
        return Value(f"({args[0].expr})[:12]", STR)

    def fn_envOr(self, args: list[Value], line: int) -> Value:
        self._arity("envOr", args, 2)
        key, fallback = args
        self._text("envOr", fallback)
        if not key.known or not isinstance(key.const, str):
            raise UnsupportedError("envOr with a variable name that is not a literal string (it must be declared)")
        fallback_text = fallback.const if fallback.known and isinstance(fallback.const, str) else None
        value = self.env_or(key.const, fallback.expr, fallback_text=fallback_text)
        self.usage.env_vars[key.const] = self.usage.env_vars.get(key.const) or line
        return value

    def fn_ternary(self, args: list[Value], line: int) -> Value:
        self._arity("ternary", args, 3)
        condition, yes, no = args
        if condition.type not in (BOOL, ANY):
            raise UnsupportedError("ternary's first argument must be a bool (upstream: ternary COND A B)")
        if condition.known:
            return yes if condition.const else no
        kind = yes.type if yes.type == no.type else ANY
        return Value(f"({yes.expr} if {condition.expr} else {no.expr})", kind, outside=yes.outside or no.outside)

    def fn_now(self, args: list[Value], line: int) -> Value:
        self._arity("now", args, 0)
        return self.now()

    def fn_join(self, args: list[Value], line: int) -> Value:
        self._arity("join", args, 2)
        items, separator = args
        if items.type not in (LIST_STR, ANY) or separator.type not in (STR, ANY):
            raise UnsupportedError("join takes a list of text first and the separator second (join LIST SEP)")
        return Value(f"({items.expr} | join({separator.expr}))", STR)

    def fn_indent(self, args: list[Value], line: int) -> Value:
        self._arity("indent", args, 2)
        spaces, text = args
        if spaces.type != INT:
            raise UnsupportedError("indent takes the number of spaces first (indent N TEXT)")
        self._text("indent", text)
        pad = f'(" " * {spaces.expr})'
        body = f'{text.expr}.rstrip("\\n")'
        return Value(f'("" if {text.expr} == "" else {pad} ~ ({body} | replace("\\n", "\\n" ~ {pad})))', STR)

    def fn_trimPrefix(self, args: list[Value], line: int) -> Value:
        self._arity("trimPrefix", args, 2)
        text, prefix = args
        self._text("trimPrefix", text)
        self._text("trimPrefix", prefix)
        if text.known and prefix.known:
            return constant(str(text.const).removeprefix(str(prefix.const)))
        return Value(f"({text.expr}).removeprefix({prefix.expr})", STR)

    def fn_printf(self, args: list[Value], line: int) -> Value:
        if not args:
            raise UnsupportedError("printf without a format")
        return printf(args[0], args[1:])

    def fn_print(self, args: list[Value], line: int) -> Value:
        parts: list[str] = []
        for index, arg in enumerate(args):
            if index and arg.type != STR and args[index - 1].type != STR:
                parts.append('" "')
            parts.append(printed(arg))
        return Value(concat(parts), STR)

    def fn_println(self, args: list[Value], line: int) -> Value:
        parts: list[str] = []
        for index, arg in enumerate(args):
            if index:
                parts.append('" "')
            parts.append(printed(arg))
        parts.append(literal("\n"))
        return Value(concat(parts), STR)

    def fn_len(self, args: list[Value], line: int) -> Value:
        self._arity("len", args, 1)
        if args[0].type == STR and not args[0].known:
            self.issue(line, "len of text counts bytes in Go, characters here (the same for ASCII)", manual=False)
        return Value(f"({args[0].expr} | length)", INT)

    def fn_index(self, args: list[Value], line: int) -> Value:
        if not args:
            raise UnsupportedError("index without arguments")
        value = args[0]
        for key in args[1:]:
            if value.type == ENVMAP:
                if not key.known or not isinstance(key.const, str):
                    raise UnsupportedError("index .EnvMap with a name that is not a literal string")
                value = self.env_or(key.const, '""')
            elif value.type == MAP_STR or (value.type == ANY and key.type == STR):
                value = Value(
                    f'{value.expr}.get({key.expr}, "")', STR if value.type == MAP_STR else ANY, outside=value.outside
                )
            elif (isinstance(value.type, tuple) and value.type[0] == "list") or (value.type == ANY and key.type == INT):
                elem = value.type[1] if isinstance(value.type, tuple) else ANY
                value = Value(f"{value.expr}[{key.expr}]", elem)
            else:
                kind = value.type if isinstance(value.type, str) else value.type[0]
                raise UnsupportedError(f"index of a {kind} value")
        return value

    def fn_slice(self, args: list[Value], line: int) -> Value:
        if not 1 <= len(args) <= 3 or len(args) == 4:
            raise UnsupportedError("slice takes 1 to 3 arguments here")
        value = args[0]
        bounds = [arg.expr for arg in args[1:]] + [""] * (3 - len(args))
        return Value(f"({value.expr})[{bounds[0]}:{bounds[1]}]", value.type)

    def fn_not(self, args: list[Value], line: int) -> Value:
        self._arity("not", args, 1)
        return Value(f"(not {args[0].expr})", BOOL)

    def _logic(self, word: str, args: list[Value]) -> Value:
        if len(args) < 1:
            raise UnsupportedError(f"{word} needs arguments")
        kinds = {arg.type for arg in args}
        kind = kinds.pop() if len(kinds) == 1 else ANY
        return Value("(" + f" {word} ".join(arg.expr for arg in args) + ")", kind)

    def fn_and(self, args: list[Value], line: int) -> Value:
        return self._logic("and", args)

    def fn_or(self, args: list[Value], line: int) -> Value:
        return self._logic("or", args)

    def _compare(self, operator: str, args: list[Value]) -> Value:
        self._arity(operator, args, 2)
        left, right = args
        if {left.type, right.type} - {ANY} and left.type != right.type and {left.type, right.type} != {INT, FLOAT}:
            raise UnsupportedError("comparing values of different types (upstream fails here)")
        return Value(f"({left.expr} {operator} {right.expr})", BOOL)

    def fn_eq(self, args: list[Value], line: int) -> Value:
        if len(args) < 2:
            raise UnsupportedError("eq needs two arguments or more")
        first = args[0]
        tests = [self._compare("==", [first, other]).expr for other in args[1:]]
        return Value(tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")", BOOL)

    def fn_ne(self, args: list[Value], line: int) -> Value:
        return self._compare("!=", args)

    def fn_lt(self, args: list[Value], line: int) -> Value:
        return self._compare("<", args)

    def fn_le(self, args: list[Value], line: int) -> Value:
        return self._compare("<=", args)

    def fn_gt(self, args: list[Value], line: int) -> Value:
        return self._compare(">", args)

    def fn_ge(self, args: list[Value], line: int) -> Value:
        return self._compare(">=", args)

    # -- variables

    def declare(self, pipe: go.Pipe, value: Value) -> str | None:
        """Bind the pipeline's variable; in text mode return the statement that sets it."""
        name = pipe.decl[0]
        if pipe.is_assign:
            binding = self.lookup(name, pipe.line)
            if self.mode == "value" or binding.jinja is None:
                if self.mode == "value":
                    binding.value = value
                    return None
                raise UnsupportedError(f"assigning to {name}")
            if binding.namespace:
                binding.value = replace(value, expr=f'{binding.jinja}["v"]', const=_UNSET, missing=None)
                # a loop body cannot rebind an outer name in Jinja: the value lives in a dict
                return f'{{% if {binding.jinja}.update({{"v": {value.expr}}}) %}}{{% endif %}}'
            binding.value = replace(value, expr=binding.jinja, const=_UNSET, missing=None)
            return f"{{% set {binding.jinja} = {value.expr} %}}"
        self.declarations += 1
        if self.mode == "value":
            binding = Binding(value)
            self.scopes[-1][name] = binding
            if len(self.scopes) == 1:
                self.declared.append((name, binding))
            return None
        jinja = self.fresh(name)
        namespace = self.declarations in self.namespaced
        binding = Binding(replace(value, const=_UNSET, missing=None), jinja=jinja, namespace=namespace)
        self.scopes[-1][name] = binding
        if namespace:
            return f'{{% set {jinja} = {{"v": {value.expr}}} %}}'
        return f"{{% set {jinja} = {value.expr} %}}"


# ---- the pre-pass: variables assigned inside a loop they were declared outside of -----------


def _assigned_in_loops(template: go.Template, file_vars: Sequence[str]) -> set[int]:
    """Declaration numbers (in conversion order) of variables that a ``range`` body assigns with
    ``=`` while they were declared outside it: Jinja needs a ``namespace()`` for those."""
    found: set[int] = set()
    counter = [0]
    scopes: list[dict[str, tuple[int, int]]] = [dict.fromkeys(file_vars, (-1, 0))]

    def pipe(node: go.Pipe, depth: int) -> None:
        for command in node.commands:
            for arg in command.args:
                if isinstance(arg, go.Pipe):
                    pipe(arg, depth)
                elif isinstance(arg, go.Chain):
                    pipe(arg.node, depth)
        if node.decl and node.is_assign:
            for scope in reversed(scopes):
                if node.decl[0] in scope:
                    number, declared_depth = scope[node.decl[0]]
                    if depth > declared_depth and number >= 0:
                        found.add(number)
                    break
        elif node.decl:
            for name in node.decl:
                counter[0] += 1
                scopes[-1][name] = (counter[0], depth)

    def walk(nodes: Sequence[go.Node], depth: int) -> None:
        for node in nodes:
            if isinstance(node, go.Action):
                pipe(node.pipe, depth)
            elif isinstance(node, go.Guard | go.Pin):
                walk(node.body, depth)
            elif isinstance(node, go.If):
                scopes.append({})
                for branch in node.branches:
                    pipe(branch.pipe, depth)
                    scopes.append({})
                    walk(branch.body, depth)
                    scopes.pop()
                if node.otherwise is not None:
                    scopes.append({})
                    walk(node.otherwise, depth)
                    scopes.pop()
                scopes.pop()
            elif isinstance(node, go.Range):
                pipe(go.Pipe((), False, node.pipe.commands, node.pipe.line), depth)
                scopes.append({})
                for name in node.pipe.decl:
                    counter[0] += 1
                    scopes[-1][name] = (counter[0], depth + 1)
                walk(node.body, depth + 1)
                scopes.pop()
                if node.otherwise is not None:
                    scopes.append({})
                    walk(node.otherwise, depth)
                    scopes.pop()

    walk(template.nodes, 0)
    return found


# ---- text templates (manifests) -------------------------------------------------------------------

_PLAIN_KEY_RE = re.compile(r"^\s*(?:-\s+)*(?:[^\s#'\"{}\[\],:][^#:]*:\s+|-\s+)$")


def _escape_text(text: str, *, before_tag: bool) -> str:
    """Literal text for a Jinja template: ``{%``/``{#`` (and a ``{`` right before a tag) written as expressions."""
    text = text.replace("{%", '{{ "{%" }}').replace("{#", '{{ "{#" }}')
    if before_tag and text.endswith("{"):
        text = text[:-1] + '{{ "{" }}'
    return text


@dataclass
class _TextWriter:
    converter: Converter
    out: list[str] = field(default_factory=list)
    line_prefix: str = ""

    def text(self, node: go.Text, following: go.Node | None) -> None:
        before_tag = following is not None
        self.out.append(_escape_text(node.text, before_tag=before_tag))
        last = node.text.rsplit("\n", 1)
        self.line_prefix = last[-1] if len(last) > 1 else self.line_prefix + node.text

    def statement(self, text: str) -> None:
        self.out.append(text)

    def nodes(self, nodes: Sequence[go.Node]) -> None:
        for index, node in enumerate(nodes):
            following = nodes[index + 1] if index + 1 < len(nodes) else None
            self.node(node, following)

    def node(self, node: go.Node, following: go.Node | None) -> None:
        converter = self.converter
        if isinstance(node, go.Text):
            self.text(node, following)
        elif isinstance(node, go.Comment):
            if "#}" not in node.text and "{#" not in node.text:
                self.out.append("{#" + node.text + "#}")
        elif isinstance(node, go.Action):
            self.action(node, following)
        elif isinstance(node, go.If):
            self.conditional(node, 0)
        elif isinstance(node, go.Range):
            self.range_(node)
        elif isinstance(node, go.TemplateCall):
            self.template_call(node)
        elif isinstance(node, go.LoopControl):
            converter.issue(node.line, f"{{{{{node.word}}}}} (Jinja has no {node.word} here): the loop runs on")
        elif isinstance(node, go.Guard):
            self.out.append("{% if " + node.condition + " %}")
            self.nodes(node.body)
            self.out.append("{% endif %}")
        elif isinstance(node, go.Pin):
            for level in node.levels:
                self.out.append("{% with " + ", ".join(f"{name} = {expr}" for name, expr in level) + " %}")
            self.nodes(node.body)
            self.out.append("{% endwith %}" * len(node.levels))
        if not isinstance(node, go.Text):
            self.line_prefix += "x"

    def action(self, node: go.Action, following: go.Node | None) -> None:
        converter = self.converter
        try:
            value = converter.pipeline(node.pipe)
            if node.pipe.decl:
                statement = converter.declare(node.pipe, value)
                if statement:
                    self.out.append(statement)
                return
            expr = printed(value)
            if value.outside and self._whole_plain_scalar(following):
                fallback = value.fallback
                if fallback is not None and re.fullmatch(r"[-+]?\d+", fallback.strip()):
                    expr = f"({value.expr} | int({value.expr}))"
                elif fallback is not None and fallback.strip().lower() in ("true", "false"):
                    word = f"({value.expr} | lower)"
                    expr = f'({word} == "true" if {word} in ("true", "false") else {value.expr})'
            self.out.append("{{ " + expr + " }}")
        except UnsupportedError as exc:
            converter.issue(node.line, f"{node.source.strip()}: {exc}; left out")

    def _whole_plain_scalar(self, following: go.Node | None) -> bool:
        """Whether the action is a whole unquoted YAML value (``key: {{ x }}``): Go's text there was
        typed by YAML (``1000`` a number), so an outside value keeps that type when it looks like one."""
        if not _PLAIN_KEY_RE.match(self.line_prefix):
            return False
        if following is None:
            return True
        if isinstance(following, go.Text):
            rest = following.text.split("\n", 1)[0]
            return rest.strip() == "" or rest.lstrip().startswith("#")
        return False

    def conditional(self, node: go.If, start: int) -> None:
        converter = self.converter
        first = True
        for index in range(start, len(node.branches)):
            branch = node.branches[index]
            converter.scopes.append({})
            try:
                value = converter.pipeline(branch.pipe)
            except UnsupportedError as exc:
                converter.scopes.pop()
                converter.issue(branch.line, f"{{{{{node.kind} …}}}}: {exc}; the whole block is left out")
                if not first:
                    self.out.append("{% endif %}")
                return
            setup = ""
            condition = value.expr
            if branch.pipe.decl:
                setup = converter.declare(branch.pipe, value) or ""
                bound = converter.scopes[-1][branch.pipe.decl[0]]
                condition = f'{bound.jinja}["v"]' if bound.namespace else str(bound.jinja)
                if node.kind == "with":
                    value = bound.value
            elif node.kind == "with":
                name = converter.fresh("with")
                setup = f"{{% set {name} = {value.expr} %}}"
                condition = name
                value = replace(value, expr=name, const=_UNSET)
            if setup and not first:
                # a declaration in an else-branch: nest it
                self.out.append("{% else %}")
                self.out.append(setup)
                self.out.append("{% if " + condition + " %}")
                self._branch_body(node, branch, value)
                converter.scopes.pop()
                self._rest(node, index)
                self.out.append("{% endif %}")
                self.out.append("{% endif %}")
                return
            self.out.append(setup)
            self.out.append(("{% if " if first else "{% elif ") + condition + " %}")
            self._branch_body(node, branch, value)
            converter.scopes.pop()
            first = False
        if node.otherwise is not None:
            self.out.append("{% else %}")
            converter.scopes.append({})
            self.nodes(node.otherwise)
            converter.scopes.pop()
        self.out.append("{% endif %}")

    def _rest(self, node: go.If, index: int) -> None:
        if index + 1 < len(node.branches):
            rest = go.If(node.kind, node.branches[index + 1 :], node.otherwise, node.branches[index + 1].line)
            self.out.append("{% else %}")
            self.conditional(rest, 0)
        elif node.otherwise is not None:
            self.out.append("{% else %}")
            self.converter.scopes.append({})
            self.nodes(node.otherwise)
            self.converter.scopes.pop()

    def _branch_body(self, node: go.If, branch: go.Branch, value: Value) -> None:
        converter = self.converter
        if node.kind == "with":
            saved = converter.dot
            converter.dot = value
            self.nodes(branch.body)
            converter.dot = saved
        else:
            self.nodes(branch.body)

    def range_(self, node: go.Range) -> None:
        converter = self.converter
        try:
            value = converter.pipeline(go.Pipe((), False, node.pipe.commands, node.pipe.line))
        except UnsupportedError as exc:
            converter.issue(node.line, f"{{{{range …}}}}: {exc}; the whole loop is left out")
            return
        kind = value.type
        item = converter.fresh("item")
        decl = node.pipe.decl
        converter.scopes.append({})
        converter.loop_depth += 1
        setup: list[str] = []
        if kind == MAP_STR:
            source = f"{value.expr} | dictsort(true)"
            key_expr, value_expr, elem = f"{item}[0]", f"{item}[1]", STR
        elif isinstance(kind, tuple) and kind[0] == "list":
            source, key_expr, value_expr, elem = value.expr, "loop.index0", item, kind[1]
        elif kind == INT:
            source, key_expr, value_expr, elem = f"range({value.expr})", "loop.index0", item, INT
        elif kind == ANY:
            held = converter.fresh("ranged")
            self.out.append(f"{{% set {held} = {value.expr} %}}")
            source = f"({held} | dictsort(true) if {held} is mapping else {held})"
            key_expr = f"({item}[0] if {held} is mapping else loop.index0)"
            value_expr, elem = f"({item}[1] if {held} is mapping else {item})", ANY
        else:
            converter.scopes.pop()
            converter.loop_depth -= 1
            what = kind if isinstance(kind, str) else kind[0]
            converter.issue(node.line, f"{{{{range …}}}} over a {what} value: the whole loop is left out")
            return
        element = Value(value_expr, elem)
        if decl:
            names = list(decl)
            if len(names) == 2:
                key_name = converter.fresh(names[0])
                setup.append(f"{{% set {key_name} = {key_expr} %}}")
                converter.scopes[-1][names[0]] = Binding(
                    Value(key_name, STR if kind == MAP_STR else INT), jinja=key_name
                )
            value_name = converter.fresh(names[-1])
            setup.append(f"{{% set {value_name} = {value_expr} %}}")
            converter.scopes[-1][names[-1]] = Binding(Value(value_name, elem), jinja=value_name)
            converter.declarations += len(names)
            element = Value(value_name, elem)
        self.out.append(f"{{% for {item} in {source} %}}")
        self.out.extend(setup)
        saved = converter.dot
        converter.dot = element
        self.nodes(node.body)
        converter.dot = saved
        converter.scopes.pop()
        converter.loop_depth -= 1
        if node.otherwise is not None:
            self.out.append("{% else %}")
            converter.scopes.append({})
            self.nodes(node.otherwise)
            converter.scopes.pop()
        self.out.append("{% endfor %}")

    def template_call(self, node: go.TemplateCall) -> None:
        converter = self.converter
        body = converter.template.defines.get(node.name)
        if body is None:
            converter.issue(node.line, f'{{{{template "{node.name}"}}}}: no such template in this file; left out')
            return
        if node.name in converter.calls or len(converter.calls) > 20:
            converter.issue(node.line, f'{{{{template "{node.name}"}}}} calls itself; left out')
            return
        try:
            data = converter.pipeline(node.pipe) if node.pipe is not None else Value("none", NIL)
        except UnsupportedError as exc:
            converter.issue(node.line, f'{{{{template "{node.name}" …}}}}: {exc}; left out')
            return
        saved = (converter.dot, converter.root, converter.scopes, converter.declarations, converter.namespaced)
        converter.dot = converter.root = data
        converter.scopes = [{}]
        converter.declarations = 0
        converter.namespaced = _assigned_in_loops(go.Template(nodes=body), [])
        converter.calls.append(node.name)
        self.nodes(body)
        converter.calls.pop()
        (converter.dot, converter.root, converter.scopes, converter.declarations, converter.namespaced) = saved


def to_text(source: str | go.Template, **options: Any) -> tuple[str, Converter]:
    """A manifest: Go template → Jinja2 text template (statements allowed)."""
    template = go.parse(source) if isinstance(source, str) else source
    converter = Converter(template, "text", **options)
    converter.namespaced = _assigned_in_loops(template, list(converter.file_vars))
    writer = _TextWriter(converter)
    writer.nodes(template.nodes)
    return "".join(writer.out), converter


# ---- values (services.yaml scalars) -----------------------------------------------------------------


@dataclass
class _Part:
    text: str | None = None
    value: Value | None = None


def _value_parts(converter: Converter, nodes: Sequence[go.Node]) -> list[_Part]:
    parts: list[_Part] = []
    for node in nodes:
        if isinstance(node, go.Text):
            parts.append(_Part(text=node.text))
        elif isinstance(node, go.Comment):
            continue
        elif isinstance(node, go.Action):
            try:
                value = converter.pipeline(node.pipe)
                if node.pipe.decl:
                    converter.declare(node.pipe, value)
                    continue
                parts.append(_Part(value=value))
            except UnsupportedError as exc:
                converter.issue(node.line, f"{node.source.strip()}: {exc}; left out")
        elif isinstance(node, go.If):
            try:
                parts.append(_Part(value=_conditional_value(converter, node, 0)))
            except UnsupportedError as exc:
                converter.issue(node.line, f"{{{{{node.kind} …}}}}: {exc}; the whole block is left out")
        elif isinstance(node, go.Range):
            converter.issue(node.line, "{{range …}} inside a services.yaml value has no equivalent; left out")
        elif isinstance(node, go.TemplateCall):
            converter.issue(node.line, "{{template …}} inside a services.yaml value; left out")
        elif isinstance(node, go.LoopControl):
            converter.issue(node.line, f"{{{{{node.word}}}}} outside a loop; left out")
    return parts


def _string_of(parts: Sequence[_Part]) -> str:
    pieces: list[str] = []
    for part in parts:
        if part.text:
            pieces.append(literal(part.text))
        elif part.value is not None:
            pieces.append(printed(part.value))
    return concat(pieces)


def _conditional_value(converter: Converter, node: go.If, start: int) -> Value:
    branch = node.branches[start]
    converter.scopes.append({})
    try:
        value = converter.pipeline(branch.pipe)
        if branch.pipe.decl:
            converter.declare(branch.pipe, value)
        saved = converter.dot
        if node.kind == "with":
            converter.dot = value
        body = _string_of(_value_parts(converter, branch.body))
        converter.dot = saved
    finally:
        converter.scopes.pop()
    if start + 1 < len(node.branches):
        other = _conditional_value(converter, node, start + 1).expr
    elif node.otherwise is not None:
        converter.scopes.append({})
        other = _string_of(_value_parts(converter, node.otherwise))
        converter.scopes.pop()
    else:
        other = '""'
    if value.known:
        chosen = body if value.const else other
        return Value(chosen, STR)
    return Value(f"({body} if {value.expr} else {other})", STR)


@dataclass
class Converted:
    """A services.yaml value converted: the value to write, and the lone expression if it is one."""

    value: Any
    single: Value | None
    converter: Converter


def to_value(source: str | go.Template, *, want: str = STR, **options: Any) -> Converted:
    """A services.yaml value: Go template → a value of the target dialect (``{{ expression }}``s).

    ``want`` is the type the key takes: ``str`` renders Go's text; ``bool``/``int``/``any`` keep
    a lone expression's own type (``'{{ eq .Env "ai" }}'`` becomes the boolean itself)."""
    template = go.parse(source) if isinstance(source, str) else source
    converter = Converter(template, "value", **options)
    for name in template.defines:
        converter.issue(template.define_lines[name], f'{{{{define "{name}"}}}} inside a services.yaml value; ignored')
    parts = _value_parts(converter, template.nodes)
    values = [part.value for part in parts if part.value is not None]
    texts = [part.text for part in parts if part.text is not None]
    if not values:
        return Converted(_plain("".join(texts)), None, converter)
    if all(value.known for value in values):
        text = "".join(part.text if part.text is not None else go_print(part.value.const) for part in parts)  # type: ignore[union-attr]
        if len(parts) == 1 and want != STR and not isinstance(values[0].const, str):
            return Converted(values[0].const, values[0], converter)
        return Converted(_plain(text), None, converter)
    if len(parts) == 1:
        value = values[0]
        keep = want == ANY or (want == BOOL and value.type == BOOL) or (want == INT and value.type == INT)
        return Converted("{{ " + (value.expr if keep else text_of(value)) + " }}", value, converter)
    if len(values) == 1 and not any(text.strip() for text in texts):
        return Converted("{{ " + _string_of(parts) + " }}", None, converter)
    out: list[str] = []
    for index, part in enumerate(parts):
        if part.text is not None:
            out.append(_escape_text(part.text, before_tag=index + 1 < len(parts)))
        else:
            assert part.value is not None
            out.append("{{ " + printed(part.value) + " }}")
    return Converted("".join(out), None, converter)


def _plain(text: str) -> str:
    """Text with no template; written as an expression when it holds what would start one."""
    if "{{" in text or "{%" in text or "{#" in text:
        return "{{ " + literal(text) + " }}"
    return text


def iter_issues(converters: Sequence[Converter]) -> Iterator[Issue]:
    for converter in converters:
        yield from converter.issues
