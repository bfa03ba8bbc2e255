"""The slot's links comment: after a successful ``ci up``, one comment on the issue or pull
request with the slot's namespace and links, edited in place on re-runs (found by a hidden
marker). The text is the template ``prompts/<lang>/links_comment.md.j2``; a project overrides
it with a file of the same path next to its services.yaml, like every prompt (README, "Agent
prompts"). Rendered in Jinja2's sandbox; links come from the plan (``codex.links`` on the
environment's ``baseDomain``), never from outside text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_stacks.ci.errors import CiError
from codex_stacks.ci.ghrest import GithubRest, upsert_comment
from codex_stacks.ci.slots import Binding

TEMPLATE = "links_comment.md.j2"
BUNDLED = Path(__file__).resolve().parents[1] / "prompt_templates"
MAX_TEMPLATE = 64 * 1024
MARKER = "links"


@dataclass(frozen=True, slots=True)
class SlotLinks:
    stack: str
    slot: int | None
    namespace: str
    mode: str
    result: str
    links: Sequence[tuple[str, str]]


def _template(lang: str, project_dir: Path | None) -> tuple[Path, str]:
    roots = [project_dir / "prompts"] if project_dir is not None else []
    roots.append(BUNDLED)
    for root in roots:
        for chosen in (lang, "en"):
            path = root / chosen / TEMPLATE
            if path.is_file():
                raw = path.read_bytes()[: MAX_TEMPLATE + 1]
                if len(raw) > MAX_TEMPLATE:
                    raise CiError(f"{path}: larger than {MAX_TEMPLATE // 1024} KiB")
                return path, raw.decode("utf-8", "replace")
    raise CiError(f"no {TEMPLATE} in {', '.join(str(r) for r in roots)}")


def render_links(slot: SlotLinks, *, lang: str, project_dir: Path | None) -> str:
    """The comment's Markdown."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    path, text = _template(lang, project_dir)
    environment = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        rendered = environment.from_string(text).render(
            stack=slot.stack,
            slot=slot.slot,
            namespace=slot.namespace,
            mode=slot.mode,
            result=slot.result,
            links=[{"title": title, "url": url} for title, url in slot.links],
        )
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise CiError(f"{path}{f':{line}' if line else ''}: {exc.__class__.__name__}: {str(exc)[:200]}") from None
    return rendered.strip() + "\n"


def post_links(api: GithubRest, *, binding: Binding, body: str) -> tuple[str, int]:
    """Post the links comment on the binding's thread, or edit the one posted before."""
    return upsert_comment(api, repository=binding.repository, number=binding.number, marker=MARKER, body=body)
