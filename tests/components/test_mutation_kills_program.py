"""What the program registers and outputs, for mutants that lived in a fresh components sample
(seed 19, every 11th): an adopting up's metadata, the ``skipped`` output, and a relative
``codex:projectDir`` read from the program folder rather than the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.offline.runner import ProgramRun, run_program
from tests.conftest import EXAMPLE, REPO_ROOT

ADOPT = "pulumi.com/patchForce"


def objects(run: ProgramRun) -> dict[str, dict[str, object]]:
    return {r.name: r.inputs for r in run.registrations if r.type.startswith("kubernetes:") and r.custom}


def test_an_adopting_up_keeps_every_objects_own_metadata_and_adds_only_its_annotation() -> None:
    config = {"codex:projectDir": str(EXAMPLE)}
    normal = objects(run_program("ai-slot-3", config))
    adopting = objects(run_program("ai-slot-3", {**config, "codex:adopt": "kubectl"}))
    assert set(adopting) == set(normal)
    annotated = 0
    for name, inputs in normal.items():
        metadata = dict(inputs["metadata"])  # type: ignore[call-overload]
        annotations = dict(metadata.get("annotations") or {})
        annotated += bool(annotations)
        expected = {**metadata, "annotations": {**annotations, ADOPT: "true"}}
        assert adopting[name]["metadata"] == expected, name
    assert annotated  # the example has objects with annotations of their own (ingresses)


def test_items_a_stack_leaves_out_are_in_its_skipped_output_with_their_reason() -> None:
    run = run_program("dev", {"codex:projectDir": str(EXAMPLE)})
    # examples/project-example/services.yaml: cluster-dns and tls-issuer only in `cluster`,
    # codex only in `ai` and `ai-repair`
    assert set(run.outputs["skipped"]) == {"cluster-dns", "tls-issuer", "codex"}
    assert all("when:" in reason for reason in run.outputs["skipped"].values())
    assert not set(run.outputs["skipped"]) & set(run.outputs["components"])


def test_a_relative_project_dir_is_relative_to_the_program_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the runner's working directory is not the program folder,
    monkeypatch.delenv("CODEX_PROGRAM_DIR", raising=False)  # and nothing else names it
    relative = EXAMPLE.relative_to(REPO_ROOT)
    run = run_program("dev", {"codex:projectDir": str(relative)}, program_dir=REPO_ROOT)
    assert run.outputs["namespace"] == "project-example-dev"
