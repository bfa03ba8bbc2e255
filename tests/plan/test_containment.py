"""The agent cannot leave its namespace (docs/security.md).

The admission policy is taken from what the cluster stack of each example registers (the
offline program, as ``pulumi up -s cluster`` would send it), its CEL is evaluated by the CEL
project's runtime through ``tests/support/admission.py``, and the namespace it is checked
against is the one the slot stack registers. The dangerous pod specs, the folders a slot owns
and the forbidden rights are written down here, from the Kubernetes documentation, not taken
from the code under test.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.errors import CodexError, PlanError
from codex_stacks.offline.runner import ProgramRun, run_program
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import EXAMPLE, REPO_ROOT
from tests.support.admission import Decision, Request, admit, portable

ALIMENTOR = REPO_ROOT / "examples" / "alimentor"
SLOT = 3
NAMESPACE = f"project-example-dev-{SLOT}"
AGENT = f"system:serviceaccount:{NAMESPACE}:codex-sa"
# What services.yaml of the example says a slot's folders are (CODE_ROOT_BASE and DATA_ROOT unset):
# the code checkout <project>/slots/<slot>/src and the data folder <project>/.data/slots/<slot>.
CODE = f"{EXAMPLE.resolve()}/slots/{SLOT}/src"
DATA = f"{EXAMPLE.resolve()}/.data/slots/{SLOT}"
OTHER_SLOT_CODE = f"{EXAMPLE.resolve()}/slots/{SLOT + 1}/src"


@cache
def program(stack: str, project: Path = EXAMPLE, mode: str = "normal") -> ProgramRun:
    return run_program(stack, {"codex:projectDir": str(project), "codex:mode": mode})


def registered(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    return [
        copy.deepcopy(dict(r.inputs))
        for r in run.registrations
        if r.type.startswith("kubernetes:") and r.inputs.get("kind") == kind
    ]


def policy_and_binding(project: Path = EXAMPLE) -> tuple[dict[str, Any], dict[str, Any]]:
    run = program("cluster", project)
    (policy,) = registered(run, "ValidatingAdmissionPolicy")
    (binding,) = registered(run, "ValidatingAdmissionPolicyBinding")
    return policy, binding


def namespace_of(stack: str, project: Path = EXAMPLE) -> dict[str, Any]:
    (namespace,) = registered(program(stack, project), "Namespace")
    return namespace


# --------------------------------------------------------------------------- workloads


def _template(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "x"}}, "spec": spec}


WORKLOADS: dict[str, tuple[str, str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    # kind: (API group, resource, pod spec → object), per the Kubernetes API reference
    "Pod": ("", "pods", lambda spec: {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": spec}),
    "ReplicationController": (
        "",
        "replicationcontrollers",
        lambda spec: {"apiVersion": "v1", "kind": "ReplicationController", "spec": {"template": _template(spec)}},
    ),
    "Deployment": (
        "apps",
        "deployments",
        lambda spec: {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": _template(spec)}},
    ),
    "StatefulSet": (
        "apps",
        "statefulsets",
        lambda spec: {"apiVersion": "apps/v1", "kind": "StatefulSet", "spec": {"template": _template(spec)}},
    ),
    "DaemonSet": (
        "apps",
        "daemonsets",
        lambda spec: {"apiVersion": "apps/v1", "kind": "DaemonSet", "spec": {"template": _template(spec)}},
    ),
    "ReplicaSet": (
        "apps",
        "replicasets",
        lambda spec: {"apiVersion": "apps/v1", "kind": "ReplicaSet", "spec": {"template": _template(spec)}},
    ),
    "Job": (
        "batch",
        "jobs",
        lambda spec: {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": _template(spec)}},
    ),
    "CronJob": (
        "batch",
        "cronjobs",
        lambda spec: {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": _template(spec)}}},
        },
    ),
}


def _pod(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "busybox"}]}
    spec.update(extra)
    return spec


def _container(**context: Any) -> dict[str, Any]:
    return _pod(containers=[{"name": "app", "image": "busybox", "securityContext": context}])


def _mount(path: str) -> dict[str, Any]:
    return _pod(volumes=[{"name": "v", "hostPath": {"path": path}}])


DANGEROUS: dict[str, dict[str, Any]] = {
    "privileged": _container(privileged=True),
    "privileged init container": _pod(
        initContainers=[{"name": "init", "image": "busybox", "securityContext": {"privileged": True}}]
    ),
    "windows HostProcess": _pod(securityContext={"windowsOptions": {"hostProcess": True}}),
    "hostNetwork": _pod(hostNetwork=True),
    "hostPID": _pod(hostPID=True),
    "hostIPC": _pod(hostIPC=True),
    "added SYS_ADMIN": _container(capabilities={"add": ["SYS_ADMIN"]}),
    "added NET_RAW": _container(capabilities={"add": ["NET_RAW"]}),
    "docker socket": _mount("/var/run/docker.sock"),
    "containerd socket": _mount("/run/containerd/containerd.sock"),
    "containerd state": _mount("/var/lib/containerd/io.containerd.runtime.v2.task"),
    "microk8s runtime": _mount("/var/snap/microk8s/common/run/containerd.sock"),
    "the node's root": _mount("/"),
    "/var/run, which holds the sockets": _mount("/var/run"),
    "/etc": _mount("/etc"),
    "kubelet credentials": _mount("/var/lib/kubelet/pki"),
    "another slot's code": _mount(OTHER_SLOT_CODE),
    "'..' out of the slot's code": _mount(f"{CODE}/../../../../../../etc"),
    "'..' in the middle": _mount(f"{DATA}/../{SLOT + 1}"),
    "a sibling sharing the prefix": _mount(f"{CODE}-evil"),
    "a relative path": _mount("etc"),
    "a trailing-slash runtime folder": _mount("/run/containerd/"),
    "dotted runtime path": _mount("/var/./run/docker.sock"),
}

HARMLESS: dict[str, dict[str, Any]] = {
    "plain pod": _pod(),
    "unprivileged container": _container(privileged=False, allowPrivilegeEscalation=False),
    "dropped capabilities": _container(capabilities={"drop": ["ALL"]}),
    "the slot's code": _mount(CODE),
    "a folder in the slot's code": _mount(f"{CODE}/services/chat_backend"),
    "the slot's data": _mount(f"{DATA}/postgres"),
    "a trailing slash": _mount(f"{DATA}/redis/"),
}


def _request(kind: str, operation: str, user: str, namespace: str = NAMESPACE, sub: str = "") -> Request:
    group, resource, _ = WORKLOADS[kind]
    return Request(
        operation=operation,
        group=group,
        version="v1",
        resource=resource,
        kind=kind,
        namespace=namespace,
        username=user,
        sub_resource=sub,
    )


def decide(kind: str, operation: str, user: str, spec: dict[str, Any], **kwargs: Any) -> Decision:
    policy, binding = policy_and_binding()
    obj = WORKLOADS[kind][2](spec)
    old = WORKLOADS[kind][2](_pod()) if operation == "UPDATE" else None
    return admit(
        policy,
        binding,
        request=_request(kind, operation, user, **kwargs),
        obj=obj,
        old=old,
        namespace=namespace_of(f"ai-slot-{SLOT}"),
        param_objects=[binding],
    )


# --------------------------------------------------------------------------- the policy


@pytest.mark.parametrize("operation", ["CREATE", "UPDATE"])
@pytest.mark.parametrize("kind", sorted(WORKLOADS))
@pytest.mark.parametrize("danger", sorted(DANGEROUS))
def test_the_agent_is_refused_every_dangerous_workload(kind: str, operation: str, danger: str) -> None:
    decision = decide(kind, operation, AGENT, DANGEROUS[danger])
    assert decision.matched
    assert not decision.allowed, f"{kind} {operation} with {danger} was admitted"
    assert all(not message.startswith("error: ") for message in decision.messages), decision.messages


@pytest.mark.parametrize("operation", ["CREATE", "UPDATE"])
@pytest.mark.parametrize("kind", sorted(WORKLOADS))
@pytest.mark.parametrize("danger", sorted(DANGEROUS))
@pytest.mark.parametrize(
    "user",
    [
        "kubernetes-admin",  # the deployer (pulumi up with an admin kubeconfig)
        "system:serviceaccount:arc-runners:github-runner",  # a CI runner's ServiceAccount
        "system:serviceaccount:kube-system:replicaset-controller",  # controllers create the pods
    ],
)
def test_deployers_and_controllers_are_never_refused(kind: str, operation: str, danger: str, user: str) -> None:
    decision = decide(kind, operation, user, DANGEROUS[danger])
    assert decision.allowed, decision.messages


@pytest.mark.parametrize("operation", ["CREATE", "UPDATE"])
@pytest.mark.parametrize("kind", sorted(WORKLOADS))
@pytest.mark.parametrize("case", sorted(HARMLESS))
def test_the_agent_may_run_harmless_workloads_and_mount_its_own_folders(kind: str, operation: str, case: str) -> None:
    decision = decide(kind, operation, AGENT, HARMLESS[case])
    assert decision.allowed, decision.messages


def test_ephemeral_containers_are_checked_too() -> None:
    pod = _pod(ephemeralContainers=[{"name": "debug", "image": "busybox", "securityContext": {"privileged": True}}])
    refused = decide("Pod", "UPDATE", AGENT, pod, sub="ephemeralcontainers")
    assert refused.matched
    assert not refused.allowed
    plain = _pod(ephemeralContainers=[{"name": "debug", "image": "busybox"}])
    assert decide("Pod", "UPDATE", AGENT, plain, sub="ephemeralcontainers").allowed


def test_other_service_accounts_of_the_slot_are_held_like_the_agent() -> None:
    """The agent can run a pod as any ServiceAccount of its namespace, so all of them are held."""
    default = f"system:serviceaccount:{NAMESPACE}:default"
    assert not decide("Deployment", "CREATE", default, DANGEROUS["privileged"]).allowed
    assert decide("Deployment", "CREATE", default, HARMLESS["the slot's code"]).allowed


def test_another_slots_agent_gets_no_folders_here() -> None:
    other = f"system:serviceaccount:project-example-dev-{SLOT + 1}:codex-sa"
    decision = decide("Pod", "CREATE", other, HARMLESS["the slot's code"])
    assert not decision.allowed
    assert any(CODE in message for message in decision.messages)  # the message names the path


def test_the_refusal_names_the_path() -> None:
    decision = decide("Pod", "CREATE", AGENT, DANGEROUS["another slot's code"])
    assert any(OTHER_SLOT_CODE in message for message in decision.messages), decision.messages


def test_a_missing_parameter_refuses_everything_it_matches() -> None:
    policy, binding = policy_and_binding()
    decision = admit(
        policy,
        binding,
        request=_request("Pod", "CREATE", AGENT),
        obj=WORKLOADS["Pod"][2](_pod()),
        namespace=namespace_of(f"ai-slot-{SLOT}"),
        param_objects=[],
    )
    assert not decision.allowed


def test_the_policy_applies_in_agent_namespaces_only() -> None:
    policy, binding = policy_and_binding()
    for stack, applies in [(f"ai-slot-{SLOT}", True), ("ai-staging", True), ("dev", False)]:
        namespace = namespace_of(stack)
        name = namespace["metadata"]["name"]
        decision = admit(
            policy,
            binding,
            request=_request("Pod", "CREATE", f"system:serviceaccount:{name}:codex-sa", namespace=name),
            obj=WORKLOADS["Pod"][2](DANGEROUS["hostPID"]),
            namespace=namespace,
            param_objects=[binding],
        )
        assert decision.allowed is not applies, stack
    foreign = {"metadata": {"name": "other", "labels": {**namespace_of(f"ai-slot-{SLOT}")["metadata"]["labels"]}}}
    foreign["metadata"]["labels"]["codex-stacks.dev/project"] = "someone-else"
    decision = admit(
        policy,
        binding,
        request=_request("Pod", "CREATE", "system:serviceaccount:other:codex-sa", namespace="other"),
        obj=WORKLOADS["Pod"][2](DANGEROUS["hostPID"]),
        namespace=foreign,
        param_objects=[binding],
    )
    assert decision.allowed  # another project's policy holds that one


def test_every_expression_is_portable_cel() -> None:
    for project in (EXAMPLE, ALIMENTOR):
        policy, _ = policy_and_binding(project)
        spec = policy["spec"]
        expressions = [
            *(item["expression"] for item in spec["matchConditions"]),
            *(item["expression"] for item in spec["variables"]),
            *(item["expression"] for item in spec["validations"]),
            *(item["messageExpression"] for item in spec["validations"] if "messageExpression" in item),
        ]
        for expression in expressions:
            assert portable(expression) == [], expression
        assert spec["failurePolicy"] == "Fail"


def _agent_stacks(project: Path) -> list[tuple[str, str]]:
    if project == EXAMPLE:  # maxSlots 10, and the repair-only agent beside staging
        return [("ai-slot-1", "normal"), ("ai-slot-3", "normal"), ("ai-slot-10", "normal"), ("ai-repair", "repair")]
    return [("ai-slot-1", "normal"), ("ai-slot-4", "normal")]  # maxSlots 4


@pytest.mark.parametrize("project", [EXAMPLE, ALIMENTOR], ids=["project-example", "alimentor"])
def test_every_workload_of_the_examples_is_allowed_for_the_agent(project: Path) -> None:
    policy, binding = policy_and_binding(project)
    checked = 0
    for stack, mode in _agent_stacks(project):
        run = program(stack, project, mode)
        owners = [stack] if registered(run, "Namespace")[0]["metadata"].get("labels") else ["ai-staging"]
        namespace = namespace_of(owners[0], project)
        name = namespace["metadata"]["name"]
        runs = [run] if owners == [stack] else [run, program("ai-staging", project)]  # staging's own, too
        for each in runs:
            for obj in (o for kind in WORKLOADS for o in registered(each, kind)):
                for operation in ("CREATE", "UPDATE"):
                    decision = admit(
                        policy,
                        binding,
                        request=_request(
                            obj["kind"], operation, f"system:serviceaccount:{name}:codex-sa", namespace=name
                        ),
                        obj=obj,
                        old=obj if operation == "UPDATE" else None,
                        namespace=namespace,
                        param_objects=[binding],
                    )
                    assert decision.matched, (stack, obj["metadata"]["name"])
                    assert decision.allowed, (stack, obj["metadata"]["name"], decision.messages)
                    checked += 1
    assert checked >= 10


# --------------------------------------------------------------------------- the Roles

WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}
NEVER_VERBS = {"bind", "escalate", "impersonate", "*"}
# What limits the agent must never be the agent's to change (issue #15): RBAC, NetworkPolicies,
# quotas, limits, the admission policy and its parameter (the binding itself).
NEVER_WRITTEN = {
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("networking.k8s.io", "networkpolicies"),
    ("", "resourcequotas"),
    ("", "limitranges"),
    ("", "namespaces"),
    ("admissionregistration.k8s.io", "validatingadmissionpolicies"),
    ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
    ("", "serviceaccounts/token"),
}


def role_rules(stack: str, mode: str) -> list[dict[str, Any]]:
    (role,) = [r for r in registered(program(stack, EXAMPLE, mode), "Role") if r["metadata"]["name"] == "codex-agent"]
    return list(role["rules"])


def allows(rules: list[dict[str, Any]], group: str, resource: str, verb: str) -> bool:
    return any(
        group in rule.get("apiGroups", []) and resource in rule.get("resources", []) and verb in rule.get("verbs", [])
        for rule in rules
    )


@pytest.mark.parametrize(("stack", "mode"), [("ai-slot-3", "normal"), ("ai-slot-3", "repair"), ("ai-repair", "repair")])
def test_the_agent_roles_name_everything_and_never_what_limits_the_agent(stack: str, mode: str) -> None:
    rules = role_rules(stack, mode)
    for rule in rules:
        for key in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert "*" not in rule.get(key, []), rule
        assert not NEVER_VERBS & set(rule["verbs"]), rule
        assert not rule.get("nonResourceURLs"), rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                if (group, resource) in NEVER_WRITTEN or (group, resource.split("/")[0]) in NEVER_WRITTEN:
                    assert not WRITE_VERBS & set(rule["verbs"]), rule


@pytest.mark.parametrize("mode", ["normal", "repair"])
def test_the_agent_can_still_repair_the_projects_workloads(mode: str) -> None:
    rules = role_rules("ai-slot-3", mode)
    for needed in [
        ("", "pods", "list"),
        ("", "pods/log", "get"),
        ("", "pods/exec", "create"),
        ("", "pods", "delete"),
        ("apps", "deployments", "patch"),
        ("apps", "statefulsets", "update"),
        ("batch", "jobs", "create"),
        ("", "configmaps", "update"),
        ("networking.k8s.io", "networkpolicies", "list"),  # it may see what limits it
        ("rbac.authorization.k8s.io", "roles", "get"),
    ]:
        assert allows(rules, *needed), needed
    if mode == "repair":
        for needed in [
            ("", "services", "create"),
            ("", "secrets", "update"),
            ("", "persistentvolumeclaims", "create"),
            ("networking.k8s.io", "ingresses", "patch"),
        ]:
            assert allows(rules, *needed), needed


# --------------------------------------------------------------------------- one owner


def test_a_namespace_stack_may_not_render_cluster_objects(example_copy: Path) -> None:
    services = example_copy / "services.yaml"
    text = services.read_text()
    services.write_text(text.replace("when: \"{{ env == 'cluster' }}\"", 'when: "true"', 1), encoding="utf-8")
    with pytest.raises(PlanError) as info:
        build_plan(PlanRequest(stack="dev", project_dir=example_copy))
    assert "ConfigMap/kube-system/coredns" in info.value.message
    assert "cluster-dns" in info.value.message
    assert "environment 'cluster'" in str(info.value.hint)
    assert info.value.location.file == (example_copy / "deploy" / "cluster-dns.yaml").resolve()


def test_without_a_cluster_environment_the_hint_says_to_add_one(make_project: Callable[..., Path]) -> None:
    root = make_project(
        "project: demo\nenvironments:\n  dev: {}\n"
        "infrastructure:\n  - name: issuer\n    manifests:\n      - path: i.yaml\n",
        {"i.yaml": "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: le\n"},
    )
    with pytest.raises(PlanError, match="ClusterIssuer/le of issuer is cluster-scoped") as info:
        build_plan(PlanRequest(stack="dev", project_dir=root))
    assert "scope: cluster" in str(info.value.hint)


def test_no_stack_but_the_cluster_stack_owns_anything_outside_its_namespace() -> None:
    """So destroying any other stack can never delete kube-system/coredns or the ClusterIssuer."""
    for stack in ["dev", "ai-staging", "ai-repair", "ai-slot-1", "ai-slot-10"]:
        run = program(stack, EXAMPLE, "repair" if stack == "ai-repair" else "normal")
        (namespace,) = registered(run, "Namespace")
        own = namespace["metadata"]["name"]
        for registration in run.registrations:
            if not registration.type.startswith("kubernetes:") or registration.type.endswith(":Provider"):
                continue
            metadata = registration.inputs["metadata"]
            assert metadata.get("namespace") == own or registration.inputs["kind"] == "Namespace", (
                stack,
                registration.name,
            )
    cluster = {r.name for r in program("cluster").registrations}
    assert {"cluster-dns/configmap/kube-system/coredns", "tls-issuer/clusterissuer/letsencrypt"} <= cluster


def test_objects_outside_the_stack_namespace_are_retained_when_deleted() -> None:
    retained = {r.name: r.retain_on_delete for r in program("cluster").registrations}
    assert retained["cluster-dns/configmap/kube-system/coredns"]
    assert retained["tls-issuer/clusterissuer/letsencrypt"]
    assert retained["codex-agent-containment/validatingadmissionpolicy/codex-agent-containment-project-example"]
    assert retained["namespace"]  # codex-system holds the slot claims of every project


def test_the_cluster_stack_keeps_out_of_codex_system(example_copy: Path) -> None:
    services = example_copy / "services.yaml"
    text = services.read_text().replace(
        "  - name: observability\n    when: \"{{ env != 'cluster' }}\"\n", "  - name: observability\n"
    )
    services.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError, match="would land in codex-system") as info:
        build_plan(PlanRequest(stack="cluster", project_dir=example_copy))
    assert "observability" in str(info.value.hint)


def test_the_cluster_stack_has_no_repair_mode() -> None:
    with pytest.raises(PlanError, match="no repair mode"):
        build_plan(PlanRequest(stack="cluster", project_dir=EXAMPLE, mode="repair"))


@pytest.mark.parametrize(
    ("environments", "message"),
    [
        ("  a: {scope: cluster}\n  b: {scope: cluster}\n", "only one environment may have scope: cluster"),
        ("  a: {scope: cluster}\n  b: {from: a}\n", "neither inherits nor is inherited"),
        ("  a: {}\n  b: {from: a, scope: cluster}\n", "neither inherits nor is inherited"),
    ],
)
def test_one_cluster_environment_standing_alone(
    make_project: Callable[..., Path], environments: str, message: str
) -> None:
    root = make_project(f"project: demo\nenvironments:\n{environments}")
    with pytest.raises(CodexError, match=message):
        build_plan(PlanRequest(stack="b", project_dir=root))


def test_slots_cannot_be_the_cluster_environment(make_project: Callable[..., Path]) -> None:
    root = make_project("project: demo\nenvironments:\n  ai: {scope: cluster}\n")
    with pytest.raises(PlanError, match="cannot have scope: cluster"):
        build_plan(PlanRequest(stack="ai-slot-1", project_dir=root))


def test_the_cluster_stack_needs_max_slots_to_list_them(example_copy: Path) -> None:
    services = example_copy / "services.yaml"
    services.write_text(services.read_text().replace("maxSlots: 10", "maxSlots: 0"), encoding="utf-8")
    with pytest.raises(PlanError, match="maxSlots is 0"):
        build_plan(PlanRequest(stack="cluster", project_dir=example_copy))


def test_slot_claims_are_granted_to_the_runners_only_in_codex_system() -> None:
    run = program("cluster")
    roles = {r["metadata"]["name"]: r for r in registered(run, "Role")}
    role = roles["codex-slot-claims-project-example"]
    assert role["metadata"]["namespace"] == "codex-system"
    assert role["rules"] == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        }
    ]
    (binding,) = registered(run, "RoleBinding")
    assert binding["metadata"]["namespace"] == "codex-system"
    assert binding["subjects"] == [{"kind": "Group", "name": "codex-runners", "apiGroup": "rbac.authorization.k8s.io"}]
    (alimentor,) = registered(program("cluster", ALIMENTOR), "RoleBinding")
    assert alimentor["subjects"] == [{"kind": "ServiceAccount", "name": "github-runner", "namespace": "arc-runners"}]


@pytest.mark.parametrize(
    "path",
    [
        "/var/run/docker.sock",
        "/run/containerd",
        "/var/lib/containerd",
        "/var/snap/microk8s/common/run",
        "/var/run",
        "/",
    ],
)
def test_the_runtime_stays_out_even_when_the_folder_table_lets_it_in(path: str) -> None:
    """Defence in depth: a folder table that (wrongly) lists a node folder still keeps the runtime out."""
    policy, binding = policy_and_binding()
    loose = copy.deepcopy(binding)
    loose["metadata"]["annotations"][f"host-folders.codex-stacks.dev/{NAMESPACE}"] = "/\n/var\n/run"
    decision = admit(
        policy,
        loose,
        request=_request("Pod", "CREATE", AGENT),
        obj=WORKLOADS["Pod"][2](_mount(path)),
        namespace=namespace_of(f"ai-slot-{SLOT}"),
        param_objects=[loose],
    )
    assert not decision.allowed
    assert decision.messages == ["the codex agent may not mount the container runtime"]


def test_the_cluster_stacks_namespace_cannot_be_moved() -> None:
    """Runners claim slots in codex-system whatever the project: the cluster stack lives there."""
    with pytest.raises(PlanError, match="always codex-system"):
        build_plan(PlanRequest(stack="cluster", project_dir=EXAMPLE, namespace="elsewhere"))


def test_a_namespace_missing_from_the_table_gets_no_host_folders() -> None:
    policy, binding = policy_and_binding()
    stray = copy.deepcopy(namespace_of(f"ai-slot-{SLOT}"))
    stray["metadata"]["name"] = "project-example-dev-11"  # beyond maxSlots: no stack lists it
    user = "system:serviceaccount:project-example-dev-11:codex-sa"

    def decision(spec: dict[str, Any]) -> Decision:
        return admit(
            policy,
            binding,
            request=_request("Pod", "CREATE", user, namespace="project-example-dev-11"),
            obj=WORKLOADS["Pod"][2](spec),
            namespace=stray,
            param_objects=[binding],
        )

    assert not decision(_mount(f"{EXAMPLE.resolve()}/slots/11/src")).allowed
    assert decision(_pod()).allowed


LOG_READER = """\
project: demo
maxSlots: 1
environments:
  ai: {}
  cluster: {scope: cluster}
