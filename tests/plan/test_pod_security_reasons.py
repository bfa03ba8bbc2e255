"""Why a namespace enforces the Pod Security level it does: the plan names what keeps it from the
next stricter level (docs/security.md, "Pod Security"), one line per pod setting.

Each expected line is written from the Pod Security Standards' tables
(kubernetes.io/docs/concepts/security/pod-security-standards/) and the manifests below.
"""

from __future__ import annotations

from typing import Any

import pytest

from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.podsecurity import PodSecurity, pod_security
from tests.conftest import EXAMPLE, MakeProject
from tests.plan.test_podsecurity import CODEX, NAMESPACE, RESTRICTED_POD, SERVICES, WEB, pod, restricted


def deployment(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"template": {"spec": spec}},
    }


def test_restricted_pods_need_no_reason() -> None:
    assert pod_security([pod(restricted()), {"kind": "ConfigMap", "metadata": {"name": "c"}}]) == PodSecurity(
        "restricted"
    )


def test_baseline_names_each_restricted_control_a_pod_misses() -> None:
    nfs = restricted(volumes=[{"name": "shared", "nfs": {"server": "s", "path": "/"}}])
    root = restricted(pod__runAsNonRoot=None, container__runAsUser=0)
    assert pod_security([pod(nfs), deployment("api", root)]) == PodSecurity(
        "baseline",
        (
            "Pod/p: volume 'shared' is of a type restricted does not allow (Volume Types)",
            "Deployment/api: container 'app' may run as root (runAsNonRoot is not true) (Running as Non-root)",
            "Deployment/api: container 'app' sets runAsUser: 0 (Running as Non-root user)",
        ),
    )


def test_privileged_names_only_what_baseline_refuses() -> None:
    """A pod that fails both levels is named for the baseline controls alone: those are what keep
    the namespace at privileged."""
    selinux = {"containers": [{"name": "db", "image": "db", "securityContext": {"seLinuxOptions": {"role": "r"}}}]}
    unconfined = restricted(pod__seccompProfile={"type": "Unconfined"})
    assert pod_security([deployment("db", selinux), pod(unconfined)]) == PodSecurity(
        "privileged",
        (
            "Deployment/db: container 'db' sets seLinuxOptions user or role (SELinux)",
            "Pod/p: pod sets seccompProfile.type Unconfined (Seccomp)",
        ),
    )


def test_the_plan_says_why_a_slot_is_baseline(make_project: MakeProject) -> None:
    root = make_project(SERVICES, {"ns.yaml": NAMESPACE, "web.yaml": WEB, "codex.yaml": CODEX})
    plan = build_plan(PlanRequest(stack="ai-slot-1", project_dir=root))
    assert plan.pod_security == PodSecurity(
        "baseline",
        (
            "Deployment/codex: container 'codex' may run as root (runAsNonRoot is not true) (Running as Non-root)",
            "Deployment/codex: container 'codex' does not set allowPrivilegeEscalation: false (Privilege Escalation)",
            "Deployment/codex: container 'codex' has no RuntimeDefault or Localhost seccomp profile (Seccomp)",
            "Deployment/codex: container 'codex' does not drop ALL capabilities (Capabilities)",
        ),
    )
    assert build_plan(PlanRequest(stack="cluster", project_dir=EXAMPLE)).pod_security is None  # no namespace


def test_a_stack_that_cannot_be_planned_makes_it_privileged_and_says_so(make_project: MakeProject) -> None:
    services = SERVICES.replace(
        "repair:\n  infrastructure: [base]\n", "repair:\n  infrastructure: [base]\n  services: []\n"
    )
    broken = make_project(services, {"ns.yaml": NAMESPACE, "web.yaml": "{{ nope }}", "codex.yaml": CODEX})
    plan = build_plan(PlanRequest(stack="staging", project_dir=broken, mode="repair"))
    assert plan.pod_security == PodSecurity(
        "privileged", ("a stack deploying into this namespace cannot be planned now, so its pods are not known",)
    )


