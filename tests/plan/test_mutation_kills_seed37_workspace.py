"""The agent's workspace on a claim (docs/services-yaml.md, "The agent's workspace").

The clone init container runs with the agent container's securityContext: in a namespace that
enforces Pod Security ``restricted`` (kubernetes.io, "Pod Security Standards": every container,
init containers included, must set ``allowPrivilegeEscalation: false`` and drop ``ALL``
capabilities) a pod whose init container lacks it is refused, so the namespace stays
``restricted`` only when the init container carries it. An agent Deployment written without a
``spec`` still gets the claim and the clone step.

Written against mutants of codex_stacks/plan/workspace.py that lived in a fresh sample (seed 37,
issue #19).
"""

from __future__ import annotations

from typing import Any

from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import MakeProject

SERVICES = """\
project: demo
environments:
  dev: {}
codex:
  workspace:
    source: pvc
    mountPath: /workspace
    pvc:
      claimName: agent-code
      size: 5Gi
      repositoryUrl: https://github.com/acme/shop.git
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
services:
  - name: codex
    manifests: [{path: codex.yaml}]
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo-dev\n"
AGENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: codex
spec:
  selector: {matchLabels: {app: codex}}
  template:
    metadata:
      labels: {app: codex}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: codex
          image: registry.example/codex:1
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
"""
ENFORCE = "pod-security.kubernetes.io/enforce"


def _deployment_and_namespace(make_project: MakeProject, agent: str) -> tuple[dict[str, Any], dict[str, Any]]:
    root = make_project(SERVICES, {"ns.yaml": NAMESPACE, "codex.yaml": agent})
    plan = build_plan(PlanRequest(stack="dev", project_dir=root))
    (deployment,) = [obj.manifest for obj in plan.objects if obj.kind == "Deployment" and obj.name == "codex"]
    (namespace,) = [obj.manifest for obj in plan.objects if obj.kind == "Namespace"]
    return dict(deployment), dict(namespace)


def test_the_clone_init_container_runs_with_the_agents_security_context(make_project: MakeProject) -> None:
    deployment, namespace = _deployment_and_namespace(make_project, AGENT)
    (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
    assert init["name"] == "workspace-clone"
    assert init["image"] == "registry.example/codex:1"  # the agent's image has git
    # the agent container's own, as written above
    assert init["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert namespace["metadata"]["labels"][ENFORCE] == "restricted"


def test_an_agent_deployment_without_a_spec_still_gets_the_claim_and_the_clone(make_project: MakeProject) -> None:
    deployment, _ = _deployment_and_namespace(
        make_project, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: codex\n"
    )
    pod = deployment["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "codex-workspace", "persistentVolumeClaim": {"claimName": "agent-code"}}]
    assert [container["name"] for container in pod["initContainers"]] == ["workspace-clone"]
    assert pod["initContainers"][0]["volumeMounts"] == [{"name": "codex-workspace", "mountPath": "/workspace"}]