dataPaths:
  root: /srv/demo-data
infrastructure:
  - name: base
    when: "{{ env != 'cluster' }}"
    manifests:
      - path: ns.yaml
      - path: reader.yaml
services:
  - name: codex
    manifests:
      - path: codex.yaml
"""
READER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reader
spec:
  selector: {matchLabels: {app: reader}}
  template:
    metadata: {labels: {app: reader}}
    spec:
      containers: [{name: reader, image: reader}]
      volumes:
        - {name: logs, hostPath: {path: /var/log}}
        - {name: app, hostPath: {path: /srv/demo-app/{{ slot }}}}
"""
AGENT_DEPLOYMENT = """\
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
      containers: [{name: codex, image: codex}]
"""


def test_system_folders_never_reach_the_table_even_when_the_project_mounts_them(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(
        LOG_READER,
        {
            "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n",
            "reader.yaml": READER,
            "codex.yaml": AGENT_DEPLOYMENT,
        },
    )
    cluster = run_program("cluster", {"codex:projectDir": str(root)})
    (policy,) = registered(cluster, "ValidatingAdmissionPolicy")
    (binding,) = registered(cluster, "ValidatingAdmissionPolicyBinding")
    assert binding["metadata"]["annotations"]["host-folders.codex-stacks.dev/demo-ai-1"].splitlines() == [
        "/srv/demo-app/1",
        "/srv/demo-data/slots/1",
    ]
    slot = run_program("ai-slot-1", {"codex:projectDir": str(root)})
    (namespace,) = registered(slot, "Namespace")
    (reader,) = [d for d in registered(slot, "Deployment") if d["metadata"]["name"] == "reader"]
    decision = admit(
        policy,
        binding,
        request=_request("Deployment", "UPDATE", "system:serviceaccount:demo-ai-1:codex-sa", namespace="demo-ai-1"),
        obj=reader,
        old=reader,
        namespace=namespace,
        param_objects=[binding],
    )
    assert not decision.allowed  # /var/log stays the deployer's to mount
    assert any("/var/log" in message for message in decision.messages)
