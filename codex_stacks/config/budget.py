"""A budget for every Jinja2 render: templates come from strangers, so each render is bounded.

services.yaml values, manifests and prompts are rendered in the Jinja2 sandbox, which stops
attribute escapes but not a template that loops forever, builds a gigabyte string or recurses
until Python gives up. :class:`BudgetedEnvironment` is a sandbox that also counts, per render:
loop iterations, call depth, output characters, the size of every string or list an operation
makes (checked *before* the operation runs where the size is known up front), the total of those
sizes, integer sizes and wall time. Exceeding any of them raises one
:class:`~codex_stacks.errors.TemplateError` naming the limit and the template's file and line.

The rule that keeps it sound: every single step a template can take without passing a
checkpoint (one operator, one filter, one method call, one ``str()`` of a value) is bounded by
the size limits, and the loop and call checkpoints bound how many steps there are (count and
clock). Per-render state lives in a :class:`contextvars.ContextVar`, never in signals, so it works
off the main thread (Pulumi renders from a thread pool). See docs/template-budget.md.
"""

from __future__ import annotations

import math
import os
import re
import time
import types
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from functools import wraps
from itertools import chain
from pathlib import Path
from string import Formatter
from typing import Any, Final, NoReturn

from jinja2 import Template, TemplateRuntimeError, TemplateSyntaxError, nodes, pass_context, pass_environment
from jinja2.compiler import CodeGenerator, Frame, operators, optimizeconst
from jinja2.constants import LOREM_IPSUM_WORDS
from jinja2.environment import TemplateExpression, TemplateModule
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.filters import make_attrgetter
from jinja2.parser import Parser
from jinja2.runtime import BlockReference, Context, LoopContext, Macro, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from jinja2.tests import TESTS as DEFAULT_TESTS
from jinja2.utils import Namespace, _PassArg, generate_lorem_ipsum
from markupsafe import Markup

from codex_stacks.errors import ConfigError, Location, TemplateError

# --------------------------------------------------------------------------- the budget

ENVIRONMENT_VARIABLES: Final[Mapping[str, str]] = {
    "max_output": "CODEX_TEMPLATE_MAX_OUTPUT",
    "max_loops": "CODEX_TEMPLATE_MAX_LOOPS",
    "max_depth": "CODEX_TEMPLATE_MAX_DEPTH",
    "max_int_bits": "CODEX_TEMPLATE_MAX_INT_BITS",
    "max_size": "CODEX_TEMPLATE_MAX_SIZE",
    "max_total": "CODEX_TEMPLATE_MAX_TOTAL",
    "max_seconds": "CODEX_TEMPLATE_MAX_SECONDS",
}
"""The operator's variables, one per :class:`RenderBudget` field (docs/template-budget.md)."""


@dataclass(frozen=True, slots=True)
class RenderBudget:
    """What one render may spend. The defaults are far above what a manifest of a few hundred
    lines or a prompt of a few KB needs, and far below what hurts the machine."""

    max_output: int = 2_000_000
    """Characters written per render, at every level the text passes through: what a template
    (and each template it includes or extends) yields, and what macros, call blocks, ``{% set %}``
    and ``{% filter %}`` blocks write into their buffers."""
    max_loops: int = 200_000
    """``{% for %}`` iterations per render, nested and recursive loops included."""
    max_depth: int = 64
    """How deep macro calls, ``caller()`` and recursive loops nest; also how deeply a list,
    tuple or dict may nest when it is printed, compared or hashed."""
    max_int_bits: int = 4096
    """Bits of any integer an operator or filter makes (4096 bits: 1,233 decimal digits)."""
    max_size: int = 1_000_000
    """Characters of a string, or items of a list, that one operation makes or prints."""
    max_total: int = 16_000_000
    """Sum of the sizes of everything the render's operations made: bounds memory when a loop
    keeps what each iteration builds."""
    max_seconds: float = 5.0
    """Wall time per render, checked at every loop iteration, call, filter, test and include."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"RenderBudget.{field.name} must be a number above 0, not {value!r}")
            if field.name != "max_seconds" and not isinstance(value, int):
                raise ValueError(f"RenderBudget.{field.name} must be a whole number, not {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"RenderBudget.{field.name} must be finite, not {value!r}")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> RenderBudget:
        """The defaults, overridden by the operator's ``CODEX_TEMPLATE_*`` variables (unset or
        empty keeps the default). A template's author cannot set these: they are the process's
        environment, not the template context."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, variable in ENVIRONMENT_VARIABLES.items():
            raw = environ.get(variable, "").strip()
            if raw:
                values[name] = _parse_seconds(variable, raw) if name == "max_seconds" else _parse_count(variable, raw)
        return cls(**values)


_COUNT_RE = re.compile(r"\d[\d_]*")


def _shown(raw: str) -> str:
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


def _parse_count(variable: str, raw: str) -> int:
    if not _COUNT_RE.fullmatch(raw) or len(raw) > 18 or int(raw) < 1:
        raise ConfigError(
            f"must be a whole number above 0, got {_shown(raw)}",
            location=Location(path=variable),
        )
    return int(raw)


