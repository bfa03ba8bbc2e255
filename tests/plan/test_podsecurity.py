"""Pod Security labels: ``enforce`` at the strictest level the project's own pods pass.

Expected levels come from the Pod Security Standards' tables
(kubernetes.io/docs/concepts/security/pod-security-standards/), case by case.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.offline.runner import run_program
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.podsecurity import level_of
from tests.conftest import EXAMPLE, MakeProject

ENFORCE = "pod-security.kubernetes.io/enforce"

RESTRICTED_CONTAINER: dict[str, Any] = {
    "name": "app",
    "image": "app",
    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
}
RESTRICTED_POD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [RESTRICTED_CONTAINER],
}


def pod(spec: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "annotations": annotations or {}},
        "spec": spec,
    }


def restricted(**changes: Any) -> dict[str, Any]:
    """The restricted pod, changed: ``container__<key>`` sets a security context key of the container."""
    spec = copy.deepcopy(RESTRICTED_POD)
    for key, value in changes.items():
        if key.startswith("container__"):
            spec["containers"][0]["securityContext"][key.removeprefix("container__")] = value
        elif key.startswith("pod__"):
            spec["securityContext"][key.removeprefix("pod__")] = value
        elif key.startswith("item__"):
            spec["containers"][0][key.removeprefix("item__")] = value
        else:
            spec[key] = value
    return spec


CASES: list[tuple[str, dict[str, Any], str]] = [
    ("the restricted pod", pod(RESTRICTED_POD), "restricted"),
    ("a pod with no security settings", pod({"containers": [{"name": "a", "image": "a"}]}), "baseline"),
    (
        "restricted + NET_BIND_SERVICE",
        pod(restricted(container__capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})),
        "restricted",
    ),
    (
        "restricted + CHOWN (a baseline capability)",
        pod(restricted(container__capabilities={"drop": ["ALL"], "add": ["CHOWN"]})),
        "baseline",
    ),
    ("capabilities not dropped", pod(restricted(container__capabilities={})), "baseline"),
    ("SYS_ADMIN added", pod(restricted(container__capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]})), "privileged"),
    ("privileged", pod(restricted(container__privileged=True)), "privileged"),
    ("allowPrivilegeEscalation unset", pod(restricted(container__allowPrivilegeEscalation=None)), "baseline"),
    ("hostPath", pod(restricted(volumes=[{"name": "v", "hostPath": {"path": "/srv"}}])), "privileged"),
    ("nfs volume", pod(restricted(volumes=[{"name": "v", "nfs": {"server": "s", "path": "/"}}])), "baseline"),
    (
        "emptyDir and configMap volumes",
        pod(restricted(volumes=[{"name": "a", "emptyDir": {}}, {"name": "b", "configMap": {"name": "c"}}])),
        "restricted",
    ),
    ("hostPort", pod(restricted(item__ports=[{"containerPort": 80, "hostPort": 8080}])), "privileged"),
    ("hostPort 0", pod(restricted(item__ports=[{"containerPort": 80, "hostPort": 0}])), "restricted"),
    ("hostNetwork", pod(restricted(hostNetwork=True)), "privileged"),
    ("hostPID", pod(restricted(hostPID=True)), "privileged"),
    ("hostIPC", pod(restricted(hostIPC=True)), "privileged"),
    ("HostProcess", pod(restricted(pod__windowsOptions={"hostProcess": True})), "privileged"),
    ("seccomp Unconfined", pod(restricted(pod__seccompProfile={"type": "Unconfined"})), "privileged"),
    ("no seccomp profile anywhere", pod(restricted(pod__seccompProfile=None)), "baseline"),
    (
        "seccomp on the container only",
        pod(
            restricted(
                pod__seccompProfile=None, container__seccompProfile={"type": "Localhost", "localhostProfile": "p"}
            )
        ),
        "restricted",
    ),
    ("unsafe sysctl", pod(restricted(pod__sysctls=[{"name": "kernel.msgmax", "value": "1"}])), "privileged"),
    (
        "safe sysctl (1.29+)",
        pod(restricted(pod__sysctls=[{"name": "net.ipv4.tcp_keepalive_time", "value": "60"}])),
        "restricted",
    ),
    ("procMount Unmasked", pod(restricted(container__procMount="Unmasked")), "privileged"),
    ("SELinux type spc_t", pod(restricted(pod__seLinuxOptions={"type": "spc_t"})), "privileged"),
    ("SELinux type container_t", pod(restricted(pod__seLinuxOptions={"type": "container_t"})), "restricted"),
    ("SELinux user", pod(restricted(container__seLinuxOptions={"user": "root"})), "privileged"),
    ("AppArmor Unconfined", pod(restricted(container__appArmorProfile={"type": "Unconfined"})), "privileged"),
    (
        "AppArmor annotation unconfined",
        pod(RESTRICTED_POD, {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}),
        "privileged",
    ),
    (
        "AppArmor annotation localhost",
        pod(RESTRICTED_POD, {"container.apparmor.security.beta.kubernetes.io/app": "localhost/p"}),
        "restricted",
    ),
    ("runAsNonRoot false on the container", pod(restricted(container__runAsNonRoot=False)), "baseline"),
    (
        "runAsNonRoot on the container only",
        pod(restricted(pod__runAsNonRoot=None, container__runAsNonRoot=True)),
        "restricted",
    ),
    ("runAsUser 0", pod(restricted(container__runAsUser=0)), "baseline"),
    (
        "probe with a host (1.34+)",
        pod(restricted(item__livenessProbe={"httpGet": {"host": "10.0.0.1", "port": 80}})),
        "privileged",
    ),
    (
        "windows: no seccomp, no capabilities",
        pod(
            {
                "os": {"name": "windows"},
                "securityContext": {"runAsNonRoot": True},
                "containers": [{"name": "a", "image": "a"}],
            }
        ),
        "restricted",
    ),
    (
        "an init container breaks it",
        pod(restricted(initContainers=[{"name": "i", "image": "i", "securityContext": {"privileged": True}}])),
        "privileged",
    ),
    (
        "an ephemeral container breaks it",
        pod(restricted(ephemeralContainers=[{"name": "e", "image": "e"}])),
        "baseline",
    ),
    (
        "a CronJob's pods",
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "spec": {"jobTemplate": {"spec": {"template": {"spec": restricted(hostIPC=True)}}}},
        },
        "privileged",
    ),
    (
        "a Deployment's pods",
        {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": RESTRICTED_POD}}},
        "restricted",
    ),
    ("a ConfigMap runs no pods", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, "restricted"),
]


@pytest.mark.parametrize(("manifest", "level"), [(m, lvl) for _, m, lvl in CASES], ids=[name for name, _, _ in CASES])
def test_level_of_sample_workloads(manifest: dict[str, Any], level: str) -> None:
    assert level_of(manifest) == level


def namespace_labels(stack: str, project: Path = EXAMPLE, mode: str = "normal") -> dict[str, str]:
    run = run_program(stack, {"codex:projectDir": str(project), "codex:mode": mode})
    (namespace,) = [r for r in run.registrations if r.type == "kubernetes:core/v1:Namespace"]
    return dict(namespace.inputs["metadata"].get("labels") or {})


def test_the_examples_slot_namespace_is_labelled() -> None:
    labels = namespace_labels("ai-slot-3")
    assert labels[ENFORCE] == "privileged"  # postgres, redis and the code mounts are hostPaths
    assert labels["pod-security.kubernetes.io/warn"] == "baseline"
    assert labels["pod-security.kubernetes.io/audit"] == "baseline"
    assert labels["codex-stacks.dev/agent-namespace"] == "true"
    assert "codex-stacks.dev/agent-namespace" not in namespace_labels("dev")
    assert namespace_labels("cluster")[ENFORCE] == "restricted"  # codex-system runs no pods


SERVICES = """\
project: demo
maxSlots: 2
environments:
  staging: {}
  repair: {from: staging, mode: repair}
  ai: {}
