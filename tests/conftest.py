"""Shared fixtures: the example project, and small projects written into tmp_path."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.offline import runner
from codex_stacks.offline.runner import ProgramRun, RecordingMonitor

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = REPO_ROOT / "examples" / "project-example"
os.environ["CODEX_PROGRAM_DIR"] = str(REPO_ROOT)
"""The program folder of every test and every codexctl the tests start, wherever they run: this
repository's (its Pulumi.yaml points at the example). Tests of finding it unset this."""

MakeProject = Callable[..., Path]


@pytest.fixture
def monitors(monkeypatch: pytest.MonkeyPatch) -> list[RecordingMonitor]:
    """Every monitor ``run_program`` makes, kept so registrations can be read after the CLI
    returns or the program fails (zero resources on bad input, secrets in raw inputs)."""
    made: list[RecordingMonitor] = []

    class Keeping(RecordingMonitor):
        def __init__(self, run: ProgramRun, **options: Any) -> None:
            super().__init__(run, **options)
            made.append(self)

    monkeypatch.setattr(runner, "RecordingMonitor", Keeping)
    return made


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A writable copy of the example project (tests break it on purpose)."""
    target = tmp_path / "project-example"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".data", ".github"))
    return target


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write services.yaml and manifests (dedented) into a fresh folder and return it."""
    counter = iter(range(1000))

    def make(services: str, files: dict[str, str] | None = None) -> Path:
        root = tmp_path / f"project-{next(counter)}"
        root.mkdir()
        (root / "services.yaml").write_text(textwrap.dedent(services), encoding="utf-8")
        for name, text in (files or {}).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return make


MINIMAL = """\
project: demo
maxSlots: 3
namespace:
  patterns:
    ai: "{{ project }}-ai-{{ slot }}"
environments:
  dev: {}
  ai: {}
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
services: []
"""

NAMESPACE_MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata:
  name: {{ namespace }}
"""