def _parse_seconds(variable: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(
            f"must be a number of seconds above 0, got {_shown(raw)}",
            location=Location(path=variable),
        )
    return value


# --------------------------------------------------------------------------- exceeding it


class BudgetExceededError(TemplateRuntimeError):
    """Raised inside a render; the render turns it into a TemplateError with file and line.

    A Jinja ``TemplateRuntimeError`` (code that reports Jinja's errors reports it too), and not a
    TypeError/ValueError/LookupError, which some filters catch and swallow."""

    def __init__(self, field: str, limit: object, *, what: str | None = None) -> None:
        self.field = field
        self.limit = limit
        default_what, unit = _WHAT[field]
        shown = f"{float(limit):g}{unit}" if field == "max_seconds" else f"{limit}{unit}"  # type: ignore[arg-type]
        super().__init__(f"template budget exceeded: {what or default_what} > {shown} ({ENVIRONMENT_VARIABLES[field]})")


_WHAT: Final[Mapping[str, tuple[str, str]]] = {
    "max_output": ("output characters", ""),
    "max_loops": ("loop iterations", ""),
    "max_depth": ("call depth", ""),
    "max_int_bits": ("integer size", " bits"),
    "max_size": ("size of a value (characters or items)", ""),
    "max_total": ("total size of the values made", ""),
    "max_seconds": ("render time", " s"),
}

_CONVERTED = (BudgetExceededError, RecursionError, MemoryError, OverflowError)
"""What a render turns into one clean TemplateError instead of a traceback."""


def _template_location(tb: types.TracebackType | None) -> tuple[str | None, int | None]:
    """The innermost template frame: a compiled template's own frame (``__jinja_template__``)
    or the stand-in frame Jinja's traceback rewriting puts in its place."""
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        frame_globals = tb.tb_frame.f_globals
        template = frame_globals.get("__jinja_template__")
        if isinstance(template, Template):
            found = (template.filename, template.get_corresponding_lineno(tb.tb_lineno))
        elif "__jinja_exception__" in frame_globals:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _as_template_error(exc: BaseException) -> TemplateError:
    filename, line = _template_location(exc.__traceback__)
    if isinstance(exc, BudgetExceededError):
        message = str(exc)
    elif isinstance(exc, RecursionError):
        message = "template recursion is too deep (Python's recursion limit)"
    elif isinstance(exc, MemoryError):
        message = "template ran out of memory"
    else:
        message = "template failed: a number is too large to compute"
    file = Path(filename) if filename and filename != "<template>" else None
    return TemplateError(message, location=Location(file=file, line=line))


# --------------------------------------------------------------------------- per-render state

_monotonic = time.monotonic
_FLAT: Final = frozenset({str, int, float, bool, type(None)})
"""Values whose text and hash cost nothing to bound (ints are bounded where they are made)."""
_WALKED: Final[tuple[type, ...]] = (
    list,
    tuple,
    dict,
    set,
    frozenset,
    deque,
    type({}.keys()),
    type({}.values()),
    type({}.items()),
)
"""Containers whose ``str()``, hash and comparison walk every item, in C, without a checkpoint."""
_PRINTED: Final[tuple[type, ...]] = (*_WALKED, Namespace)
"""Values whose text is measured before it is printed (a namespace prints its attributes)."""
_SIZED: Final = (str, bytes, bytearray, list, tuple, dict, set, frozenset, deque)
"""Results whose size an operation is charged for."""
_SIZED_TYPES: Final = frozenset(_SIZED)
_GROWABLE: Final = (list, dict, set, deque, bytearray)


class _Meter:
    """The counters of one render (or of one unscoped call, which counts nothing). The limits
    are copied into slots: these methods run for every operation a template performs."""

    __slots__ = (
        "budget", "deadline", "depth", "left", "loops", "max_depth", "max_loops", "max_output", "max_size",
        "max_total", "output", "scoped", "total",
    )  # fmt: skip

    def __init__(self, budget: RenderBudget, *, scoped: bool = True) -> None:
        self.budget = budget
        self.scoped = scoped
        self.max_loops = budget.max_loops
        self.max_depth = budget.max_depth
        self.max_output = budget.max_output
        self.max_size = budget.max_size
        self.max_total = budget.max_total
        self.loops = self.output = self.total = self.depth = 0
        self.left = budget.max_seconds
        self.deadline = _monotonic() + budget.max_seconds if scoped else math.inf

    def pause(self) -> None:
        self.left = self.deadline - _monotonic()
        self.deadline = math.inf

    def resume(self) -> None:
        self.deadline = _monotonic() + self.left

    def fail(self, field: str, *, what: str | None = None) -> NoReturn:
        raise BudgetExceededError(field, getattr(self.budget, field), what=what)

    def clock(self) -> None:
        if _monotonic() > self.deadline:
            self.fail("max_seconds")

    def loop(self) -> None:
        """After the iteration is counted: fail if it was one too many, or too late."""
        if self.loops > self.max_loops:
            self.fail("max_loops")
        if _monotonic() > self.deadline:
            self.fail("max_seconds")

    def wrote(self, count: int) -> None:
        if self.scoped:
            self.output += count
            if self.output > self.max_output:
                self.fail("max_output")

    def expect(self, size: int) -> None:
        """Before an operation that will make ``size`` characters or items."""
        if size > self.max_size:
            self.fail("max_size")
        if self.total + size > self.max_total:
            self.fail("max_total")

    def made(self, size: int) -> None:
        """After an operation made ``size`` characters or items."""
        if size > self.max_size:
            self.fail("max_size")
        if self.scoped:
            self.total += size
            if self.total > self.max_total:
                self.fail("max_total")

    def int_bits(self, bits: int) -> None:
        if bits > self.budget.max_int_bits:
            self.fail("max_int_bits")

    def result(self, value: Any, *, charge: bool = True) -> Any:
        """Check (and charge) what an operation returned."""
        kind = type(value)
        if kind is str or kind in _SIZED_TYPES or (kind not in _FLAT and isinstance(value, _SIZED)):
            if charge:
                self.made(len(value))
            elif len(value) > self.max_size:
                self.fail("max_size")
        elif kind is int:
            self.int_bits(value.bit_length())
        return value

    def text(self, value: object) -> tuple[int, int]:
        """``(characters, nesting)`` of ``str(value)``, estimated without building it; fails past
        the size limit or the nesting limit. A shared item counts each time it appears, as in
        the text, but is walked once; a container inside itself counts as ``[...]``."""
        if not isinstance(value, _PRINTED):
            return _leaf_size(value), 0
        limit = self.budget.max_size
        kind = type(value)
        if kind is dict or kind is list or kind is tuple:  # most often flat: one pass, no frames
            container: Any = value
            flat = 2 + (4 if kind is dict else 2) * len(container)
            for child in chain(container.keys(), container.values()) if kind is dict else container:
                child_kind = type(child)
                if child_kind is str:
                    flat += len(child) + 2
                elif child_kind in _SMALL:
                    flat += _leaf_size(child)
                else:
                    break
                if flat > limit:
                    self.fail("max_size")
            else:
                if flat > limit:  # an empty one: its brackets alone
                    self.fail("max_size")
                return flat, 1
        max_nesting = self.budget.max_depth
        total = deepest = 0
        known: dict[int, int] = {}  # text size of each container already walked
        inside: set[int] = set()  # the containers on the current path
        frames: list[list[Any]] = []  # [id, items iterator, total when opened, saw a cycle]
        item: Any = value
        while item is not None:
            key = id(item)
            opened = total
            if isinstance(item, Namespace):
                total += 13
                item = item._Namespace__attrs
            if isinstance(item, dict):
                total += 2 + 4 * len(item)
                items: Iterator[Any] = chain.from_iterable(item.items())
            else:
                total += 2 + 2 * len(item)
                items = iter(item)
            if total > limit:
                self.fail("max_size")
            inside.add(key)
            frames.append([key, items, opened, False])
            if len(frames) > deepest:
                deepest = len(frames)
                if deepest > max_nesting:
                    self.fail("max_depth", what="nesting of a value")
            item = None
            while frames and item is None:
                frame = frames[-1]
                for child in frame[1]:
                    kind = type(child)
                    if kind is str:
                        total += len(child) + 2
                    elif kind in _SMALL:
                        total += _leaf_size(child)
                    elif isinstance(child, _PRINTED):
                        child_key = id(child)
                        size = known.get(child_key)
                        if size is not None:
                            total += size
                        elif child_key in inside:
                            total += 5
                            frame[3] = True
                        else:
                            item = child
                            break
                    else:
                        total += _leaf_size(child) + 2
                    if total > limit:
                        self.fail("max_size")
                else:
                    frames.pop()
                    inside.discard(frame[0])
                    if frame[3]:  # its text depends on the path: not reusable
                        if frames:
                            frames[-1][3] = True
                    else:
                        known[frame[0]] = total - frame[2]
        return total, deepest


_SMALL: Final = frozenset({int, float, bool, type(None)})


def _leaf_size(value: object) -> int:
    if isinstance(value, str):
        return len(value)
    if type(value) is int:
        return value.bit_length() * 30103 // 100_000 + 2
    return 8


_STATE: ContextVar[_Meter | None] = ContextVar("codex_template_budget", default=None)


def _meter(budget: RenderBudget) -> _Meter:
    """The render's meter, or a throw-away one (size checks only) outside any render."""
    meter = _STATE.get()
    return meter if meter is not None else _Meter(budget, scoped=False)


@contextmanager
def budget_scope(budget: RenderBudget) -> Iterator[None]:
    """Every render and evaluation inside shares one budget (counters and deadline).

    Renders open a scope of their own when none is active; the outermost scope wins, so
    wrapping the load of a whole services.yaml in one scope bounds all its values together.
    A scope belongs to the thread (context) that opened it."""
    if _STATE.get() is not None:
        yield
        return
    token = _STATE.set(_Meter(budget))
    try:
        yield
    finally:
        _STATE.reset(token)


# --------------------------------------------------------------------------- size rules


def _is_int(value: object) -> bool:
    return isinstance(value, int)


def _text_size(meter: _Meter, value: object) -> int:
    return len(value) if isinstance(value, str) else meter.text(value)[0]


_CALL_PLUMBING: Final = frozenset({"_loop_vars", "_block_vars"})
"""Keyword arguments Jinja adds to calls made inside loops and blocks (not the template's)."""


def _check_arguments(meter: _Meter, args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
    """Containers passed to code that may print, hash or compare them."""
    for value in args:
        if type(value) not in _FLAT and isinstance(value, _PRINTED):
            meter.text(value)
    if kwargs:
        for key, value in kwargs.items():
            if type(value) not in _FLAT and isinstance(value, _PRINTED) and key not in _CALL_PLUMBING:
                meter.text(value)


def _count(text: str) -> int:
    """A width or precision written in a format string (absurd lengths stay absurd)."""
    return int(text) if len(text) <= 18 else 10**18


_PRINTF_RE = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d*))?[hlL]?(?P<kind>.)", re.S
)


