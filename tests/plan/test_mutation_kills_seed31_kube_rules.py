"""What the API server would refuse (codex_stacks.plan.kube_rules): the 1 MiB bound of a Secret's
data counts the bytes its base64 decodes to, and an error about a field of a document whose
first line a template put on the ``---`` line points at that field's line.

Written against mutants of codex_stacks/plan/kube_rules.py that lived in the seed-31 sample (issue #19).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.kube_rules import check_objects
from codex_stacks.plan.objects import KubeObject
from tests.conftest import MakeProject
from tests.plan.test_object_lines import NAMESPACE, SERVICES

MIB = 1 << 20  # MaxSecretSize in pkg/apis/core/validation/validation.go


def _secret_problems(encoded: str) -> list[str]:
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "blob", "namespace": "demo-dev"},
        "data": {"blob": encoded},
    }
    obj = KubeObject(manifest=manifest, source=Path("/nowhere/blob.yaml"), line=1)
    return [error.message for error in check_objects([obj], namespace="demo-dev")]


def _wrapped(data: bytes) -> str:
    """Padded base64 with two line breaks in it, as a user pastes ``base64`` output (Go's decoder and
    the API server ignore them)."""
    text = base64.b64encode(data).decode()
    return text[:76] + "\n" + text[76:152] + "\n" + text[152:]


def test_wrapped_secret_data_just_under_one_mib_is_accepted() -> None:
    data = b"x" * (MIB - 1)  # 1048575 bytes: 1398100 base64 characters, plus two line breaks
    assert len(_wrapped(data)) == 1398102
    assert _secret_problems(_wrapped(data)) == []


def test_wrapped_secret_data_over_one_mib_is_refused() -> None:
    problems = _secret_problems(_wrapped(b"x" * (MIB + 1)))
    assert len(problems) == 1
    assert problems[0].startswith("Secret/demo-dev/blob: ")
    assert problems[0].endswith(": the Secret's data adds up to more than 1 MiB, the API server's limit")


APP = (
    "apiVersion: v1\n"  # 1
    "kind: ConfigMap\n"  # 2
    "metadata: {name: a}\n"  # 3
    '--- {{ "\\n" }}apiVersion: v1\n'  # 4: the second document's first line comes out of the separator line
    "kind: ConfigMap\n"  # 5
    "metadata:\n"  # 6
    "  name: b\n"  # 7
    "  labels:\n"  # 8
    "    'bad key!': x\n"  # 9
)


def test_a_bad_label_of_a_document_that_starts_on_the_separator_line_is_reported_at_its_line(
    make_project: MakeProject,
) -> None:
    root = make_project(SERVICES, {"ns.yaml": NAMESPACE, "app.yaml": APP})
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    error = caught.value
    assert "bad key!" in str(error)
    assert error.location.file is not None
    assert (error.location.file.name, error.location.line) == ("app.yaml", 9)
