"""Jinja2 for services.yaml values and manifests: sandboxed, strict, bounded, and outside text
kept as data (docs/services-yaml.md, "Templates").

Two uses, one environment:

- a services.yaml value (:func:`evaluate`): a scalar that is exactly one ``{{ expression }}``
  keeps the expression's type (a number, a list, a mapping); any other text renders to a string;
- a manifest (:func:`render_text`): a text template whose output is YAML. Values that come from
  outside the repository (``env_or()``, ``codex:vars``) never reach that YAML as text: each is
  written as a placeholder that the parsed document gets back as exactly that string
  (:func:`restore_outside`), so a quote or a newline in an issue title cannot add a key. An
  outside value used inside a bigger expression (``'x-' ~ env_or('A')``) is allowed only when it
  cannot change YAML structure; otherwise the render fails naming where the value came from.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import jinja2
from jinja2 import nodes
from jinja2.debug import rewrite_traceback_stack
from jinja2.exceptions import SecurityError
from jinja2.parser import Parser

from codex_stacks.config.budget import (
    BudgetedEnvironment,
    BudgetExceededError,
    RenderBudget,
    budget_scope,
    budgeted_environment,
)
from codex_stacks.errors import CodexError, Location, TemplateError

_SLUG_RE = re.compile(r"[^a-z0-9]+")
_UNSAFE_RE = re.compile(r"[\n\r\"'#{}\[\]&*!|>%@`\\,]|: |^[\s\-?:]|\s$")
"""Characters that can change YAML structure when spliced into a manifest's text."""

FALSY_WORDS = frozenset({"", "false", "0", "no", "off", "none", "null"})


def slug(value: object) -> str:
    """Lowercase DNS-label-friendly form: ``Fix Login (#12)`` → ``fix-login-12``."""
    result = _SLUG_RE.sub("-", str(value).lower()).strip("-")
    return Outside.like(value, result)


def is_enabled(value: object) -> bool:
    """The meaning of an evaluated ``when:``: false, empty, 0, no (and the like) disable."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in FALSY_WORDS


_SECRET_TEXTS: set[str] = set()
"""Every secret value a template has read: masked in template errors (Jinja quotes what it
looked up: ``'dict object' has no attribute '<the value>'``)."""


def _masked(text: str) -> str:
    for value in sorted(_SECRET_TEXTS, key=len, reverse=True):
        text = text.replace(value, "[secret]")
    return text


class Outside(str):
    """A string that came from outside the repository: a runner variable (``env_or``), a
    ``codex:vars`` value. ``origin`` says where (never the value); ``secret`` masks it."""

    origin: str
    secret: bool

    def __new__(cls, value: str, *, origin: str, secret: bool = False) -> Outside:
        instance = super().__new__(cls, value)
        instance.origin = origin
        instance.secret = secret
        if secret and len(value) >= 4:
            _SECRET_TEXTS.add(str(value))
        return instance

    @staticmethod
    def like(source: object, value: str) -> str:
        """``value`` marked as outside text when ``source`` was."""
        if isinstance(source, Outside):
            return Outside(value, origin=source.origin, secret=source.secret)
        return value

    def __reduce__(self) -> tuple[Any, ...]:  # pickled as plain text: the mark is for rendering only
        return (str, (str(self),))


def unsafe_in_yaml(text: str) -> bool:
    """Whether ``text`` spliced into YAML could change its structure."""
    return bool(_UNSAFE_RE.search(text))


@dataclass
class OutsideValues:
    """The outside values one stack's templates have seen (to recognise them when derived)."""

    values: dict[str, Outside] = field(default_factory=dict)

    def add(self, value: Outside) -> Outside:
        if value and unsafe_in_yaml(value):
            self.values.setdefault(str(value), value)
        return value

    def found_in(self, text: str) -> Outside | None:
        for known, value in self.values.items():
            if known in text:
                return value
        return None


