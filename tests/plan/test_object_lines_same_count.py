"""A manifest whose template removes as many lines as it adds (a comment gone, a loop that
repeats a line) still has its errors at the file's lines: the rendered text has the same number
of lines as the file, but not the same lines."""

from __future__ import annotations

from tests.conftest import MakeProject
from tests.plan.test_object_lines import NAMESPACE, NOTE, SERVICES, _error, _where


def test_a_comment_removed_and_a_loop_added_still_point_at_the_files_line(make_project: MakeProject) -> None:
    app = (
        NOTE  # lines 1-4: render to nothing
        + "apiVersion: v1\n"  # 5
        "kind: ConfigMap\n"
        "metadata:\n"
        "  name: other\n"
        "  labels:\n"
        "    'bad key!': x\n"  # 10
        "---\n"
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata: {name: app}\n"
        "data:\n"
        "{%- for key in ['a', 'b', 'c', 'd', 'e', 'f', 'g'] %}\n"  # 16: renders nothing of its own
        "  {{ key }}: '1'\n"  # 17: seven lines once rendered, as many as the comment and the loop remove
        "{%- endfor %}\n"  # 18
    )
    assert len(app.splitlines()) == 18
    error = _error(make_project(SERVICES, {"ns.yaml": NAMESPACE, "app.yaml": app}))
    assert "bad key!" in str(error)
    assert _where(error) == ("app.yaml", 10)