def _printf_size(meter: _Meter, template: str, values: Any) -> int:
    """Characters of ``template % values`` at most, from its conversions, before formatting."""
    positional: tuple[Any, ...] = values if isinstance(values, tuple) else (values,)
    mapping = values if isinstance(values, Mapping) else None
    total = len(template)
    index = 0
    for match in _PRINTF_RE.finditer(template):
        if match["kind"] == "%":
            continue
        for part in (match["width"], match["precision"]):
            if part == "*":
                star = positional[index] if index < len(positional) else 0
                index += 1
                total += abs(star) if _is_int(star) else 0
            elif part:
                total += _count(part)
        if match["key"] is not None and mapping is not None:
            value: Any = mapping.get(match["key"], "")
        elif index < len(positional):
            value = positional[index]
            index += 1
        else:
            value = values
        total += _text_size(meter, value) if type(value) is not int else value.bit_length() // 3 + 2
        if total > meter.budget.max_size:
            meter.fail("max_size")
    return total


_SPEC_RE = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<precision>\d*))?[a-zA-Z%]?", re.S)


class _BoundedFormatterMixin(Formatter):
    """``str.format``: each field's width, precision and text checked before it is formatted,
    and the running total of the result."""

    budget: RenderBudget
    written = 0

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is not None:
            _meter(self.budget).text(value)
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        meter = _meter(self.budget)
        spec = _SPEC_RE.fullmatch(format_spec)
        width = _count(spec["width"]) if spec and spec["width"] else 0
        precision = _count(spec["precision"]) if spec and spec["precision"] else 0
        size = _text_size(meter, value) if type(value) is not int else value.bit_length() // 3 + 2
        meter.expect(self.written + max(width, size + precision))
        text = super().format_field(value, format_spec)
        self.written += len(text)
        return text


class _BoundedFormatter(_BoundedFormatterMixin, SandboxedFormatter):
    def __init__(self, env: BudgetedEnvironment) -> None:
        super().__init__(env)
        self.budget = env.budget


class _BoundedEscapeFormatter(_BoundedFormatterMixin, SandboxedEscapeFormatter):
    def __init__(self, env: BudgetedEnvironment, escape: Callable[[Any], Markup]) -> None:
        super().__init__(env, escape=escape)
        self.budget = env.budget