@dataclass
class _Output:
    """How a render treats the values it outputs (set per render, thread- and task-local)."""

    known: OutsideValues
    tokens_out: bool = False
    """Outside values leave as placeholders (a manifest's text), not as themselves (a value)."""
    seen: list[Outside] = field(default_factory=list)
    tokens: dict[str, Outside] = field(default_factory=dict)
    nonce: str = ""

    def finalize(self, value: Any) -> Any:
        if isinstance(value, Outside):
            self.seen.append(value)
            if self.tokens_out:
                token = f"zcodexoutside{len(self.tokens)}x{self.nonce}"
                self.tokens[token] = value
                return token
            return value
        if self.tokens_out and isinstance(value, str) and value and not isinstance(value, YamlSafe):
            derived = self.known.found_in(value)
            if derived is not None:
                raise CodexError(
                    f"the value of {derived.origin} is used inside a larger expression here, where its "
                    "text could change the YAML of this manifest",
                    hint=f"output it on its own, e.g. key: {{{{ {derived.origin} }}}}, or give it to a filter "
                    "that makes it safe (| quote)",
                )
        return value


_OUTPUT: ContextVar[_Output | None] = ContextVar("codex_template_output", default=None)


def _finalize(value: Any) -> Any:
    policy = _OUTPUT.get()
    return value if policy is None else policy.finalize(value)


class YamlSafe(str):
    """Text a filter made safe to splice into YAML (a quoted scalar): outside text inside it is fine."""


def quote(value: object) -> str:
    """A YAML double-quoted scalar of ``value``'s text: safe anywhere a value goes."""
    return YamlSafe(json.dumps(str(value), ensure_ascii=False))


def _tojson(value: object, indent: int | None = None) -> str:
    """Jinja's ``tojson`` (JSON is YAML), without HTML escaping, marked safe to splice."""
    return YamlSafe(json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=True))


