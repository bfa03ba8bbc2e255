"""Prompt templates: the project's own prompts/ folder first, then the bundled one.

Layout (bundled and project alike): ``prompts/<lang>/<kind>.md.j2``, plus partials named
``prompts/<lang>/_<name>.md.j2`` that the kinds include. A project overrides any of them, partials
included, by placing a file with the same relative path in ``<project>/prompts/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path

from codex_stacks.config import files
from codex_stacks.config.templating import environment
from codex_stacks.errors import CodexError, Location, TemplateError
from codex_stacks.prompts.context import PromptContext

BUNDLED_PROMPTS = Path(__file__).resolve().parents[1] / "prompt_templates"
"""The templates shipped with the package (the ``prompts/`` folder of the checkout)."""
DEFAULT_LANG = "en"
PROJECT_PROMPTS = "prompts"
"""The folder next to services.yaml that overrides bundled templates."""
_BLANK_RUNS_RE = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
"""Optional sections leave blank runs behind; one blank line is enough between sections."""
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """A prompt, the file it came from, and what the user should know about the choice."""

    text: str
    template: Path
    lang: str
    warnings: tuple[str, ...] = ()


def choose_lang(*, flag: str | None, configured: str | None) -> str:
    """The flag wins, then ``codex.promptLang``, then English."""
    lang = flag or configured or DEFAULT_LANG
    if not _LANG_RE.match(lang):
        raise CodexError(f"{lang!r} is not a language code", location=Location(path="--lang"), hint="use e.g. en or ru")
    return lang


def _roots(project_dir: Path | None) -> list[Path]:
    roots = [BUNDLED_PROMPTS]
    if project_dir is not None and (project_dir / PROJECT_PROMPTS).is_dir():
        roots.insert(0, project_dir / PROJECT_PROMPTS)
    return roots


def _find(name: str, roots: list[Path]) -> Path | None:
    """The first root's file of that name; anything there counts (a FIFO is an error, not a miss)."""
    for root in roots:
        if os.path.lexists(root / name):
            return root / name
    return None


class _BoundedLoader(jinja2.BaseLoader):
    """Templates (and the partials they include) from the first root that has them, each read
    within the limits and inside its root (:func:`codex_stacks.config.files.read_text`)."""

    def __init__(self, roots: list[Path], *, project_dir: Path | None) -> None:
        self.roots = roots
        self.project_dir = project_dir

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses '..'
        for root in self.roots:
            path = root.joinpath(*pieces)
            if os.path.lexists(path):
                inside = self.project_dir if root != BUNDLED_PROMPTS and self.project_dir is not None else root
                return files.read_text(path, root=inside), str(path), lambda: True
        raise jinja2.TemplateNotFound(template)


def template_name(*, kind: str, lang: str) -> str:
    return f"{lang}/{kind}.md.j2"


def _where_failed(tb: TracebackType | None, roots: list[Path], default: Path) -> Location:
    """The innermost template frame of a failure: a partial's error names the partial."""
    prefixes = tuple(str(root) for root in roots)
    found = Location(file=default)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(prefixes):
            found = Location(file=Path(filename), line=tb.tb_lineno)
        tb = tb.tb_next
    return found


def _render(
    template_path: Path, roots: list[Path], name: str, context: dict[str, Any], *, project_dir: Path | None
) -> str:
    """Render with the project's sandboxed, strict environment, plus a loader for partials."""
    env = environment().overlay(loader=_BoundedLoader(roots, project_dir=project_dir))
    try:
        template = env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error: {exc.message}", location=Location(file=Path(exc.filename or ""), line=exc.lineno)
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template not found: {exc.name}", location=Location(file=template_path)) from None
    try:
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error: {exc.message}", location=Location(file=Path(exc.filename or ""), line=exc.lineno)
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"included template not found: {exc.name}", location=Location(file=template_path)) from None
    except (SecurityError, jinja2.UndefinedError) as exc:
        raise TemplateError(
            f"template failed: {exc}",
            location=_where_failed(exc.__traceback__, roots, template_path),
            hint="known variables: " + ", ".join(sorted(context)),
        ) from None
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(
            f"template failed: {type(exc).__name__}: {exc}",
            location=_where_failed(exc.__traceback__, roots, template_path),
        ) from None


def render_prompt(context: PromptContext, *, project_dir: Path | None = None) -> RenderedPrompt:
    """The prompt for ``context.kind`` in ``context.lang``, or in English with a warning."""
    roots = _roots(project_dir)
    warnings: list[str] = []
    lang = context.lang
    name = template_name(kind=context.kind, lang=lang)
    path = _find(name, roots)
    if path is None and lang != DEFAULT_LANG:
        fallback = template_name(kind=context.kind, lang=DEFAULT_LANG)
        path = _find(fallback, roots)
        if path is not None:
            warnings.append(f"no {lang!r} translation of the {context.kind} prompt; using {DEFAULT_LANG!r}")
            name, lang = fallback, DEFAULT_LANG
            context = context.model_copy(update={"lang": lang})
    if path is None:
        raise CodexError(
            f"no template for the {context.kind} prompt",
            location=Location(file=roots[0] / name),
            hint=f"looked in: {', '.join(str(root) for root in roots)}",
        )
    text = _render(path, roots, name, context.model_dump(mode="python"), project_dir=project_dir)
    text = _BLANK_RUNS_RE.sub("\n\n", text).strip() + "\n"
    return RenderedPrompt(text=text, template=path, lang=lang, warnings=tuple(warnings))