APP = "Pod/p: container 'app'"
PROBE_HOST = {"httpGet": {"host": "10.0.0.1", "port": 80}}
BASELINE_REFUSES = [
    # what keeps a namespace at privileged
    ("hostNetwork", restricted(hostNetwork=True), ["Pod/p: pod sets hostNetwork: true (Host Namespaces)"]),
    ("hostPID", restricted(hostPID=True), ["Pod/p: pod sets hostPID: true (Host Namespaces)"]),
    ("hostIPC", restricted(hostIPC=True), ["Pod/p: pod sets hostIPC: true (Host Namespaces)"]),
    (
        "pod HostProcess",
        restricted(pod__windowsOptions={"hostProcess": True}),
        ["Pod/p: pod sets windowsOptions.hostProcess: true (HostProcess)"],
    ),
    (
        "container HostProcess",
        restricted(container__windowsOptions={"hostProcess": True}),
        [f"{APP} sets windowsOptions.hostProcess: true (HostProcess)"],
    ),
    (
        "hostPath",
        restricted(volumes=[{"name": "v", "hostPath": {"path": "/srv"}}]),
        ["Pod/p: volume 'v' is a hostPath (HostPath Volumes)"],
    ),
    (
        "unsafe sysctl",
        restricted(pod__sysctls=[{"name": "kernel.msgmax", "value": "1"}]),
        ["Pod/p: pod sets sysctl 'kernel.msgmax', not a safe one (Sysctls)"],
    ),
    (
        "pod SELinux type",
        restricted(pod__seLinuxOptions={"type": "spc_t"}),
        ["Pod/p: pod sets seLinuxOptions.type spc_t (SELinux)"],
    ),
    (
        "container SELinux user",
        restricted(container__seLinuxOptions={"user": "root"}),
        [f"{APP} sets seLinuxOptions user or role (SELinux)"],
    ),
    (
        "pod AppArmor",
        restricted(pod__appArmorProfile={"type": "Unconfined"}),
        ["Pod/p: pod sets appArmorProfile.type Unconfined (AppArmor)"],
    ),
    (
        "container AppArmor",
        restricted(container__appArmorProfile={"type": "Unconfined"}),
        [f"{APP} sets appArmorProfile.type Unconfined (AppArmor)"],
    ),
    (
        "pod seccomp Unconfined",
        restricted(pod__seccompProfile={"type": "Unconfined"}),
        ["Pod/p: pod sets seccompProfile.type Unconfined (Seccomp)"],
    ),
    ("privileged", restricted(container__privileged=True), [f"{APP} is privileged (Privileged Containers)"]),
    (
        "capability beyond baseline",
        restricted(container__capabilities={"drop": ["ALL"], "add": ["SYS_TIME", "NET_ADMIN"]}),
        [f"{APP} adds NET_ADMIN, SYS_TIME (Capabilities)"],
    ),
    ("procMount", restricted(container__procMount="Unmasked"), [f"{APP} sets procMount Unmasked (/proc Mount Type)"]),
    (
        "hostPort",
        restricted(item__ports=[{"containerPort": 80, "hostPort": 8080}]),
        [f"{APP} uses hostPort 8080 (Host Ports)"],
    ),
    (
        "probe host",
        restricted(item__readinessProbe={"tcpSocket": {"host": "10.0.0.1", "port": 80}}),
        [f"{APP} sets readinessProbe.tcpSocket.host (Host Probes / Lifecycle Hooks)"],
    ),
    (
        "lifecycle host",
        restricted(item__lifecycle={"preStop": PROBE_HOST}),
        [f"{APP} sets lifecycle.preStop.httpGet.host (Host Probes / Lifecycle Hooks)"],
    ),
]
RESTRICTED_REFUSES = [
    # what keeps a namespace at baseline
    (
        "nfs volume",
        restricted(volumes=[{"name": "v", "nfs": {"server": "s", "path": "/"}}]),
        ["Pod/p: volume 'v' is of a type restricted does not allow (Volume Types)"],
    ),
    (
        "pod runAsNonRoot false",
        restricted(pod__runAsNonRoot=False),
        [
            "Pod/p: pod sets runAsNonRoot: false (Running as Non-root)",
            f"{APP} may run as root (runAsNonRoot is not true) (Running as Non-root)",
        ],
    ),
    ("pod runAsUser 0", restricted(pod__runAsUser=0), ["Pod/p: pod sets runAsUser: 0 (Running as Non-root user)"]),
    (
        "container runAsUser 0",
        restricted(container__runAsUser=0),
        [f"{APP} sets runAsUser: 0 (Running as Non-root user)"],
    ),
    (
        "privilege escalation",
        restricted(container__allowPrivilegeEscalation=True),
        [f"{APP} does not set allowPrivilegeEscalation: false (Privilege Escalation)"],
    ),
    (
        "no seccomp profile",
        restricted(pod__seccompProfile=None),
        [f"{APP} has no RuntimeDefault or Localhost seccomp profile (Seccomp)"],
    ),
    (
        "ALL not dropped",
        restricted(container__capabilities={}),
        [f"{APP} does not drop ALL capabilities (Capabilities)"],
    ),
    (
        "a baseline capability added",
        restricted(container__capabilities={"drop": ["ALL"], "add": ["CHOWN"]}),
        [f"{APP} adds capabilities other than NET_BIND_SERVICE (Capabilities)"],
    ),
]


CASES = [("privileged", *case) for case in BASELINE_REFUSES] + [("baseline", *case) for case in RESTRICTED_REFUSES]


@pytest.mark.parametrize(
    ("level", "spec", "because"), [(lvl, s, b) for lvl, _, s, b in CASES], ids=[c[1] for c in CASES]
)
def test_each_control_is_named_with_what_the_pod_sets(level: str, spec: dict[str, Any], because: list[str]) -> None:
    assert pod_security([pod(spec)]) == PodSecurity(level, tuple(because))


def test_an_annotation_that_unconfines_apparmor_is_named() -> None:
    annotated = pod(RESTRICTED_POD, {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"})
    assert pod_security([annotated]).because == (
        "Pod/p: pod annotation container.apparmor.security.beta.kubernetes.io/app: unconfined (AppArmor)",
    )
