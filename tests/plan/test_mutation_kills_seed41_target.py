"""A ``codex:vars`` value is data from outside: spliced into a larger expression where its text
could change a manifest's YAML, the error names it as templates write it (``vars.<name>``, so the
hint's example is a template that works), never by its value (a fresh mutation sample of plan,
seed 41, found the name unread; it was ``codex:vars.<name>``, which no template can write)."""

from __future__ import annotations

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
    manifests: [{path: ns.yaml}, {path: cm.yaml}]
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: '{{ namespace }}'\n"
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  tag: {{ 'v-' ~ vars.tag }}\n"


def test_a_var_spliced_into_yaml_is_named_by_its_origin(make_project: MakeProject) -> None:
    root = make_project(SERVICES, {"ns.yaml": NAMESPACE, "cm.yaml": CONFIG_MAP})
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=root, vars={"tag": "1\n  extra: planted"}))
    assert str(caught.value) == (
        f"{root}/cm.yaml:6: the value of vars.tag is used inside a larger expression here, "
        "where its text could change the YAML of this manifest\n"
        "  hint: output it on its own, e.g. key: {{ vars.tag }}, or give it to a filter that "
        "makes it safe (| quote)"
    )
    assert "planted" not in str(caught.value)
