"""Hook steps run against the environment's cluster (docs/services-yaml.md, ``kubeContext``):
every step, of the stack and of a component, is given the environment's kubeconfig context.

Written against a mutant of codex_stacks/plan/hooks.py that lived in a fresh sample (seed 37,
issue #19).
"""

from __future__ import annotations

from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject


def test_every_hook_step_gets_the_environments_kube_context(make_project: MakeProject) -> None:
    services = """\
project: demo
environments:
  dev:
    kubeContext: kind-staging
hooks:
  beforeAll:
    - {name: settle, use: sleep, with: {seconds: 1}}
infrastructure:
  - name: base
    manifests: [{path: base.yaml}]
    hooks:
      afterApply:
        - {name: base-ready, use: sleep, with: {seconds: 2}}
"""
    root = make_project(services, {"base.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n"})
    plan = build_plan(PlanRequest(stack="dev", project_dir=root))
    assert sorted((hook.step, hook.kube_context) for hook in plan.hooks) == [
        ("base-ready", "kind-staging"),
        ("settle", "kind-staging"),
    ]