# str/bytes methods whose result size is known before they run (the rest are at most a small
# multiple of their input, checked after).
def _text_method_size(
    meter: _Meter, owner: Any, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, ...]:
    if name in ("center", "ljust", "rjust", "zfill") and args and _is_int(args[0]):
        meter.expect(max(len(owner), args[0]))
    elif name == "expandtabs":
        tabsize = _param(args, kwargs, 0, "tabsize", 8)
        tabsize = tabsize if _is_int(tabsize) else 8
        tab = "\t" if isinstance(owner, str) else b"\t"
        meter.expect(len(owner) + owner.count(tab) * max(tabsize, 0))
    elif name == "join" and len(args) == 1:
        items = args[0] if isinstance(args[0], list | tuple) else list(args[0])
        size = sum(len(item) for item in items if isinstance(item, str | bytes | bytearray))
        meter.expect(size + len(owner) * max(len(items) - 1, 0))
        return (items,)
    elif name == "replace" and len(args) >= 2 and all(isinstance(a, str | bytes | bytearray) for a in args[:2]):
        old, new = args[0], args[1]
        times = owner.count(old) if old else len(owner) + 1
        if len(args) > 2 and _is_int(args[2]) and args[2] >= 0:
            times = min(times, args[2])
        meter.expect(len(owner) + times * max(len(new) - len(old), 0))
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        meter.expect(len(owner) * max(longest, 1))
    return args


_GROW_ONE: Final = frozenset({"append", "insert", "add", "appendleft", "setdefault"})
_GROW_MANY: Final = frozenset({"extend", "update", "extendleft", "union", "symmetric_difference"})
_COMPARE_ITEMS: Final = frozenset({"index", "count", "remove", "sort"})
_SELECTORS: Final = frozenset({"get", "pop", "popitem", "popleft", "setdefault", "index", "count"})


