"""The agent's identity: built in, or shipped by the project (codex.rbac: none) within the same limits."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from codex_stacks.errors import CodexError, PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"
AGENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      serviceAccountName: codex-sa
      containers:
        - {{name: agent, image: codex}}
"""
RBAC = """\
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: codex-sa
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: agent
rules:
  - apiGroups: [""]
    resources: [pods, pods/log]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: agent
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: agent}
subjects:
  - {kind: ServiceAccount, name: codex-sa}
"""


def project(
    make_project: MakeProject, *, codex: str = "", rbac: str = RBAC, where: str = "base", name: str = "codex"
) -> Path:
    services = textwrap.dedent(f"""\
        project: demo
        maxSlots: 2
        {codex}
        environments: {{ai: {{}}}}
        infrastructure:
          - name: base
            manifests: [{{path: ns.yaml}}{", {path: rbac.yaml}" if where == "base" else ""}]
          - name: extras
            manifests: [{{path: extras.yaml}}{", {path: rbac.yaml}" if where == "extras" else ""}]
        services:
          - name: {name}
            manifests: [{{path: agent.yaml}}]
        repair:
          infrastructure: [base]
        """)
    extras = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"
    return make_project(
        services, {"ns.yaml": NS, "rbac.yaml": rbac, "extras.yaml": extras, "agent.yaml": AGENT.format(name=name)}
    )


def plan(root: Path, mode: str = "normal"):  # type: ignore[no-untyped-def]
    return build_plan(PlanRequest(stack="ai-slot-1", project_dir=root, mode=mode))


def test_a_project_that_ships_its_rbac_is_told_how_to_say_so(make_project: MakeProject) -> None:
    root = project(make_project)
    with pytest.raises(PlanError, match="ServiceAccount/demo-ai-1/codex-sa is defined twice") as caught:
        plan(root)
    assert caught.value.hint == "the project ships the agent's RBAC itself: set codex.rbac: none in services.yaml"
    assert caught.value.location.file == root / "rbac.yaml"
    assert caught.value.location.line == 2


def test_shipped_rbac_is_used_and_repair_brings_it_up(make_project: MakeProject) -> None:
    root = project(make_project, codex="codex: {rbac: none}")
    normal = plan(root)
    built_in = {obj.kind for obj in normal.component("codex-agent").objects}
    assert built_in == {"NetworkPolicy"}  # no ServiceAccount, Role or RoleBinding of its own
    assert {"base", "codex", "codex-agent"} <= normal.repair_set
    repair = plan(root, mode="repair")
    keys = {obj.key for component in repair.components for obj in component.objects}
    assert {"ServiceAccount/demo-ai-1/codex-sa", "Role/demo-ai-1/agent", "RoleBinding/demo-ai-1/agent"} <= keys


def test_the_agents_account_must_be_in_the_repair_set(make_project: MakeProject) -> None:
    root = project(make_project, codex="codex: {rbac: none}", where="extras")
    with pytest.raises(PlanError, match=r"ServiceAccount 'codex-sa' .* is not in the repair set") as caught:
        plan(root)
    assert caught.value.location.file == root / "agent.yaml"


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ('{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}', "grants verb '*'"),
        (
            "{apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}",
            "writes to rolebindings",
        ),
        ("{apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [bind]}", "grants verb 'bind'"),
        (
            "{apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [delete]}",
            "writes to networkpolicies",
        ),
        ('{apiGroups: [""], resources: [serviceaccounts], verbs: [impersonate]}', "grants verb 'impersonate'"),
        ('{apiGroups: [""], resources: [resourcequotas, limitranges], verbs: [patch]}', "writes to limitranges"),
    ],
)
def test_shipped_rbac_stays_within_the_agents_limits(make_project: MakeProject, rule: str, problem: str) -> None:
    rbac = RBAC.replace(
        '  - apiGroups: [""]\n    resources: [pods, pods/log]\n    verbs: [get, list, watch]\n', f"  - {rule}\n"
    )
    root = project(make_project, codex="codex: {rbac: none}", rbac=rbac)
    with pytest.raises(CodexError) as caught:
        plan(root)
    assert problem in str(caught.value)
    assert "Role/demo-ai-1/agent (bound to the agent by agent)" in str(caught.value)


def test_a_cluster_wide_binding_is_refused(make_project: MakeProject) -> None:
    rbac = RBAC.replace("kind: RoleBinding", "kind: ClusterRoleBinding")
    root = project(make_project, codex="codex: {rbac: none}", rbac=rbac)
    with pytest.raises(CodexError, match="ClusterRoleBinding/agent gives the agent rights across the cluster"):
        plan(root)


def test_the_agents_service_may_have_another_name(make_project: MakeProject) -> None:
    root = project(make_project, codex="codex: {service: agent}", rbac="", name="agent")
    normal = plan(root)
    assert normal.agent_deployment == "agent"
    assert "agent" in normal.repair_set
    assert [component.name for component in plan(root, mode="repair").components if component.name != "base"] == [
        "codex-agent",
        "agent",
    ]
