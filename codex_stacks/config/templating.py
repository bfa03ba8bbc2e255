"""Jinja2 templating of services.yaml and manifests: sandboxed, strict, with file/line errors."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from codex_stacks.errors import Location, TemplateError

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slug(value: object) -> str:
    """Lowercase DNS-label-friendly form: ``Fix Login (#12)`` → ``fix-login-12``."""
    return _SLUG_RE.sub("-", str(value).lower()).strip("-")


def env_or(name: str, default: object = "") -> str:
    """The OS environment variable ``name``, or ``default`` when it is unset or empty."""
    value = os.environ.get(name)
    return value if value else str(default)


FALSY_WORDS = frozenset({"", "false", "0", "no", "off", "none", "null"})


def is_enabled(value: object) -> bool:
    """The meaning of a rendered ``when:``: false, empty, 0, no (and the like) disable."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in FALSY_WORDS


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The one template environment: sandboxed (no attribute escapes), undefined is an error."""
    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["slug"] = slug
    env.globals["env_or"] = env_or
    return env


def _template_line(tb: TracebackType | None, name: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render(text: str, context: Mapping[str, Any], *, source: Path | str) -> str:
    """Render ``text`` with ``context``; every failure is a TemplateError naming file and line."""
    name = str(source)
    path = Path(source)
    try:
        template = _compile_named(text, name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error: {exc.message}", location=Location(file=path, line=exc.lineno)
        ) from None
    try:
        return template.render(context)
    except SecurityError as exc:
        raise TemplateError(
            f"template is not allowed to do this: {exc}",
            location=Location(file=path, line=_template_line(exc.__traceback__, name)),
            hint="templates run in a sandbox: use the context variables, not Python internals",
        ) from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(
            f"undefined template variable: {exc.message}",
            location=Location(file=path, line=_template_line(exc.__traceback__, name)),
            hint="known variables: " + ", ".join(sorted(k for k in context if not k.startswith("_"))),
        ) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(
            f"template error: {exc}",
            location=Location(file=path, line=_template_line(exc.__traceback__, name)),
        ) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(
            f"template failed: {type(exc).__name__}: {exc}",
            location=Location(file=path, line=_template_line(exc.__traceback__, name)),
        ) from None


@lru_cache(maxsize=1024)
def _compile_named(text: str, name: str) -> jinja2.Template:
    code = environment().compile(text, name=name, filename=name)
    return environment().template_class.from_code(environment(), code, environment().make_globals(None))
