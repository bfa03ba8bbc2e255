"""Helpers of the importer's tests: run the installed `codexctl`, and read what `render` prints
and what the program registers under the SDK's mocks (`preview`), as comparable objects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from codex_stacks.cli.preview import reveal
from codex_stacks.offline.runner import run_program

CODEXCTL = str(Path(sys.executable).parent / "codexctl")


def codexctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CODEXCTL, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}, check=False
    )


def without_nulls(value: Any) -> Any:
    """Pulumi never sends a field whose value is null: compare what reaches the cluster."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def rendered(out: Path, stack: str) -> dict[tuple[str, str, str], Any]:
    """`codexctl render` of a stack: (kind, namespace, name) → object."""
    done = codexctl("render", "--stack", stack, "--project-dir", str(out), "--show-secrets")
    assert done.returncode == 0, done.stderr
    documents = [without_nulls(doc) for doc in yaml.safe_load_all(done.stdout) if doc]
    return {(doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"]): doc for doc in documents}


def previewed(out: Path, stack: str) -> dict[tuple[str, str, str], Any]:
    """What the program registers for a stack (Pulumi's own annotations left out)."""
    run = run_program(stack, {"codex:projectDir": str(out), "codex:mode": "normal"})
    objects = {}
    for registration in run.registrations:
        if registration.type.startswith("kubernetes:") and registration.custom:
            manifest = reveal(dict(registration.inputs), show_secrets=True)
            metadata = manifest["metadata"]
            annotations = {
                k: v for k, v in (metadata.get("annotations") or {}).items() if not k.startswith("pulumi.com/")
            }
            metadata.pop("annotations", None)
            if annotations:
                metadata["annotations"] = annotations
            objects[(manifest["kind"], metadata.get("namespace", ""), metadata["name"])] = without_nulls(manifest)
    return objects
