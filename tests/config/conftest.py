"""Loading a services.yaml text the way ``codexctl validate`` does: every value evaluated."""

from __future__ import annotations

from codex_stacks.config.settings import Settings
from codex_stacks.errors import raise_all
from codex_stacks.plan import PlanRequest, load_settings
from codex_stacks.plan.check import check_everything
from tests.config.error_messages import project


def load(text: str, *, stack: str = "dev", files: dict[str, str] | None = None) -> Settings:
    """``text`` as a project's services.yaml (with a ``dev`` environment when it names none),
    checked everywhere like ``validate``: the first problem is raised, or all of them together."""
    if "environments:" not in text and text.startswith("project:"):
        text += "environments:\n  dev: {}\n"
    request = PlanRequest(stack=stack, project_dir=project(text, files))
    raise_all(check_everything(request))
    return load_settings(request)[1]
