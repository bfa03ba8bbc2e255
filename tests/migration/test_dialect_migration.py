"""Both examples register exactly what they did before services.yaml became structure-first.

``before/`` was recorded with the old two-pass dialect (see README.md here) from copies of the
examples at ``FIXED``; every stack of both examples, copied to the same place, must register the
same resources with the same inputs, parents, dependencies and options now (the hooks' guards
digest manifests that hold the project's absolute path, so the place matters). Differences made
on purpose after the migration are listed in ``INTENTIONAL``.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.offline.runner import Secret, run_program
from codex_stacks.stackconfig import program_config, with_overrides

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CASES = sorted(HERE.glob("before/*.json"))
FIXED = Path("/tmp/codex-stacks-migration")
"""Where the examples were (and are) copied to be run: the recording's project_root."""
_ENV_PREFIXES = ("CODE_ROOT", "BASE_DOMAIN", "REGISTRY", "DATA_ROOT", "ALIMENTOR", "ISSUE", "PR_", "CODEX_WORKSPACE")

MOUNT = (
    "host mounts default to type: Directory, as upstream's (a missing checkout fails the pod, never an empty folder)"
)
PULL_AND_MOUNT = (
    MOUNT + "; the manifest's own imagePullPolicy (Always) is kept, the environment's fills only a missing one"
)
GUARD = "the step's guard hashes the objects it runs around, and their host mounts now say type: Directory"
INTENTIONAL: dict[tuple[str, str], str] = {
    (
        "alimentor--ai-slot-2--normal.json",
        "urn:pulumi:ai-slot-2::codex::pulumi-python:dynamic/codex-hooks:EnsureDataDirs::hook/beforeAll/ensure-data-dirs",
    ): GUARD,
    (
        "alimentor--ai-slot-2--repair.json",
        "urn:pulumi:ai-slot-2::codex::pulumi-python:dynamic/codex-hooks:EnsureDataDirs::hook/beforeAll/ensure-data-dirs",
    ): GUARD,
    (
        "alimentor--ai-staging--normal.json",
        "urn:pulumi:ai-staging::codex::pulumi-python:dynamic/codex-hooks:EnsureDataDirs::hook/beforeAll/ensure-data-dirs",
    ): GUARD,
    (
        "project-example--ai-repair--repair.json",
        "urn:pulumi:ai-repair::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::codex/deployment/codex",
    ): MOUNT,
    (
        "project-example--ai-repair--repair.json",
        "urn:pulumi:ai-repair::codex::codex:stack:ServiceComponent$pulumi-python:dynamic/codex-hooks:EnsureCodexSecrets::codex/hook/beforeApply/ensure-codex-secrets",
    ): GUARD,
    (
        "project-example--ai-repair--repair.json",
        "urn:pulumi:ai-repair::codex::pulumi-python:dynamic/codex-hooks:EnsureDataDirs::hook/beforeAll/ensure-data-dirs",
    ): GUARD,
    (
        "project-example--ai-slot-3--normal.json",
        "urn:pulumi:ai-slot-3::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::chat-backend/deployment/chat-backend",
    ): MOUNT,
    (
        "project-example--ai-slot-3--normal.json",
        "urn:pulumi:ai-slot-3::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::codex/deployment/codex",
    ): PULL_AND_MOUNT,
    (
        "project-example--ai-slot-3--normal.json",
        "urn:pulumi:ai-slot-3::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::django-backend/deployment/django-backend",
    ): MOUNT,
    (
        "project-example--ai-slot-3--normal.json",
        "urn:pulumi:ai-slot-3::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::web-frontend/deployment/web-frontend",
    ): MOUNT,
    (
        "project-example--ai-slot-3--normal.json",
        "urn:pulumi:ai-slot-3::codex::codex:stack:ServiceComponent$pulumi-python:dynamic/codex-hooks:EnsureCodexSecrets::codex/hook/beforeApply/ensure-codex-secrets",
    ): GUARD,
    (
        "project-example--ai-slot-3--normal.json",
        "urn:pulumi:ai-slot-3::codex::codex:stack:ServiceComponent$pulumi-python:dynamic/codex-hooks:ReuseDevTlsSecret::codex/hook/afterApply/reuse-dev-tls-secret",
    ): GUARD,
    (
        "project-example--ai-slot-3--normal.json",
        "urn:pulumi:ai-slot-3::codex::pulumi-python:dynamic/codex-hooks:EnsureDataDirs::hook/beforeAll/ensure-data-dirs",
    ): GUARD,
    (
        "project-example--ai-slot-3--repair.json",
        "urn:pulumi:ai-slot-3::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::codex/deployment/codex",
    ): PULL_AND_MOUNT,
    (
        "project-example--ai-slot-3--repair.json",
        "urn:pulumi:ai-slot-3::codex::codex:stack:ServiceComponent$pulumi-python:dynamic/codex-hooks:EnsureCodexSecrets::codex/hook/beforeApply/ensure-codex-secrets",
    ): GUARD,
    (
        "project-example--ai-slot-3--repair.json",
        "urn:pulumi:ai-slot-3::codex::codex:stack:ServiceComponent$pulumi-python:dynamic/codex-hooks:ReuseDevTlsSecret::codex/hook/afterApply/reuse-dev-tls-secret",
    ): GUARD,
    (
        "project-example--ai-slot-3--repair.json",
        "urn:pulumi:ai-slot-3::codex::pulumi-python:dynamic/codex-hooks:EnsureDataDirs::hook/beforeAll/ensure-data-dirs",
    ): GUARD,
    (
        "project-example--ai-staging--normal.json",
        "urn:pulumi:ai-staging::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::chat-backend/deployment/chat-backend",
    ): MOUNT,
    (
        "project-example--ai-staging--normal.json",
        "urn:pulumi:ai-staging::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::django-backend/deployment/django-backend",
    ): MOUNT,
    (
        "project-example--ai-staging--normal.json",
        "urn:pulumi:ai-staging::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::web-frontend/deployment/web-frontend",
    ): MOUNT,
    (
        "project-example--ai-staging--normal.json",
        "urn:pulumi:ai-staging::codex::pulumi-python:dynamic/codex-hooks:EnsureDataDirs::hook/beforeAll/ensure-data-dirs",
    ): GUARD,
    (
        "project-example--dev--normal.json",
        "urn:pulumi:dev::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::chat-backend/deployment/chat-backend",
    ): MOUNT,
    (
        "project-example--dev--normal.json",
        "urn:pulumi:dev::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::django-backend/deployment/django-backend",
    ): MOUNT,
    (
        "project-example--dev--normal.json",
        "urn:pulumi:dev::codex::codex:stack:ServiceComponent$kubernetes:apps/v1:Deployment::web-frontend/deployment/web-frontend",
    ): MOUNT,
    (
        "project-example--dev--normal.json",
        "urn:pulumi:dev::codex::pulumi-python:dynamic/codex-hooks:EnsureDataDirs::hook/beforeAll/ensure-data-dirs",
    ): GUARD,
}
"""(case file, URN) → why that registration differs from the recorded one on purpose."""


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return {"__secret__": _plain(value.value)}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@pytest.fixture(scope="module")
def fixed_examples() -> Iterator[Path]:
    """The examples copied to ``FIXED``, held under a lock (other checkouts may run this too)."""
    FIXED.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{FIXED}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(FIXED, ignore_errors=True)
        for example in ("project-example", "alimentor"):
            shutil.copytree(
                ROOT / "examples" / example, FIXED / example, ignore=shutil.ignore_patterns(".data", ".github")
            )
        yield FIXED
        fcntl.flock(lock, fcntl.LOCK_UN)


