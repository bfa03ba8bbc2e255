"""Where the upstream reference projects and their golden renders are: a setting, never a copy.

``CODEX_REFERENCE_DIR`` names the folder (``project-example/``, ``project-example-20e555d/``,
``golden/``); by default it is ``../shared/reference`` next to the repository. Without it the
tests that need it are skipped with the reason, unless ``CI`` is set: there they fail, so a CI
machine that should have the folder cannot pass without it. A CI that cannot have it (this
repository's GitHub Actions runners) says so explicitly with ``CODEX_REFERENCE_OPTIONAL=1``: the
tests are then skipped there too, with the reason. When the folder is present they always run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
SETTING = "CODEX_REFERENCE_DIR"
OPTIONAL = "CODEX_REFERENCE_OPTIONAL"


def reference_dir() -> Path:
    configured = os.environ.get(SETTING)
    return Path(configured) if configured else REPOSITORY.parent / "shared" / "reference"


def require_reference() -> Path:
    folder = reference_dir()
    if (folder / "golden").is_dir() and (folder / "project-example").is_dir():
        return folder
    reason = f"the upstream reference folder {folder} is missing (set {SETTING} to where it is)"
    if os.environ.get("CI") and os.environ.get(OPTIONAL) != "1":
        pytest.fail(f"{reason}; a CI without it sets {OPTIONAL}=1")
    pytest.skip(reason)


def template_env(folder: Path) -> dict[str, str]:
    """The variables of golden/template-env.sh (``export NAME=value`` lines)."""
    variables: dict[str, str] = {}
    for line in (folder / "golden" / "template-env.sh").read_text(encoding="utf-8").splitlines():
        if line.startswith("export ") and "=" in line:
            name, value = line.removeprefix("export ").split("=", 1)
            variables[name.strip()] = value
    return variables
