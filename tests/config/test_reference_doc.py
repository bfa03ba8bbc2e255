"""The schema and the reference speak to people: every key has a description, and the checked-in
reference (docs/services-yaml-reference.md) is the one the model makes today."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from codex_stacks.config.schema import services_schema
from tests.conftest import REPO_ROOT

CODEXCTL = Path(sys.executable).parent / "codexctl"
REFERENCE = REPO_ROOT / "docs" / "services-yaml-reference.md"


def _undescribed(node: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, field in (node.get("properties") or {}).items():
            if not str(field.get("description", "")).strip():
                found.append(f"{path}.{key}")
        for key, value in node.items():
            found += _undescribed(value, f"{path}/{key}")
    elif isinstance(node, list):
        for value in node:
            found += _undescribed(value, path)
    return found


def test_every_property_of_the_schema_has_a_description() -> None:
    assert _undescribed(services_schema()) == []


def test_every_row_of_the_reference_has_a_description() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) > 100
    empty = [row for row in rows if not row.rstrip(" |").rsplit("|", 1)[-1].strip()]
    assert empty == []
    # every top-level key of a real file is in it
    for key in ("project", "envVars", "vars", "codex", "environments", "infrastructure", "services", "security"):
        assert f"| `{key}` |" in text
    assert "### `codex.ensure-data-dirs`" in text
    assert '| `codex:projectDir` | `"."` |' in text


def test_the_checked_in_reference_is_current() -> None:
    made = subprocess.run(
        [str(CODEXCTL), "schema", "--format", "markdown"], capture_output=True, text=True, timeout=120, check=False
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout == REFERENCE.read_text(encoding="utf-8"), (
        "run: codexctl schema --format markdown > docs/services-yaml-reference.md"
    )
    # its links go to sections it has
    anchors = {line[3:].strip().lower() for line in made.stdout.splitlines() if line.startswith("## ")}
    for target in re.findall(r"\]\(#([a-z0-9-]+)\)", made.stdout):
        assert target in anchors, target