namespace:
  patterns:
    staging: demo-staging
    repair: demo-staging
infrastructure:
  - name: base
    when: "{{ env != 'repair' }}"
    manifests:
      - path: ns.yaml
  - name: web
    when: "{{ env != 'repair' }}"
    manifests:
      - path: web.yaml
services:
  - name: codex
    when: "{{ env in ('repair', 'ai') }}"
    manifests:
      - path: codex.yaml
repair:
  infrastructure: [base]
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"
WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: web
          image: web
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""
CODEX = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: codex
spec:
  selector: {matchLabels: {app: codex}}
  template:
    metadata: {labels: {app: codex}}
    spec:
      serviceAccountName: codex-sa
      containers:
        - name: codex
          image: codex
"""


def labels_of(root: Path, stack: str, mode: str = "normal") -> dict[str, str]:
    plan = build_plan(PlanRequest(stack=stack, project_dir=root, mode=mode))
    owned = [obj for obj in plan.objects if obj.kind == "Namespace"]
    return dict(owned[0].manifest["metadata"].get("labels") or {}) if owned else dict(plan.namespace_labels)


def test_level_is_the_strictest_the_projects_own_pods_pass(make_project: MakeProject) -> None:
    root = make_project(SERVICES, {"ns.yaml": NAMESPACE, "web.yaml": WEB, "codex.yaml": CODEX})
    assert labels_of(root, "ai-slot-1")[ENFORCE] == "baseline"  # the agent's pod is baseline
    without_agent = SERVICES.replace("when: \"{{ env in ('repair', 'ai') }}\"", "when: 'false'")
    alone = make_project(without_agent, {"ns.yaml": NAMESPACE, "web.yaml": WEB, "codex.yaml": CODEX})
    assert labels_of(alone, "staging")[ENFORCE] == "restricted"


def test_a_shared_namespace_is_labelled_for_every_stack_in_it(make_project: MakeProject) -> None:
    """Staging's own pods are restricted, but the repair agent it shares the namespace with is
    baseline: staging's Namespace must let both run, and the repair stack writes no labels."""
    root = make_project(SERVICES, {"ns.yaml": NAMESPACE, "web.yaml": WEB, "codex.yaml": CODEX})
    staging = labels_of(root, "staging")
    assert staging[ENFORCE] == "baseline"
    assert staging["codex-stacks.dev/agent-namespace"] == "true"
    repair = build_plan(PlanRequest(stack="repair", project_dir=root, mode="repair"))
    assert repair.namespace_owner is None
    assert dict(repair.namespace_labels) == {}
    assert not any(obj.kind == "NetworkPolicy" for obj in repair.objects)  # staging's traffic is staging's


def test_a_repair_run_labels_for_the_whole_stack(make_project: MakeProject) -> None:
    """The repair set alone would pass restricted; the labels still let the rest of the stack run."""
    services = SERVICES.replace(
        "repair:\n  infrastructure: [base]\n", "repair:\n  infrastructure: [base]\n  services: []\n"
    )
    privileged_web = WEB.replace("      containers:", "      hostNetwork: true\n      containers:")
    root = make_project(services, {"ns.yaml": NAMESPACE, "web.yaml": privileged_web, "codex.yaml": CODEX})
    assert labels_of(root, "staging", mode="repair")[ENFORCE] == "privileged"
    broken = make_project(services, {"ns.yaml": NAMESPACE, "web.yaml": "{{ nope }}", "codex.yaml": CODEX})
    assert labels_of(broken, "staging", mode="repair")[ENFORCE] == "privileged"  # unknown: let it all run
