"""What the API server would refuse, located where the user must fix it: the annotations that add
up to more than Kubernetes allows are named (and pointed at) as ``metadata.annotations``; a field
of a document that starts right after a ``---`` line is found at its own line; and an object with
no line of its own (one codex stacks builds) still names its file.

The limits come from the Kubernetes documentation ("Annotations": 256 KiB for all of an object's
keys and values together; "Object Names and IDs": a ConfigMap name is a lowercase DNS
subdomain); the lines are counted in the manifests written here.

Written against mutants of codex_stacks/plan/kube_rules.py that lived in a fresh sample (seed 29,
issue #19).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.kube_rules import check_objects
from codex_stacks.plan.objects import KubeObject
from tests.conftest import MakeProject

SERVICES = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: base
    manifests: [{path: config.yaml}]
"""
KIB_256 = 256 * 1024
NAMESPACE = "demo-dev"  # docs/services-yaml.md: <project>-<env> unless namespace.patterns says otherwise


def _line_of(text: str, start: str) -> int:
    """The 1-based number of the one line of ``text`` that starts with ``start``."""
    (number,) = [index for index, line in enumerate(text.splitlines(), start=1) if line.startswith(start)]
    return number


def _error(root: Path) -> str:
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    return str(caught.value)


def test_annotations_over_256_kib_are_named_and_pointed_at_as_metadata_annotations(make_project: MakeProject) -> None:
    value = "x" * KIB_256  # with its one-byte key: 256 KiB + 1 byte
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
        f"  annotations:\n    a: {value}\ndata:\n  mode: fast\n"
    )
    root = make_project(SERVICES, {"config.yaml": manifest})
    expected_where = f"{(root / 'config.yaml').resolve()}:{_line_of(manifest, '  annotations:')}"
    assert _error(root) == (
        f"{expected_where}: ConfigMap/{NAMESPACE}/settings: metadata.annotations: "
        f"add up to {KIB_256 + 1} bytes; at most {KIB_256}"
    )


def test_a_field_right_after_a_document_marker_is_found_at_its_own_line(make_project: MakeProject) -> None:
    # the document starts with its metadata, on the line after "---"
    manifest = "---\nmetadata:\n  name: Bad_Settings\napiVersion: v1\nkind: ConfigMap\n"
    root = make_project(SERVICES, {"config.yaml": manifest})
    error = _error(root)
    where = f"{(root / 'config.yaml').resolve()}:{_line_of(manifest, '  name: Bad_Settings')}: "
    assert error.startswith(where), error
    assert "Bad_Settings: metadata.name: " in error


def test_an_object_without_a_line_of_its_own_still_names_its_file() -> None:
    source = Path("/nowhere/generated.yaml")
    built = KubeObject(
        manifest={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_A_Name", "namespace": "demo-dev"}},
        source=source,
        line=0,  # what codex stacks gives the objects it builds itself: no line to point at
    )
    (problem,) = check_objects([built], namespace="demo-dev")
    assert str(problem).startswith(f"{source}: ConfigMap/demo-dev/Not_A_Name: metadata.name: "), str(problem)


def test_a_label_key_that_yaml_reads_as_a_number_must_be_a_string(make_project: MakeProject) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels:\n    8080: web\n"
    root = make_project(SERVICES, {"config.yaml": manifest})
    expected_where = f"{(root / 'config.yaml').resolve()}:{_line_of(manifest, '    8080: web')}"
    assert _error(root) == (
        f"{expected_where}: ConfigMap/{NAMESPACE}/settings: metadata.labels.8080: label key '8080' must be a string"
    )
