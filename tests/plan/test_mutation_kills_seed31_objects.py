"""An error about a rendered object names the line of the manifest *file* (docs/services-yaml.md):
when one template line renders to several, an object that starts inside them is reported at that
template line, not at the line after it.

Written against a mutant of codex_stacks/plan/objects.py that lived in the seed-31 sample (issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject
from tests.plan.test_object_lines import NAMESPACE, SERVICES

APP = (
    '{{ "apiVersion: v1\\nkind: ConfigMap" }}\n'  # 1: renders to the object's first two lines
    "metadata:\n"  # 2
    "  labels: {a: b}\n"  # 3
)


def test_an_object_starting_inside_a_multi_line_expression_is_reported_at_the_expressions_line(
    make_project: MakeProject,
) -> None:
    root = make_project(SERVICES, {"ns.yaml": NAMESPACE, "app.yaml": APP})
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    error = caught.value
    assert "has no metadata.name" in error.message
    assert error.location.file is not None
    assert (error.location.file.name, error.location.line) == ("app.yaml", 1)
