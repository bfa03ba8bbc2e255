"""The literal command is safe: ``pulumi up -s S -c codex:mode=repair`` without ``--target``.

A normal run stores everything outside the repair set (the secret stack output ``repairStore``);
a repair run without targets registers it again from there. Expected here, derived from what the
engine sees rather than from the code: the same URNs as the normal run, and for every resource
outside the repair set the whole RegisterResourceRequest (type, name, parent, provider, inputs
with their secret markers, dependencies, property dependencies, options) unchanged, so the engine
has nothing to update or delete there (docs/repair.md).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.offline.runner import ProgramRun, Registration, Secret, run_program
from tests.conftest import EXAMPLE

STACK = "ai-slot-3"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project-example"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".data", ".github"))
    return copy


def run(project: Path, mode: str, *, targeted: bool = True, previous: dict[str, Any] | None = None) -> ProgramRun:
    config = {"codex:projectDir": str(project), "codex:mode": mode}
    return run_program(STACK, config, targeted=targeted, previous_outputs=previous)


def stored_outputs(normal: ProgramRun) -> dict[str, Any]:
    """What the backend keeps of the normal run and a StackReference reads back: the outputs."""
    store = normal.outputs["repairStore"]
    assert isinstance(store, Secret)  # secret in state
    return {"repairStore": store.value}


def request(registration: Registration) -> dict[str, Any]:
    """Everything of a RegisterResourceRequest the engine compares, as the engine got it."""
    return {
        "type": registration.type,
        "name": registration.name,
        "parent": registration.parent,
        "provider": registration.provider,
        "custom": registration.custom,
        "inputs": registration.raw_inputs,
        "dependencies": sorted(registration.dependencies),
        "propertyDependencies": {key: sorted(value) for key, value in registration.property_dependencies.items()},
        "retainOnDelete": registration.retain_on_delete,
        "additionalSecretOutputs": sorted(registration.additional_secret_outputs),
    }


def outside_repair_set(normal: ProgramRun) -> set[str]:
    """URNs of the normal run that a targeted repair run does not register (the engine would delete them)."""
    targets = set(normal.outputs["repairTargets"])
    return {registration.urn for registration in normal.registrations} - targets


def test_a_repair_run_without_targets_changes_nothing_outside_the_repair_set(project: Path) -> None:
    normal = run(project, "normal")
    repair = run(project, "repair", targeted=False, previous=stored_outputs(normal))
    before = {registration.urn: registration for registration in normal.registrations}
    after = {registration.urn: registration for registration in repair.registrations}
    assert set(after) == set(before)  # nothing created, nothing left to delete
    outside = outside_repair_set(normal)
    assert {urn.rsplit("::", 1)[-1] for urn in outside} >= {
        "data-services",
        "django-backend/deployment/django-backend",
        "hook/beforeAll/ensure-data-dirs",
    }
    for urn in sorted(outside):
        assert request(after[urn]) == request(before[urn]), urn
    assert repair.outputs["mode"] == "repair"
    assert repair.outputs["repairTargets"] == normal.outputs["repairTargets"]
    assert stored_outputs(repair) == stored_outputs(normal)  # the next repair run finds it again


def test_an_always_step_outside_the_repair_set_keeps_its_run_token(project: Path) -> None:
    services = project / "services.yaml"
    text = services.read_text(encoding="utf-8")
    step = "      use: codex.ensure-data-dirs\n"
    assert step in text
    services.write_text(text.replace(step, step + "      always: true\n", 1), encoding="utf-8")
    normal = run(project, "normal")
    again = run(project, "normal")
    repair = run(project, "repair", targeted=False, previous=stored_outputs(normal))

    def token(of: ProgramRun) -> str:
        (step_registration,) = [r for r in of.registrations if r.name == "hook/beforeAll/ensure-data-dirs"]
        return str(step_registration.inputs["run"])

    assert token(normal) != token(again)  # a normal up runs it every time
    assert token(repair) == token(normal)  # registered again from the store: unchanged, not run


def test_nothing_of_a_stored_item_is_evaluated_again(project: Path) -> None:
    normal = run(project, "normal")
    (project / "deploy" / "postgres.yaml").unlink()  # data-services is broken now
    (project / "deploy" / "jaeger.yaml").write_text("kind: [", encoding="utf-8")  # and observability
    with pytest.raises(Exception, match="postgres.yaml"):
        run(project, "normal")
    repair = run(project, "repair", targeted=False, previous=stored_outputs(normal))
    before = {registration.urn: request(registration) for registration in normal.registrations}
    for registration in repair.registrations:
        if registration.urn in outside_repair_set(normal):
            assert request(registration) == before[registration.urn]


def test_without_a_store_a_repair_run_without_targets_registers_nothing(project: Path, monitors: list[Any]) -> None:
    with pytest.raises(Exception, match="registrations stored by the last normal run cannot be used") as caught:
        run(project, "repair", targeted=False, previous={})
    assert "codexctl repair-targets" in str(caught.value)
    assert [r for monitor in monitors for r in monitor.run.registrations] == []


def _rewritten(store: str, change: Any, *, digest: bool) -> str:
    """The store with its plan changed; with ``digest`` the digest is made to match again."""
    envelope = json.loads(store)
    plan = json.loads(gzip.decompress(base64.b64decode(envelope["plan"])))
    change(plan)
    raw = json.dumps(plan, sort_keys=True, separators=(",", ":")).encode()
    envelope["plan"] = base64.b64encode(gzip.compress(raw)).decode()
    if digest:
        envelope["sha256"] = hashlib.sha256(raw).hexdigest()
    return json.dumps(envelope)


def _plant_label(plan: dict[str, Any]) -> None:
    plan["components"][0]["objects"][0]["manifest"]["metadata"]["labels"] = {"planted": "yes"}


def _other_stack(plan: dict[str, Any]) -> None:
    plan["stack"] = "ai-slot-4"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda store: _rewritten(store, _plant_label, digest=False), "its digest does not match its content"),
        (lambda store: store[: len(store) // 2], "it does not read"),
        (lambda store: _rewritten(store, _other_stack, digest=True), "belongs to stack ai-slot-4"),
    ],
    ids=["changed-content", "cut-short", "other-stack"],
)
def test_a_damaged_or_foreign_store_is_refused(project: Path, monitors: list[Any], change: Any, reason: str) -> None:
    store = stored_outputs(run(project, "normal"))["repairStore"]
    monitors.clear()
    with pytest.raises(Exception, match=reason):
        run(project, "repair", targeted=False, previous={"repairStore": change(store)})
    assert [r for monitor in monitors for r in monitor.run.registrations] == []


def test_a_targeted_repair_run_registers_the_repair_set_alone(project: Path) -> None:
    normal = run(project, "normal")
    repair = run(project, "repair", targeted=True)
    assert {r.urn for r in repair.registrations} == set(normal.outputs["repairTargets"])
