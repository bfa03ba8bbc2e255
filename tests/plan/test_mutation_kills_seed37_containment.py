"""The cluster stack's generated components (docs/security.md): a project group that takes the
name of one is refused with the fix.

Written against a mutant of codex_stacks/plan/containment.py that lived in a fresh sample (seed
37, issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

ISSUER = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: le\nspec: {selfSigned: {}}\n"


def test_a_group_named_like_the_containment_policy_is_refused_with_the_fix(make_project: MakeProject) -> None:
    services = """\
project: demo
environments:
  dev: {}
  cluster: {scope: cluster}
infrastructure:
  - name: codex-agent-containment
    when: "{{ env == 'cluster' }}"
    manifests: [{path: issuer.yaml}]
"""
    root = make_project(services, {"issuer.yaml": ISSUER})
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="cluster", project_dir=root))
    assert str(caught.value).replace(f"{root}/", "") == (
        "services.yaml:6: infrastructure[0].name: component name 'codex-agent-containment' is reserved for what "
        "codex stacks generates\n  hint: rename that infrastructure group or service"
    )