def _container_method_size(meter: _Meter, owner: Any, name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if name in _GROW_ONE:
        meter.expect(len(owner) + 1)
    elif name in _GROW_MANY:
        args = tuple(a if hasattr(a, "__len__") else list(a) for a in args)
        meter.expect(len(owner) + sum(len(a) for a in args))
    elif name in _COMPARE_ITEMS:
        meter.text(owner)
    if name not in ("append", "insert", "extend", "appendleft", "extendleft"):
        _check_arguments(meter, args, {})
    return args


# --------------------------------------------------------------------------- filters and tests

_QUIET_FILTERS: Final = frozenset(
    {
        "abs", "attr", "count", "d", "default", "filesizeformat", "first", "float", "items", "last",
        "length", "list", "map", "random", "reject", "rejectattr", "reverse", "select", "selectattr", "sum",
    }
)  # fmt: skip
"""Built-in filters that neither print, hash nor compare their arguments."""
_SELECTOR_FILTERS: Final = frozenset({"attr", "d", "default", "first", "last", "random", "max", "min"})
"""Built-in filters that return an existing value (nothing new to charge)."""
_QUIET_TESTS: Final = frozenset(
    {
        "odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none", "boolean",
        "false", "true", "integer", "float", "string", "mapping", "number", "sequence", "iterable",
        "callable", "sameas", "escaped",
    }
)  # fmt: skip
"""Built-in tests that neither print, hash nor compare their arguments."""


def _param(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str, default: Any) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _materialized(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The first argument as a concrete sequence, so that it can be measured before use."""
    if args and not isinstance(args[0], (str, *_WALKED)):
        return (list(args[0]), *args[1:])
    return args


FilterCheck = Callable[[_Meter, "BudgetedEnvironment", tuple[Any, ...], dict[str, Any]], tuple[Any, ...]]


def _check_center(
    meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]
) -> tuple[Any, ...]:
    width = _param(args, kw, 1, "width", 80)
    size = _text_size(meter, args[0])
    meter.expect(max(size, width if _is_int(width) else 0))
    return args


def _check_indent(
    meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]
) -> tuple[Any, ...]:
    width = _param(args, kw, 1, "width", 4)
    step = len(width) if isinstance(width, str) else width if _is_int(width) else 0
    text = args[0]
    size = _text_size(meter, text)
    lines = text.count("\n") + 2 if isinstance(text, str) else size + 1
    meter.expect(size + lines * max(step, 0))
    return args


def _check_wordwrap(
    meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]
) -> tuple[Any, ...]:
    width = _param(args, kw, 1, "width", 79)
    wrapstring = _param(args, kw, 3, "wrapstring", None)
    text = args[0]
    size = _text_size(meter, text)
    joint = len(wrapstring) if isinstance(wrapstring, str) else len(env.newline_sequence)
    # Two consecutive wrapped lines hold more than ``width`` characters, unless a paragraph ends.
    paragraphs = text.count("\n") + 2 if isinstance(text, str) else size + 1
    lines = min(size + 1, 2 * size // max(width if _is_int(width) else 1, 1) + paragraphs)
    meter.expect(size + lines * joint)
    return args


def _check_format(
    meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]
) -> tuple[Any, ...]:
    if isinstance(args[0], str):
        meter.expect(_printf_size(meter, args[0], kw or args[1:]))
    else:
        _check_arguments(meter, args, kw)
    return args


def _check_join(meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]) -> tuple[Any, ...]:
    separator = _param(args, kw, 1, "d", "")
    attribute = _param(args, kw, 2, "attribute", None)
    items = list(args[0])
    if attribute is not None:
        getter = make_attrgetter(env, attribute)
        items = [getter(item) for item in items]
    size = sum(_text_size(meter, item) for item in items)
    meter.expect(size + _text_size(meter, separator) * max(len(items) - 1, 0))
    kw.pop("d", None)
    kw.pop("attribute", None)
    return (items, separator)


def _check_replace(
    meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]
) -> tuple[Any, ...]:
    text, old, new = args[0], _param(args, kw, 1, "old", ""), _param(args, kw, 2, "new", "")
    count = _param(args, kw, 3, "count", None)
    size = _text_size(meter, text)
    old_size, new_size = _text_size(meter, old), _text_size(meter, new)
    times = size + 1
    if isinstance(text, str) and isinstance(old, str) and old:
        times = text.count(old)
    if _is_int(count) and count >= 0:
        times = min(times, count)
    meter.expect(size + times * max(new_size - old_size, 0))
    return args


def _check_fill(index: int, name: str) -> FilterCheck:
    def check(meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]) -> tuple[Any, ...]:
        count = _param(args, kw, index, name, 0)
        if _is_int(count):
            meter.expect(count)
        return args

    return check


def _check_round(meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]) -> tuple[Any, ...]:
    precision = _param(args, kw, 1, "precision", 0)
    if _is_int(precision) and precision > 0:  # ceil/floor compute 10**precision
        meter.int_bits(math.ceil(precision * math.log2(10)))
    return args


def _check_int(meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]) -> tuple[Any, ...]:
    if isinstance(args[0], str | bytes) and len(args[0]) > 4 * meter.budget.max_int_bits:
        meter.int_bits(len(args[0]))
    return args


def _check_tojson(
    meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]
) -> tuple[Any, ...]:
    size, nesting = meter.text(args[0])
    indent = _param(args, kw, 1, "indent", None)
    step = len(indent) if isinstance(indent, str) else indent if _is_int(indent) else 0
    # Each item goes on its own line, indented by ``step`` per level.
    meter.expect(size * (1 + max(step, 0) * nesting) if step else size)
    return args


def _check_pprint(
    meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]
) -> tuple[Any, ...]:
    size, nesting = meter.text(args[0])
    meter.expect(size * (1 + nesting))
    return args


def _check_compared(
    meter: _Meter, env: BudgetedEnvironment, args: tuple[Any, ...], kw: dict[str, Any]
) -> tuple[Any, ...]:
    args = _materialized(args)
    _check_arguments(meter, args, kw)
    return args


_FILTER_CHECKS: Final[Mapping[str, FilterCheck]] = {
    "center": _check_center,
    "indent": _check_indent,
    "wordwrap": _check_wordwrap,
    "format": _check_format,
    "join": _check_join,
    "replace": _check_replace,
    "batch": _check_fill(1, "linecount"),
    "slice": _check_fill(1, "slices"),
    "round": _check_round,
    "int": _check_int,
    "tojson": _check_tojson,
    "pprint": _check_pprint,
    "unique": _check_compared,
    "sort": _check_compared,
    "dictsort": _check_compared,
    "groupby": _check_compared,
    "min": _check_compared,
    "max": _check_compared,
}


@pass_environment
def _bounded_sum(
    environment: BudgetedEnvironment, iterable: Iterable[Any], attribute: Any = None, start: Any = 0
) -> Any:
    """The ``sum`` filter without Python's quadratic adding of lists: lists and tuples are
    measured, then joined once."""
    items = list(iterable)
    if attribute is not None:
        getter = make_attrgetter(environment, attribute)
        items = [getter(item) for item in items]
    kind = type(start)
    if kind in (list, tuple) and all(type(item) is kind for item in items):
        _meter(environment.budget).expect(len(start) + sum(len(item) for item in items))
        return kind(chain(start, *items))
    return sum(items, start)


_GUARD_MARK: Final = "_codex_budget_guard"
_CHECKED_BY_NAME: Final = frozenset({"tojson"})
"""Filters checked like the built-in of that name even when replaced (the project's own
``tojson`` takes the same ``value, indent`` and can be asked for a billion-space indent)."""


def _passed(pass_arg: _PassArg, context: Context) -> Any:
    """What a ``pass_context``/``pass_eval_context``/``pass_environment`` function takes first."""
    if pass_arg is _PassArg.context:
        return context
    if pass_arg is _PassArg.eval_context:
        return context.eval_ctx
    return context.environment


def _unscoped(context: Context) -> _Meter:
    env = context.environment
    return _Meter(env.budget if isinstance(env, BudgetedEnvironment) else RenderBudget(), scoped=False)


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that measures its arguments (and, for the built-in ones that can grow a value,
    its result) before it runs. It takes the context, which also keeps Jinja from calling it at
    compile time, outside any budget."""
    if getattr(func, _GUARD_MARK, False):
        return func
    pass_arg = _PassArg.from_obj(func)
    builtin = DEFAULT_FILTERS.get(name) is func or (name == "sum" and func is _bounded_sum)
    check = _FILTER_CHECKS.get(name) if builtin or name in _CHECKED_BY_NAME else None
    quiet = builtin and name in _QUIET_FILTERS
    selector = builtin and name in _SELECTOR_FILTERS

    @wraps(func)
    def guarded(context: Context, *args: Any, **kwargs: Any) -> Any:
        meter = _STATE.get() or _unscoped(context)
        if _monotonic() > meter.deadline:  # map/select call filters and tests item by item
            meter.fail("max_seconds")
        if check is not None:
            args = check(meter, context.environment, args, kwargs)  # type: ignore[arg-type]
        elif not quiet:
            _check_arguments(meter, args, kwargs)
        value = func(*args, **kwargs) if pass_arg is None else func(_passed(pass_arg, context), *args, **kwargs)
        if type(value) in _FLAT and type(value) is not str:
            return meter.result(value) if type(value) is int else value
        return meter.result(value, charge=not selector and not (args and value is args[0]))

    setattr(guarded, _GUARD_MARK, True)
    return pass_context(guarded)


def _guard_test(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A test that measures containers it may print or compare before it runs."""
    if getattr(func, _GUARD_MARK, False):
        return func
    pass_arg = _PassArg.from_obj(func)
    quiet = DEFAULT_TESTS.get(name) is func and name in _QUIET_TESTS

    @wraps(func)
    def guarded(context: Context, *args: Any, **kwargs: Any) -> Any:
        meter = _STATE.get()
        if meter is not None and _monotonic() > meter.deadline:
            meter.fail("max_seconds")
        if not quiet:
            _check_arguments(meter or _unscoped(context), args, kwargs)
        if pass_arg is None:
            return func(*args, **kwargs)
        return func(_passed(pass_arg, context), *args, **kwargs)

    setattr(guarded, _GUARD_MARK, True)
    return pass_context(guarded)


class _GuardedTable(dict[str, Callable[..., Any]]):
    """``env.filters``/``env.tests``: whatever is added later (e.g. ``slug``) is guarded too."""

    def __init__(self, items: Mapping[str, Any], guard: Callable[[str, Callable[..., Any]], Any]) -> None:
        super().__init__()
        self._guard = guard
        self.update(items)

    def __setitem__(self, key: str, value: Callable[..., Any]) -> None:
        super().__setitem__(key, self._guard(key, value))

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Callable[..., Any]:
        if key not in self:
            self[key] = default
        return self[key]

    def __ior__(self, other: Any) -> _GuardedTable:  # type: ignore[override,misc]
        self.update(other)
        return self


# --------------------------------------------------------------------------- globals


@pass_environment
def _bounded_range(environment: BudgetedEnvironment, *args: int) -> range:
    """``range`` of at most ``max_size`` items (the sandbox's own stops at 100,000)."""
    numbers = range(*args)
    try:
        size = len(numbers)
    except OverflowError:
        size = environment.budget.max_size + 1
    _meter(environment.budget).expect(size)
    return numbers


_LONGEST_WORD: Final = max(len(word) for word in LOREM_IPSUM_WORDS.split())


@pass_environment
def _bounded_lipsum(
    environment: BudgetedEnvironment, n: int = 5, html: bool = True, min: int = 20, max: int = 100
) -> str:
    """``lipsum`` whose paragraphs times words fit the size limit before any is generated."""
    words = max if max > min else min
    _meter(environment.budget).expect(n * words * (_LONGEST_WORD + 2) + n * 16)
    return generate_lorem_ipsum(n=n, html=html, min=min, max=max)


# --------------------------------------------------------------------------- code generation


_CHECKPOINT: Final = "budget_loop"
"""A ``{% for %}`` body starts with ``ExprStmt(EnvironmentAttribute("budget_loop"))`` (Jinja
allows no custom node types), which the generator writes as ``environment.budget_loop()``."""


def _is_checkpoint(node: nodes.Node) -> bool:
    return (
        isinstance(node, nodes.ExprStmt)
        and isinstance(node.node, nodes.EnvironmentAttribute)
        and node.node.name == _CHECKPOINT
    )


def _deep_line(tree: nodes.Node) -> int:
    """The line of the most deeply nested node of ``tree`` (found without recursion): where a
    template the generator cannot nest through is too deep."""
    deepest, line = -1, tree.lineno
    stack = [(tree, 0)]
    while stack:
        node, level = stack.pop()
        if level > deepest:
            deepest, line = level, node.lineno
        stack.extend((child, level + 1) for child in node.iter_child_nodes())
    return line


class BudgetCodeGenerator(CodeGenerator):
    """Jinja's generator plus the checkpoints: per loop iteration, per output buffer write,
    around ``~`` concatenation, comparison operands, dict keys and container literals."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        try:
            super().visit_Template(node, frame)
        except RecursionError:
            line = _deep_line(node)
            raise TemplateSyntaxError("the template nests too deeply", line, self.name, self.filename) from None

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not (node.body and _is_checkpoint(node.body[0])):
            marker = nodes.EnvironmentAttribute(_CHECKPOINT, lineno=node.lineno)
            node.body = [nodes.ExprStmt(marker, lineno=node.lineno), *node.body]
        super().visit_For(node, frame)

    def visit_ExprStmt(self, node: nodes.ExprStmt, frame: Frame) -> None:
        if _is_checkpoint(node):
            self.writeline(f"environment.{_CHECKPOINT}()", node)
        else:
            super().visit_ExprStmt(node, frame)

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        if frame.buffer is not None:  # Jinja leaves ``buffer.append(``/``extend((`` without a line:
            self.newline(node)  # an output limit reached there names the line the text starts on
        super().visit_Output(node, frame)

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.budget_buffer()")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            markup = "context.eval_ctx.volatile"  # the same switch as Jinja's own code
        else:
            markup = "True" if frame.eval_ctx.autoescape else "False"
        self.write("environment.budget_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(f"), {markup})")

    @optimizeconst
    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        self.write("(environment.budget_operand(")
        self.visit(node.expr, frame)
        self.write(")")
        for op in node.ops:
            self.visit(op, frame)
        self.write(")")

    def visit_Operand(self, node: nodes.Operand, frame: Frame) -> None:
        self.write(f" {operators[node.op]} environment.budget_operand(")
        self.visit(node.expr, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self.write("environment.budget_made(")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":
            super().visit_Tuple(node, frame)
            return
        self.write("environment.budget_made(")
        super().visit_Tuple(node, frame)
        self.write(")")

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self.write("environment.budget_made({")
        for idx, item in enumerate(node.items):
            if idx:
                self.write(", ")
            self.write("environment.budget_operand(")
            self.visit(item.key, frame)
            self.write("): ")
            self.visit(item.value, frame)
        self.write("})")


class _OutputBuffer(list[str]):
    """The buffer of a macro, call block, ``{% set %}`` or ``{% filter %}`` block: counts what
    is written, so a loop cannot pile up text that never reaches the top-level output."""

    __slots__ = ()

    def append(self, item: str) -> None:
        meter = _STATE.get()
        if meter is not None:  # inlined ``meter.wrote``
            meter.output += len(item)
            if meter.output > meter.max_output:
                meter.fail("max_output")
        list.append(self, item)

    def extend(self, items: Iterable[str]) -> None:
        items = tuple(items)
        meter = _STATE.get()
        if meter is not None:
            meter.wrote(sum(map(len, items)))
        list.extend(self, items)


# --------------------------------------------------------------------------- the environment

_TEMPLATE_CALLABLES: Final = (Macro, LoopContext, BlockReference)
"""Callables that run template code: they nest, so they count towards the call depth."""
_BINOPS: Final = frozenset({"+", "-", "*", "/", "//", "%", "**"})
_SHRINKING: Final = frozenset({"+", "-", "/", "//", "%"})
_NUMBERS: Final = frozenset({int, float, bool})


class BudgetedEnvironment(SandboxedEnvironment):
    """The sandbox with a :class:`RenderBudget`. Use it as any ``SandboxedEnvironment``: its
    templates' ``render``/``generate``, its expressions and ``make_module`` are bounded, and
    raise :class:`TemplateError` when the budget runs out."""

    code_generator_class = BudgetCodeGenerator
    intercepted_binops = _BINOPS
    # Unary ``+``/``-`` are left alone: they cannot make a value bigger than its operand.

    def __init__(self, *args: Any, budget: RenderBudget | None = None, **kwargs: Any) -> None:
        if kwargs.get("enable_async"):
            raise TypeError("BudgetedEnvironment renders synchronously only (its checkpoints are not async)")
        outer = kwargs.pop("finalize", None)
        if outer is not None and _PassArg.from_obj(outer) is not None:
            raise TypeError("BudgetedEnvironment accepts only a plain finalize function")
        super().__init__(*args, finalize=_finalize if outer is None else _after(outer), **kwargs)
        self.budget: RenderBudget = budget if budget is not None else RenderBudget()
        # Jinja types these as plain dicts of functions; a guarded table is a dict of callables.
        self.filters = _GuardedTable(self.filters, _guard_filter)  # type: ignore[assignment]
        self.filters["sum"] = _bounded_sum
        self.tests = _GuardedTable(self.tests, _guard_test)  # type: ignore[assignment]
        self.globals["range"] = _bounded_range
        self.globals["lipsum"] = _bounded_lipsum

    # -- checkpoints the generated code calls (``environment.budget_*``)

    def budget_loop(self) -> None:
        meter = _STATE.get()
        if meter is not None:  # inlined ``meter.loop()``: this runs once per iteration
            meter.loops += 1
            if meter.loops > meter.max_loops or _monotonic() > meter.deadline:
                meter.loop()

    def budget_buffer(self) -> list[str]:
        return _OutputBuffer()

    def budget_concat(self, items: tuple[Any, ...], markup: bool) -> str:
        meter = _STATE.get() or _Meter(self.budget, scoped=False)
        size = 0
        for item in items:
            size += len(item) if type(item) is str else _text_size(meter, item)
        meter.made(size)
        return markup_join(items) if markup else str_join(items)

    def budget_operand(self, value: Any) -> Any:
        if type(value) not in _FLAT and isinstance(value, _WALKED):
            _meter(self.budget).text(value)
        return value

    def budget_made(self, value: Any) -> Any:
        _meter(self.budget).made(len(value))
        return value

    # -- the sandbox's hooks

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        meter = _STATE.get() or _Meter(self.budget, scoped=False)
        kinds = (type(left), type(right))
        if operator in _SHRINKING and kinds[0] in _NUMBERS and kinds[1] in _NUMBERS:
            # Numbers that add, subtract or divide grow by one bit at most: check after.
            value = self.binop_table[operator](left, right)
            if type(value) is int and value.bit_length() > meter.budget.max_int_bits:
                meter.fail("max_int_bits")
            return value
        if operator == "*":
            if isinstance(left, _SIZED) and _is_int(right):
                meter.expect(len(left) * max(right, 0))
            elif isinstance(right, _SIZED) and _is_int(left):
                meter.expect(len(right) * max(left, 0))
            elif _is_int(left) and _is_int(right):
                meter.int_bits(left.bit_length() + right.bit_length() - 1)
        elif operator == "**":
            if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
                meter.int_bits((abs(left).bit_length() - 1) * right + 1)
        elif operator == "+":
            if isinstance(left, _SIZED) and isinstance(right, _SIZED):
                meter.expect(len(left) + len(right))
        elif operator == "%" and isinstance(left, str):
            meter.expect(_printf_size(meter, left, right))
        return meter.result(self.binop_table[operator](left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        meter = _STATE.get() or _Meter(self.budget, scoped=False)
        if _monotonic() > meter.deadline:
            meter.fail("max_seconds")
        if isinstance(obj, _TEMPLATE_CALLABLES):
            if meter.depth >= meter.max_depth:
                meter.fail("max_depth")
            meter.depth += 1
            try:
                return super().call(context, obj, *args, **kwargs)
            finally:
                meter.depth -= 1
        kind = type(obj)
        owner = obj.__self__ if kind is types.BuiltinMethodType or kind is types.MethodType else None
        if owner is None or isinstance(owner, types.ModuleType):
            # A function (a global such as ``env_or``, ``dict``, ``cycler``): it may print or
            # hash what it is given, and what it returns is checked.
            _check_arguments(meter, args, kwargs)
            value = super().call(context, obj, *args, **kwargs)
            if type(value) in _FLAT and type(value) is not str:
                return meter.result(value) if type(value) is int else value
            return meter.result(value, charge=not any(value is arg for arg in args))
        name = obj.__name__
        if isinstance(owner, str | bytes | bytearray):
            args = _text_method_size(meter, owner, name, args, kwargs)
        elif isinstance(owner, _WALKED):
            args = _container_method_size(meter, owner, name, args)
        elif _is_int(owner) and name == "to_bytes":
            meter.expect(_param(args, kwargs, 0, "length", 1))
        else:
            _check_arguments(meter, args, kwargs)
        growable = isinstance(owner, _GROWABLE)
        before = len(owner) if growable else 0
        value = super().call(context, obj, *args, **kwargs)
        if growable:
            meter.made(max(len(owner) - before, 0))  # what a list, dict or set grew by
        if value is owner or name in _SELECTORS:
            return meter.result(value, charge=False)
        return meter.result(value, charge=not any(value is arg for arg in args))

    def getitem(self, obj: Any, argument: Any) -> Any:
        if type(argument) not in _FLAT and isinstance(argument, _WALKED):
            _meter(self.budget).text(argument)  # hashing a key walks it
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format``/``format_map`` through a formatter that measures each field first."""
        if not isinstance(value, types.MethodType | types.BuiltinMethodType) or value.__name__ not in (
            "format",
            "format_map",
        ):
            return None
        owner = value.__self__
        if not isinstance(owner, str):
            return None
        str_type = type(owner)
        is_format_map = value.__name__ == "format_map"

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                kwargs, args = args[0], ()
            formatter: Formatter
            if isinstance(owner, Markup):
                formatter = _BoundedEscapeFormatter(self, escape=owner.escape)
            else:
                formatter = _BoundedFormatter(self)
            return str_type(formatter.vformat(owner, args, kwargs))

        wrapper.__name__ = value.__name__
        wrapper.__doc__ = value.__doc__
        return wrapper

    # -- includes, imports and the parser

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> Template:
        meter = _STATE.get()
        if meter is not None:
            meter.clock()
        return super().get_template(name, parent, globals)

    def select_template(self, names: Any, parent: str | None = None, globals: Any = None) -> Template:
        meter = _STATE.get()
        if meter is not None:
            meter.clock()
        return super().select_template(names, parent, globals)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Jinja's parser recurses per nesting level: a deep one is a syntax error, not a crash."""
        parser = Parser(self, source, name, filename)
        try:
            return parser.parse()
        except RecursionError:
            line = parser.stream.current.lineno
            raise TemplateSyntaxError("the template nests too deeply", line, name, filename) from None

    def compile_expression(self, source: str, undefined_to_none: bool = True) -> TemplateExpression:
        parser = Parser(self, source, state="variable")
        try:
            expr = parser.parse_expression()
            if not parser.stream.eos:
                raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno, None, None)
            expr.set_environment(self)
        except RecursionError:
            raise TemplateSyntaxError("the expression nests too deeply", 1, None, None) from None
        except TemplateSyntaxError:
            self.handle_exception(source=source)
        body = [nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)]
        template = self.from_string(nodes.Template(body, lineno=1))
        return BudgetedExpression(template, undefined_to_none)


@pass_environment
def _finalize(environment: BudgetedEnvironment, value: Any) -> Any:
    """Before ``{{ value }}`` prints: a container's text is measured first."""
    if type(value) not in _FLAT and isinstance(value, _PRINTED):
        _meter(environment.budget).text(value)
    return value


def _after(outer: Callable[[Any], Any]) -> Callable[[BudgetedEnvironment, Any], Any]:
    @pass_environment
    def finalize(environment: BudgetedEnvironment, value: Any) -> Any:
        return _finalize(environment, outer(value))

    return finalize


# --------------------------------------------------------------------------- templates


def _counted(render_func: Callable[[Context], Iterator[str]]) -> Callable[[Context], Iterator[str]]:
    """A template's root render function that counts what it yields. Past the limit, the error
    is thrown into the template's own generator, so that it names the line that wrote."""

    def root(context: Context) -> Iterator[str]:
        events: Any = render_func(context)  # a generator (compiled template code)
        meter = _STATE.get()
        if meter is None:  # outside any render: nothing to count against
            yield from events
            return
        for piece in events:
            meter.output += len(piece)
            if meter.output > meter.max_output:
                events.throw(BudgetExceededError("max_output", meter.max_output))
            yield piece

    return root


class BudgetedTemplate(Template):
    """A template whose ``render``, ``generate``, ``make_module`` and root render function run
    within the budget; what its root render function yields counts as output, whoever calls it
    (a render, an include, an import, an expression)."""

    environment: BudgetedEnvironment
    _counted_root: Callable[[Context], Iterator[str]]

    @property  # type: ignore[override]
    def root_render_func(self) -> Callable[[Context], Iterator[str]]:
        return self._counted_root

    @root_render_func.setter
    def root_render_func(self, func: Callable[[Context], Iterator[str]]) -> None:
        self._counted_root = _counted(func)

    def render(self, *args: Any, **kwargs: Any) -> str:
        with budget_scope(self.environment.budget):
            try:
                return super().render(*args, **kwargs)
            except _CONVERTED as exc:
                raise _as_template_error(exc) from None

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        """One piece at a time; the clock runs only while a piece is being made."""
        own = _Meter(self.environment.budget)
        own.pause()
        events = super().generate(*args, **kwargs)
        while True:
            outer = _STATE.get()
            token = _STATE.set(own) if outer is None else None
            if token is not None:
                own.resume()
            try:
                piece = next(events)
            except StopIteration:
                return
            except _CONVERTED as exc:
                raise _as_template_error(exc) from None
            finally:
                if token is not None:
                    own.pause()
                    _STATE.reset(token)
            yield piece

    def make_module(
        self, vars: dict[str, Any] | None = None, shared: bool = False, locals: Mapping[str, Any] | None = None
    ) -> TemplateModule:
        with budget_scope(self.environment.budget):
            try:
                return super().make_module(vars, shared, locals)
            except _CONVERTED as exc:
                raise _as_template_error(exc) from None


BudgetedEnvironment.template_class = BudgetedTemplate


class BudgetedExpression(TemplateExpression):
    """``compile_expression``'s callable, within the budget; its value is measured too, since
    the caller will print or serialise it."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        environment = self._template.environment
        assert isinstance(environment, BudgetedEnvironment)
        with budget_scope(environment.budget):
            try:
                value = super().__call__(*args, **kwargs)
                if type(value) not in _FLAT and isinstance(value, _PRINTED):
                    _meter(environment.budget).text(value)
                return value
            except _CONVERTED as exc:
                raise _as_template_error(exc) from None


# --------------------------------------------------------------------------- the API


def budgeted_environment(budget: RenderBudget | None = None, **env_kwargs: Any) -> BudgetedEnvironment:
    """The project's template environment: a sandbox with ``budget`` (defaults when None).

    ``env_kwargs`` go to :class:`jinja2.Environment` (``undefined=StrictUndefined``, …);
    filters and globals added afterwards are guarded too."""
    return BudgetedEnvironment(budget=budget, **env_kwargs)


def render_bounded(template: Template, context: Mapping[str, Any], *, budget: RenderBudget | None = None) -> str:
    """``template.render(context)`` within ``budget`` (default: the environment's).

    Budget overruns, ``RecursionError``, ``MemoryError`` and ``OverflowError`` become one
    :class:`TemplateError` with the template's file and line; every other error propagates
    exactly as ``Template.render`` raises it."""
    if not isinstance(template, BudgetedTemplate):
        raise TypeError("render_bounded needs a template of a BudgetedEnvironment")
    with budget_scope(budget if budget is not None else template.environment.budget):
        return template.render(context)


def evaluate_bounded(
    expression: TemplateExpression,
    context: Mapping[str, Any],
    *,
    budget: RenderBudget | None = None,
    file: Path | None = None,
    line: int | None = None,
) -> object:
    """The value of ``env.compile_expression(...)`` for ``context`` within ``budget``.

    An expression has no file of its own: ``file`` and ``line`` (the YAML scalar it came
    from) locate its budget errors."""
    if not isinstance(expression, BudgetedExpression):
        raise TypeError("evaluate_bounded needs an expression compiled by a BudgetedEnvironment")
    environment = expression._template.environment
    assert isinstance(environment, BudgetedEnvironment)
    with budget_scope(budget if budget is not None else environment.budget):
        try:
            return expression(context)
        except TemplateError as exc:
            if exc.location.file is not None or (file is None and line is None):
                raise
            raise TemplateError(exc.message, location=Location(file=file, line=line), hint=exc.hint) from None


__all__ = [
    "ENVIRONMENT_VARIABLES",
    "BudgetCodeGenerator",
    "BudgetExceededError",
    "BudgetedEnvironment",
    "BudgetedExpression",
    "BudgetedTemplate",
    "RenderBudget",
    "budget_scope",
    "budgeted_environment",
    "evaluate_bounded",
    "render_bounded",
]
