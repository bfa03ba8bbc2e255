"""The ``mode`` a template sees (docs/services-yaml.md): the stack's run mode, ``normal`` unless
``codex:mode`` (or ``--mode``) says ``repair``.

Written against a mutant of codex_stacks/plan/target.py that lived in the seed-31 sample (issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

SERVICES = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}, {path: mode.yaml}]
"""
FILES = {
    "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n",
    "mode.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: run\ndata:\n  mode: '{{ mode }}'\n",
}


@pytest.mark.parametrize("mode", ["normal", "repair"])
def test_a_manifest_sees_the_run_mode(make_project: MakeProject, mode: str) -> None:
    plan = build_plan(PlanRequest(stack="dev", project_dir=make_project(SERVICES, FILES), mode=mode))
    (configmap,) = [obj for obj in plan.component("base").objects if obj.kind == "ConfigMap"]
    assert configmap.manifest["data"] == {"mode": mode}
