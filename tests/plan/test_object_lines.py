"""An error about a rendered object names the line of the manifest *file*, not of the rendered
text: a Jinja comment or a ``{% if %}`` block removes lines when it renders, and the error must
still point where the user edits (project-example's deploy/jaeger.yaml opens with a four-line
comment; its objects were reported four lines too early)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

SERVICES = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}, {path: app.yaml}]
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: '{{ namespace }}'\n"
NOTE = "{#-\n  What this file holds,\n  in three lines.\n-#}\n"
"""Four lines of Jinja comment that render to nothing."""


def _error(root: Path) -> CodexError:
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    return caught.value


def _where(error: CodexError) -> tuple[str | None, int | None]:
    return (error.location.file.name if error.location.file else None), error.location.line


def test_an_object_without_a_name_after_a_comment_is_reported_at_its_own_line(make_project: MakeProject) -> None:
    app = NOTE + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n"
    error = _error(make_project(SERVICES, {"ns.yaml": NAMESPACE, "app.yaml": app}))
    assert "has no metadata.name" in error.message
    assert _where(error) == ("app.yaml", 5)  # apiVersion, right after the comment's four lines


def test_a_bad_label_after_a_comment_is_reported_at_the_labels_line(make_project: MakeProject) -> None:
    app = NOTE + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels:\n    'bad key!': x\n"
    error = _error(make_project(SERVICES, {"ns.yaml": NAMESPACE, "app.yaml": app}))
    assert "bad key!" in str(error)
    assert _where(error) == ("app.yaml", 10)


def test_a_document_after_a_block_that_renders_to_nothing_is_reported_at_its_own_line(
    make_project: MakeProject,
) -> None:
    app = (
        "{% if false %}\n"  # 1
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata: {name: never}\n"
        "{% endif %}\n"  # 5
        "---\n"
        "apiVersion: v1\n"  # 7
        "kind: ConfigMap\n"
        "metadata:\n"
        "  name: '{{ namespace }}-app'\n"  # 10
        "  labels:\n"
        "    'bad key!': x\n"  # 12
    )
    error = _error(make_project(SERVICES, {"ns.yaml": NAMESPACE, "app.yaml": app}))
    assert "bad key!" in str(error)
    assert _where(error) == ("app.yaml", 12)


def test_invalid_yaml_after_a_comment_is_reported_at_its_line_in_the_file(make_project: MakeProject) -> None:
    app = NOTE + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels: [unclosed\n"
    error = _error(make_project(SERVICES, {"ns.yaml": NAMESPACE, "app.yaml": app}))
    assert "invalid YAML" in error.message
    file, line = _where(error)
    assert file == "app.yaml"
    assert line is not None
    assert line >= 9  # the flow sequence opens on line 9; PyYAML names where it gave up


def test_a_manifest_whose_lines_render_one_to_one_keeps_its_lines(make_project: MakeProject) -> None:
    app = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: '{{ namespace }}-app'\n  labels:\n    'bad key!': x\n"
    error = _error(make_project(SERVICES, {"ns.yaml": NAMESPACE, "app.yaml": app}))
    assert _where(error) == ("app.yaml", 6)
