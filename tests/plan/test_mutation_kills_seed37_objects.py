"""Manifest files as YAML streams (docs/services-yaml.md, ``manifests``): an empty document
(``---`` with nothing after it, or only a comment) is skipped, and every object after it is
still deployed.

Written against a mutant of codex_stacks/plan/objects.py that lived in a fresh sample (seed 37,
issue #19).
"""

from __future__ import annotations

from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

SERVICES = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: config
    manifests: [{path: config.yaml}]
"""

MANIFEST = """\
---
---
# kept for later
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: first
---
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
"""


def test_objects_after_empty_documents_are_all_rendered(make_project: MakeProject) -> None:
    root = make_project(SERVICES, {"config.yaml": MANIFEST})
    plan = build_plan(PlanRequest(stack="dev", project_dir=root))
    objects = plan.component("config").objects
    assert [(obj.kind, obj.name, obj.line) for obj in objects] == [
        ("ConfigMap", "first", 5),
        ("ConfigMap", "second", 11),
    ]
