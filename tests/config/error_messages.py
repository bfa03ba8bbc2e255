"""What ``codexctl validate`` prints for a project, as text: the helper of the
``test_error_messages_*`` tables, which pin every error message of the config modules whole."""

from __future__ import annotations

import tempfile
from pathlib import Path

from codex_stacks.errors import CodexError, CombinedError
from codex_stacks.plan import PlanRequest
from codex_stacks.plan.check import check_everything

ONE_MANIFEST = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: base
    manifests: [{path: cm.yaml}]
"""
"""A project of one environment and one group rendering ``cm.yaml``."""

_FOLDERS = tempfile.TemporaryDirectory(prefix="codex-errors-")
"""Where the projects are written: removed when the test process ends."""


def project(text: str, files: dict[str, str] | None = None) -> Path:
    """A new project folder holding ``text`` as services.yaml and ``files`` beside it."""
    folder = Path(tempfile.mkdtemp(dir=_FOLDERS.name))
    (folder / "services.yaml").write_text(text, encoding="utf-8")
    for name, body in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body, encoding="utf-8")
    return folder


def shown(error: CodexError, folder: Path) -> str:
    """The error as printed, with the project folder left out of file names."""
    return str(error).replace(f"{folder}/", "")


def problems_of(text: str, *, files: dict[str, str] | None = None, stack: str = "dev") -> str:
    """Every problem ``codexctl validate`` finds in the project, printed one per line."""
    folder = project(text, files)
    found = check_everything(PlanRequest(stack=stack, project_dir=folder))
    if not found:
        return "no problem"
    return shown(found[0] if len(found) == 1 else CombinedError(found), folder)
