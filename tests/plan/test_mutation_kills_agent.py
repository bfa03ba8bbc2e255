"""The agent's identity as a user meets it: the built-in ServiceAccount, Role and RoleBinding, a
project's own RBAC (``codex.rbac: none``, docs/security.md) and the errors about either.

Written against mutants of codex_stacks/plan/agent.py and build.py that lived (issue #19). The
expected kinds and fields are those of the Kubernetes RBAC API (``rbac.authorization.k8s.io/v1``:
a RoleBinding's ``roleRef`` names a Role, its ``subjects`` the ServiceAccount).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from codex_stacks.errors import CodexError, PlanError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

NAMESPACE = "shop-ai-1"
NS_YAML = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"
DEPLOYMENT = """\
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
ACCOUNT = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: agent-sa\n"
ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: agent-rights
rules:
  - {rule}
"""
BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: agent-rights
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {role}}}
subjects:
  - {{kind: ServiceAccount, name: agent-sa}}
"""
READ_PODS = '{apiGroups: [""], resources: [pods], verbs: [get, list]}'


def shop(
    make_project: MakeProject,
    *,
    rbac: str = "none",
    rule: str = READ_PODS,
    role: str = "agent-rights",
    deployment: str = DEPLOYMENT,
) -> Path:
    """A slot project whose base group (the repair set's) ships the agent's account and rights."""
    services = textwrap.dedent(f"""\
        project: shop
        maxSlots: 2
        codex: {{rbac: {rbac}}}
        environments: {{ai: {{}}}}
        infrastructure:
          - name: base
            manifests: [{{path: ns.yaml}}, {{path: rbac.yaml}}]
        services:
          - name: codex
            manifests: [{{path: codex.yaml}}]
        repair:
          infrastructure: [base]
        """)
    rbac_yaml = "---\n".join([ACCOUNT, ROLE.format(rule=rule), BINDING.format(role=role)])
    return make_project(services, {"ns.yaml": NS_YAML, "rbac.yaml": rbac_yaml, "codex.yaml": deployment})


def points_at_rbac_yaml(error: CodexError) -> None:
    assert error.location.file is not None
    assert error.location.file.name == "rbac.yaml"


def plan(root: Path, mode: str = "normal"):  # type: ignore[no-untyped-def]
    return build_plan(PlanRequest(stack="ai-slot-1", project_dir=root, mode=mode))


def test_the_built_in_binding_gives_the_agents_account_its_role(make_project: MakeProject) -> None:
    root = shop(make_project, rbac="builtin")
    (root / "rbac.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n", encoding="utf-8")
    objects = {obj.kind: obj.manifest for obj in plan(root).component("codex-agent").objects}
    assert {"ServiceAccount", "Role", "RoleBinding"} <= set(objects)
    binding = objects["RoleBinding"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "codex-agent"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "codex-sa", "namespace": NAMESPACE}]


def test_an_account_both_built_in_and_shipped_names_both_places(make_project: MakeProject) -> None:
    root = shop(make_project, rbac="builtin")
    (root / "rbac.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n---\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: codex-sa\n",
        encoding="utf-8",
    )
    with pytest.raises(PlanError) as caught:
        plan(root)
    message = caught.value.message
    assert (
        message
        == f"ServiceAccount/{NAMESPACE}/codex-sa is defined twice: in codex-agent (built in) and in base (rbac.yaml:6)"
    )
    # the location is the project's own copy, at the first line of its document
    assert caught.value.location.file == root / "rbac.yaml"
    assert caught.value.location.line == 6
    assert caught.value.hint == "the project ships the agent's RBAC itself: set codex.rbac: none in services.yaml"


def test_shipped_rbac_that_reads_and_writes_pods_is_accepted(make_project: MakeProject) -> None:
    """Writing pods is no write to what limits the agent (namespaces, quotas, limit ranges …)."""
    rule = '{apiGroups: [""], resources: [pods, configmaps], verbs: [get, create, delete]}'
    result = plan(shop(make_project, rule=rule))
    keys = {obj.key for component in result.components for obj in component.objects}
    assert {f"ServiceAccount/{NAMESPACE}/agent-sa", f"RoleBinding/{NAMESPACE}/agent-rights"} <= keys
    assert {obj.kind for obj in result.component("codex-agent").objects} == {"NetworkPolicy"}


def test_shipped_rights_over_namespaces_are_refused(make_project: MakeProject) -> None:
    rule = '{apiGroups: [""], resources: [namespaces], verbs: [update]}'
    with pytest.raises(PlanError) as caught:
        plan(shop(make_project, rule=rule))
    assert caught.value.message == (
        f"Role/{NAMESPACE}/agent-rights (bound to the agent by agent-rights) grants writes to namespaces"
    )
    points_at_rbac_yaml(caught.value)


def test_a_binding_to_a_role_the_project_does_not_ship_is_refused(make_project: MakeProject) -> None:
    with pytest.raises(PlanError) as caught:
        plan(shop(make_project, role="cluster-admin-ish"))
    assert caught.value.message == (
        f"RoleBinding/{NAMESPACE}/agent-rights binds the agent to Role 'cluster-admin-ish', which the project "
        "does not define, so its rights cannot be checked"
    )
    points_at_rbac_yaml(caught.value)


def test_the_agents_service_without_a_deployment_is_refused(make_project: MakeProject) -> None:
    root = shop(make_project, deployment="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: no-agent\n")
    with pytest.raises(PlanError) as caught:
        plan(root)
    assert caught.value.message == "the agent's service 'codex' has no Deployment"
    assert caught.value.hint == "codex.service names it"


def test_a_repair_run_brings_up_the_account_the_agents_deployment_names(make_project: MakeProject) -> None:
    """The agent runs as its Deployment's serviceAccountName (agent-sa), shipped in the repair set."""
    result = plan(shop(make_project), mode="repair")
    keys = {obj.key for component in result.components for obj in component.objects}
    assert f"ServiceAccount/{NAMESPACE}/agent-sa" in keys
    assert f"Deployment/{NAMESPACE}/codex" in keys