@lru_cache(maxsize=1)
def environment() -> BudgetedEnvironment:
    """The one template environment: sandboxed (no attribute escapes), undefined is an error, every
    render within the operator's budget (docs/template-budget.md)."""
    env = budgeted_environment(
        RenderBudget.from_environ(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=_finalize,
    )
    env.filters["slug"] = slug
    env.filters["quote"] = quote
    env.filters["tojson"] = _tojson
    return env


def _template_line(tb: TracebackType | None, name: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _blank(text: str) -> bool:
    """Spaces around a lone expression do not make it text; a line break (a block scalar) does."""
    return not text.strip() and "\n" not in text


@lru_cache(maxsize=8192)
def _compile(source: str, name: str) -> tuple[bool | None, jinja2.Template]:
    """``source`` compiled once: True when it is exactly one expression (its value is kept),
    False for text, None when it holds statements (not allowed in a value)."""
    env = environment()
    tree = env.parse(source, name=name, filename=name)
    body = tree.body
    if any(not isinstance(node, nodes.Output) for node in body):
        return None, env.from_string("")
    single = None
    if len(body) == 1 and isinstance(body[0], nodes.Output):
        parts = [node for node in body[0].nodes if not (isinstance(node, nodes.TemplateData) and _blank(node.data))]
        if len(parts) == 1 and not isinstance(parts[0], nodes.TemplateData):
            single = parts[0]
    if single is not None:
        tree = nodes.Template([nodes.Assign(nodes.Name("result", "store"), single, lineno=single.lineno)], lineno=1)
        tree.set_environment(env)
    code = env.compile(tree, name=name, filename=name)
    return single is not None, env.template_class.from_code(env, code, env.make_globals(None))


def _fail(
    exc: BaseException, *, where: Callable[[int | None], Location], name: str, scope: Mapping[str, Any]
) -> NoReturn:
    """Raise ``exc`` as one TemplateError at the template's line (CodexErrors pass through).
    Called inside the ``except`` block: Jinja maps the generated code's lines to the template's."""
    if not isinstance(exc, jinja2.TemplateSyntaxError):
        exc = rewrite_traceback_stack(source=None)
    line = _template_line(exc.__traceback__, name)
    if isinstance(exc, CodexError):
        if exc.location.file is None and exc.location.line is None:
            raise TemplateError(exc.message, location=where(line), hint=exc.hint) from None
        raise exc
    if isinstance(exc, jinja2.TemplateSyntaxError):
        raise TemplateError(f"template syntax error: {exc.message}", location=where(exc.lineno)) from None
    if isinstance(exc, SecurityError):
        raise TemplateError(
            f"template is not allowed to do this: {exc}",
            location=where(line),
            hint="templates run in a sandbox: use the context variables, not Python internals",
        ) from None
    if isinstance(exc, BudgetExceededError):
        raise TemplateError(str(exc), location=where(line), hint="limits: docs/template-budget.md") from None
    if isinstance(exc, jinja2.UndefinedError):
        known = sorted(key for key in scope if not key.startswith("_"))
        raise TemplateError(
            f"undefined template variable: {_masked(str(exc.message))}",
            location=where(line),
            hint="known variables: " + ", ".join(known),
        ) from None
    if isinstance(exc, jinja2.TemplateError):
        raise TemplateError(f"template error: {_masked(str(exc))}", location=where(line)) from None
    # Any other error (an AttributeError of a filter given the wrong type, a dict changed while a
    # loop walks it) is the template's too: one line, never a traceback.
    message = _masked(f"{type(exc).__name__}: {exc}")
    raise TemplateError(f"template failed: {message}", location=where(line)) from None


def _run(
    template: jinja2.Template, scope: Mapping[str, Any], policy: _Output, *, expression: bool
) -> tuple[Any, list[Outside]]:
    token = _OUTPUT.set(policy)
    try:
        with budget_scope(environment().budget):
            lazy = hasattr(scope, "names")  # a Scope computes names on use and serves the globals itself
            context = template.new_context(scope if lazy else dict(scope), shared=lazy)  # type: ignore[arg-type]
            if expression:
                for _ in template.root_render_func(context):
                    pass
                result = context.vars["result"]
                if isinstance(result, jinja2.Undefined):
                    result._fail_with_undefined_error()
                return result, policy.seen
            return "".join(template.root_render_func(context)), policy.seen
    finally:
        _OUTPUT.reset(token)


def evaluate(
    source: str, scope: Mapping[str, Any], *, where: Callable[[int | None], Location], name: str, known: OutsideValues
) -> Any:
    """The value of one services.yaml scalar: one ``{{ expression }}`` keeps its type; other text
    is rendered to a string (marked :class:`Outside` when outside text went into it)."""
    pieces = _pieces(source, name)
    if pieces is not None:
        return _evaluate_pieces(pieces, scope, where=where, name=name, known=known)
    try:
        single, template = _compile(source, name)
        if single is None:
            raise TemplateError(  # located (the whole value) by _fail below
                "only {{ … }} expressions are allowed in services.yaml values, not {% … %} statements",
                hint="use when: to switch an item on or off, and vars: for values computed once",
            )
        value, seen = _run(template, scope, _Output(known=known), expression=single)
    except Exception as exc:  # every failure of a template is the template's (at the line it failed on)
        _fail(exc, where=where, name=name, scope=scope)
    if not single and seen:
        return Outside(value, origin=seen[0].origin, secret=any(item.secret for item in seen))
    return value


@dataclass(frozen=True, slots=True)
class _Piece:
    """Literal text of a value, or one of its expressions (compiled once, shared by every value)."""

    text: str | None
    expression: jinja2.Template | None
    line: int


_EXPRESSION_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


@lru_cache(maxsize=8192)
def _pieces(source: str, name: str) -> tuple[_Piece, ...] | None:
    """``source`` split into text and expressions; None when only the full compiler can read it
    (statements, comments, whitespace control, or braces the split cannot place)."""
    if "{%" in source or "{#" in source or "{{-" in source or "-}}" in source:
        return None
    pieces: list[_Piece] = []
    position = 0
    for match in _EXPRESSION_RE.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        if match.start() > position:
            pieces.append(_Piece(text=source[position : match.start()], expression=None, line=line))
        try:
            pieces.append(_Piece(text=None, expression=_expression(match.group(1), name), line=line))
        except jinja2.TemplateSyntaxError:
            return None
        position = match.end()
    if position < len(source):
        pieces.append(_Piece(text=source[position:], expression=None, line=source.count("\n", 0, position) + 1))
    if any(piece.text is not None and ("{{" in piece.text or "}}" in piece.text) for piece in pieces):
        return None
    return tuple(pieces)


@lru_cache(maxsize=8192)
def _expression(source: str, name: str) -> jinja2.Template:
    """One expression compiled to a template that stores its value in ``result``."""
    env = environment()
    parser = Parser(env, source, name=name, filename=name, state="variable")
    expression = parser.parse_expression()
    if not parser.stream.eos:
        raise jinja2.TemplateSyntaxError("expected the end of the expression", 1, name, name)
    tree = nodes.Template([nodes.Assign(nodes.Name("result", "store"), expression, lineno=1)], lineno=1)
    tree.set_environment(env)
    code = env.compile(tree, name=name, filename=name)
    return env.template_class.from_code(env, code, env.make_globals(None))


def _shifted(where: Callable[[int | None], Location], first: int, line: int | None) -> Location:
    """The location of line ``line`` of an expression that starts on line ``first`` of its value."""
    return where(first + (line or 1) - 1)


def _evaluate_pieces(
    pieces: tuple[_Piece, ...],
    scope: Mapping[str, Any],
    *,
    where: Callable[[int | None], Location],
    name: str,
    known: OutsideValues,
) -> Any:
    expressions = [piece for piece in pieces if piece.expression is not None]
    single = len(expressions) == 1 and all(piece.text is None or _blank(piece.text) for piece in pieces)
    policy = _Output(known=known)
    output: list[str] = []
    for piece in pieces:
        if piece.expression is None:
            output.append(piece.text or "")
            continue
        try:
            value, _ = _run(piece.expression, scope, policy, expression=True)
            if single:
                return value
            output.append(str(policy.finalize(value)))
        except CodexError as exc:
            if exc.location.file is None and exc.location.line is None:
                raise TemplateError(exc.message, location=where(piece.line), hint=exc.hint) from None
            raise
        except Exception as exc:  # every failure of a template is the template's
            _fail(exc, where=partial(_shifted, where, piece.line), name=name, scope=scope)
    text = "".join(output)
    if policy.seen:
        return Outside(text, origin=policy.seen[0].origin, secret=any(item.secret for item in policy.seen))
    return text


@dataclass(frozen=True)
class RenderedText:
    """A manifest's text with outside values as placeholders, and what each placeholder holds."""

    text: str
    outside: Mapping[str, Outside]


def render_text(text: str, scope: Mapping[str, Any], *, source: Path, known: OutsideValues) -> RenderedText:
    """Render a manifest template; outside values come back as placeholders (see module doc)."""
    name = str(source)
    policy = _Output(known=known, tokens_out=True, nonce=secrets.token_hex(6))
    try:
        _, template = _compile_text(text, name)
        rendered, _ = _run(template, scope, policy, expression=False)
    except Exception as exc:
        _fail(exc, where=lambda line: Location(file=source, line=line), name=name, scope=scope)
    return RenderedText(text=rendered, outside=dict(policy.tokens))


@lru_cache(maxsize=1024)
def _compile_text(text: str, name: str) -> tuple[bool, jinja2.Template]:
    env = environment()
    code = env.compile(text, name=name, filename=name)
    return False, env.template_class.from_code(env, code, env.make_globals(None))


def render(text: str, context: Mapping[str, Any], *, source: Path | str) -> str:
    """Render a text template with plain values (prompt partials, defaults): no outside values."""
    rendered = render_text(text, context, source=Path(source), known=OutsideValues())
    return restore_outside(rendered.text, rendered.outside) if rendered.outside else rendered.text


def restore_outside(value: Any, tokens: Mapping[str, Outside], secret_paths: list[str] | None = None) -> Any:
    """``value`` (a parsed document, or text) with every placeholder back to its exact text.

    A placeholder that is a whole scalar gives back the outside string itself; one inside a
    longer scalar is replaced in place. Paths of values that now hold a secret are appended to
    ``secret_paths`` (``spec.template.spec.containers[0].env[1].value``)."""
    if not tokens:
        return value
    return _restore(value, tokens, secret_paths, "")


def _restore(value: Any, tokens: Mapping[str, Outside], secret_paths: list[str] | None, path: str) -> Any:
    if isinstance(value, str):
        if "zcodexoutside" not in value:
            return value
        if value in tokens:
            found = tokens[value]
            if found.secret and secret_paths is not None:
                secret_paths.append(path)
            return str(found)
        secret = False
        for token, found in tokens.items():
            if token in value:
                value = value.replace(token, str(found))
                secret = secret or found.secret
        if secret and secret_paths is not None:
            secret_paths.append(path)
        return value
    if isinstance(value, dict):
        return {
            _restore(key, tokens, None, path): _restore(
                item, tokens, secret_paths, f"{path}.{key}" if path else str(key)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_restore(item, tokens, secret_paths, f"{path}[{index}]") for index, item in enumerate(value)]
    return value


ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FORBIDDEN_ENV_PREFIXES = (
    "PULUMI_",
    "ACTIONS_",
    "AWS_",
    "AZURE_",
    "ARM_",
    "GOOGLE_",
    "GCP_",
    "CLOUDSDK_",
    "DIGITALOCEAN_",
    "HCLOUD_",
    "DOCKER_",
    "TWINE_",
)
FORBIDDEN_ENV_NAMES = frozenset(
    {
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_PAT",
        "KUBECONFIG",
        "OPENAI_API_KEY",
        "CODEX_GH_PAT",
        "CONTEXT7_API_KEY",
        "SSH_AUTH_SOCK",
        "NPM_TOKEN",
        "NODE_AUTH_TOKEN",
        "PYPI_TOKEN",
    }
)
"""Runner credentials no template may read, declared or not (docs/security.md)."""


def forbidden_env(name: str) -> str | None:
    """Why ``env_or`` may never read ``name``, or None."""
    if name in FORBIDDEN_ENV_NAMES or name.startswith(FORBIDDEN_ENV_PREFIXES):
        return "it holds the runner's deploy or agent credentials"
    return None


@dataclass(frozen=True)
class EnvPolicy:
    """The variables a project declared in ``envVars`` (name → secret?), and the reader."""

    declared: Mapping[str, bool]
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def reader(self, known: OutsideValues) -> Callable[..., Any]:
        def env_or(name: object, default: object = "") -> Any:
            """The runner's variable ``name`` (declared in envVars), or ``default`` when unset or empty."""
            key = str(name)
            why = forbidden_env(key)
            if why is not None:
                raise CodexError(f"env_or({key!r}) is not allowed: {why}")
            if key not in self.declared:
                raise CodexError(
                    f"env_or({key!r}): {key} is not declared",
                    hint=f"declare it in services.yaml: envVars: {{{key}: {{}}}} (add secret: true for a secret)",
                )
            value = self.environ.get(key)
            if not value:
                return default
            return known.add(Outside(value, origin=f"env_or({key!r})", secret=self.declared[key]))

        return env_or


def outside_data(value: Any, *, origin: str, known: OutsideValues) -> Any:
    """``codex:vars`` values as data from outside: every string marked, recursively."""
    if isinstance(value, str):
        return known.add(Outside(value, origin=origin))
    if isinstance(value, dict):
        return {key: outside_data(item, origin=f"{origin}.{key}", known=known) for key, item in value.items()}
    if isinstance(value, list):
        return [outside_data(item, origin=f"{origin}[{index}]", known=known) for index, item in enumerate(value)]
    return value