def test_every_stack_of_both_examples_was_recorded() -> None:
    names = {path.name for path in CASES}
    assert len(names) == 8
    assert {"project-example--ai-slot-3--normal.json", "alimentor--ai-slot-2--repair.json"} <= names


@pytest.mark.parametrize("case", CASES, ids=[path.stem for path in CASES])
def test_registrations_are_unchanged(case: Path, fixed_examples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(key)
    before = json.loads(case.read_text(encoding="utf-8"))
    example = case.name.split("--", 1)[0]
    mode = before["mode"]
    config = with_overrides(
        program_config(before["stack"]),
        project_dir=fixed_examples / example,
        mode=None if mode == "normal" else mode,
    )
    run = run_program(before["stack"], config)
    now = {
        r.urn: {
            "type": r.type,
            "name": r.name,
            "urn": r.urn,
            "parent": r.parent,
            "inputs": _plain(r.inputs),
            "dependencies": sorted(r.dependencies),
            "retainOnDelete": r.retain_on_delete,
        }
        for r in run.registrations
    }
    recorded = {item["urn"]: item for item in before["registrations"]}
    expected_urns = {urn for urn in recorded if (case.name, urn) not in INTENTIONAL}
    actual_urns = {urn for urn in now if (case.name, urn) not in INTENTIONAL}
    assert actual_urns == expected_urns
    for urn in sorted(expected_urns):
        assert now[urn] == recorded[urn], urn
    assert _plain(run.outputs) == before["outputs"]
