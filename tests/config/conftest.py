"""Loading a services.yaml text the way ``codexctl validate`` does: every value evaluated."""

from __future__ import annotations

import tempfile
from pathlib import Path

from codex_stacks.config.settings import Settings
from codex_stacks.errors import raise_all
from codex_stacks.plan import PlanRequest, load_settings
from codex_stacks.plan.check import check_everything


def load(text: str, *, stack: str = "dev", files: dict[str, str] | None = None) -> Settings:
    """``text`` as a project's services.yaml (with a ``dev`` environment when it names none),
    checked everywhere like ``validate``: the first problem is raised, or all of them together."""
    folder = Path(tempfile.mkdtemp(prefix="codex-config-"))
    if "environments:" not in text and text.startswith("project:"):
        text += "environments:\n  dev: {}\n"
    (folder / "services.yaml").write_text(text, encoding="utf-8")
    for name, body in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body, encoding="utf-8")
    request = PlanRequest(stack=stack, project_dir=folder)
    raise_all(check_everything(request))
    return load_settings(request)[1]
