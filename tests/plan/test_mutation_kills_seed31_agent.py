"""``codex.rbac: none`` (docs/security.md): the project ships the agent's ServiceAccount, so a
repair run must bring it up. An account shipped only outside the repair set is refused, pointing
at the agent's Deployment and saying how to fix it.

Written against a mutant of codex_stacks/plan/agent.py that lived in a fresh sample (seed 31,
issue #19).
"""

from __future__ import annotations

import pytest

from codex_stacks.errors import PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

SERVICES = """\
project: shop
maxSlots: 2
codex: {rbac: none}
environments: {ai: {}}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
  - name: rights
    manifests: [{path: account.yaml}]
services:
  - name: codex
    manifests: [{path: codex.yaml}]
repair:
  infrastructure: [base]
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"
ACCOUNT = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: agent-sa\n"
CODEX = """\
# the agent
apiVersion: apps/v1
kind: Deployment
metadata:
  name: codex
spec:
  template:
    spec:
      serviceAccountName: agent-sa
      containers:
        - {name: agent, image: codex}
"""


def test_an_agent_account_outside_the_repair_set_is_refused_with_the_fix(make_project: MakeProject) -> None:
    root = make_project(SERVICES, {"ns.yaml": NAMESPACE, "account.yaml": ACCOUNT, "codex.yaml": CODEX})
    with pytest.raises(PlanError) as caught:
        build_plan(PlanRequest(stack="ai-slot-1", project_dir=root))
    error = caught.value
    assert error.message == (
        "the agent's ServiceAccount 'agent-sa' (serviceAccountName of Deployment/shop-ai-1/codex) is not in the "
        "repair set, so a repair run could not start the agent"
    )
    assert error.location.file is not None
    assert (error.location.file.name, error.location.line) == ("codex.yaml", 2)  # line 1 is a comment
    assert (
        error.hint == "ship it in a repair.infrastructure group or in the agent's service, or use codex.rbac: builtin"
    )
