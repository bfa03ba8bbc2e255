"""The agent containment policy: a ValidatingAdmissionPolicy (Kubernetes 1.30+) and its binding,
owned by the cluster stack (docs/security.md, "What the cluster enforces").

It matches requests of a ServiceAccount acting in a namespace the agent works in — the agent's
``codex-sa``, or any ServiceAccount of that namespace, since the agent can run pods as any of
them — that create or change a workload (Pod, ReplicationController, Deployment, StatefulSet,
DaemonSet, ReplicaSet, Job, CronJob, and ephemeral containers). Controllers create the pods of
workloads as ``kube-system`` ServiceAccounts and are not matched: the workload itself is checked.
It refuses a pod spec that is privileged (or a Windows HostProcess), shares the node's network,
PID or IPC namespace, adds capabilities, mounts the container runtime, or mounts a hostPath
outside the folders of that namespace's own stacks (its code and data folders, listed on the
binding). Deployers and controllers are never matched.

The folder table lives in the binding's own annotations (the binding is the policy's parameter):
cluster-scoped, outside every slot namespace, of a kind no agent Role can write, and owned by the
one stack that owns the policy. The expressions use only CEL that both Kubernetes 1.30+ and the
``cel-expr-python`` library evaluate (the tests run them): standard macros, optional field
selection (``?.``, ``[?]``, ``orValue``), and ``split``/``join`` of the strings extension.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from codex_stacks.plan.agent import SERVICE_ACCOUNT
from codex_stacks.plan.objects import KubeObject

POLICY_PREFIX = "codex-agent-containment"
PROJECT_LABEL = "codex-stacks.dev/project"
AGENT_NAMESPACE_LABEL = "codex-stacks.dev/agent-namespace"
"""Set by the plan on every namespace the agent works in; Namespaces are cluster-scoped, so no
agent Role can change them."""
FOLDERS_ANNOTATION = "host-folders.codex-stacks.dev/"
"""``<prefix><namespace>``: the host folders that namespace's workloads may mount, one a line."""
MANAGED_BY = {"app.kubernetes.io/managed-by": "codex-stacks"}

WORKLOAD_RESOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("pods", "pods/ephemeralcontainers", "replicationcontrollers")),
    ("apps", ("deployments", "statefulsets", "daemonsets", "replicasets")),
    ("batch", ("jobs", "cronjobs")),
)

RUNTIME_PATHS: tuple[str, ...] = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd",
    "/run/containerd",
    "/var/run/crio",
    "/run/crio",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/podman",
    "/run/podman",
    "/run/k3s",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/snap/microk8s/common/run",
)
"""Container runtime sockets and state: a mount of one of them, inside one, or of a folder that
holds one (``/run``, ``/var``, ``/``) hands the node to the pod."""

SYSTEM_PATHS: tuple[str, ...] = (
    *RUNTIME_PATHS,
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/etc",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/run",
    "/var/run",
    "/var/log",
    "/var/lib/kubelet",
    "/var/snap/microk8s",
    "/opt/cni",
    "/root/.kube",
    "/root/.ssh",
)
"""Folders of the node no agent may mount even when a project's own workload does: a project
folder on, above or inside one of them is left out of the table (that workload stays the
deployer's to change)."""


def normal_path(path: str) -> str:
    """``path`` without ``.``/empty segments or a trailing slash (as the policy compares them)."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    return "/" + "/".join(parts)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def agent_may_mount(path: str) -> bool:
    """An absolute folder without ``..``, neither on, above nor inside a system path."""
    if not path.startswith("/") or ".." in path.split("/"):
        return False
    path = normal_path(path)
    return path != "/" and not any(_within(path, system) or _within(system, path) for system in SYSTEM_PATHS)


def covering_folders(paths: Iterable[str]) -> list[str]:
    """The folders the agent may mount, without those another one already contains, sorted."""
    eligible = sorted({normal_path(path) for path in paths if agent_may_mount(path)})
    kept: list[str] = []
    for path in eligible:  # sorted, so a folder comes before everything inside it
        if not any(_within(path, folder) for folder in kept):
            kept.append(path)
    return kept


def policy_name(project: str) -> str:
    return f"{POLICY_PREFIX}-{project}"


def _cel_list(items: Sequence[str]) -> str:
    quoted = ", ".join("'" + item.replace("\\", "\\\\").replace("'", "\\'") + "'" for item in items)
    return f"[{quoted}]"


def policy_spec(project: str) -> dict[str, Any]:
    """The ValidatingAdmissionPolicy's spec (its expressions are the contract the tests evaluate)."""
    user = "request.userInfo.username"
    return {
        "failurePolicy": "Fail",
        "paramKind": {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding"},
        "matchConstraints": {
            "namespaceSelector": {"matchLabels": {PROJECT_LABEL: project, AGENT_NAMESPACE_LABEL: "true"}},
            "resourceRules": [
                {
                    "apiGroups": [group],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": list(resources),
                }
                for group, resources in WORKLOAD_RESOURCES
            ],
        },
        "matchConditions": [
            {
                "name": "agent-or-namespace-service-account",
                "expression": f"{user}.startsWith('system:serviceaccount:') && "
                f"({user}.endsWith(':{SERVICE_ACCOUNT}') || "
                f"{user}.startsWith('system:serviceaccount:' + request.namespace + ':'))",
            }
        ],
        "variables": [
            {
                "name": "podSpec",
                "expression": "request.kind.kind == 'Pod' ? object.spec : "
                "request.kind.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : "
                "object.spec.template.spec",
            },
            {
                "name": "containers",
                "expression": "variables.podSpec.containers + variables.podSpec.?initContainers.orValue([]) + "
                "variables.podSpec.?ephemeralContainers.orValue([])",
            },
            {
                "name": "hostPaths",
                "expression": "variables.podSpec.?volumes.orValue([]).filter(v, has(v.hostPath))"
                ".map(v, v.hostPath.path)",
            },
            {
                "name": "normalPaths",
                "expression": "variables.hostPaths.map(p, '/' + p.split('/').filter(s, s != '' && s != '.').join('/'))",
            },
            {"name": "agentNamespace", "expression": f"{user}.split(':')[2]"},
            {
                "name": "allowedFolders",
                "expression": "variables.agentNamespace == request.namespace ? "
                f"params.metadata.?annotations[?('{FOLDERS_ANNOTATION}' + request.namespace)].orValue('')"
                ".split('\\n').filter(f, f != '') : []",
            },
            {"name": "runtimePaths", "expression": _cel_list(RUNTIME_PATHS)},
        ],
        "validations": [
            {
                "expression": "variables.containers.all(c, !c.?securityContext.?privileged.orValue(false) && "
                "!c.?securityContext.?windowsOptions.?hostProcess.orValue(false)) && "
                "!variables.podSpec.?securityContext.?windowsOptions.?hostProcess.orValue(false)",
                "message": "the codex agent may not run privileged or HostProcess containers",
                "reason": "Forbidden",
            },
            {
                "expression": "!variables.podSpec.?hostNetwork.orValue(false) && "
                "!variables.podSpec.?hostPID.orValue(false) && !variables.podSpec.?hostIPC.orValue(false)",
                "message": "the codex agent may not use the node's network, PID or IPC namespace",
                "reason": "Forbidden",
            },
            {
                "expression": "variables.containers.all(c, "
                "size(c.?securityContext.?capabilities.?add.orValue([])) == 0)",
                "message": "the codex agent may not add capabilities to containers",
                "reason": "Forbidden",
            },
            {
                "expression": "variables.hostPaths.all(p, p.startsWith('/') && !p.split('/').exists(s, s == '..'))",
                "message": "the codex agent may mount only absolute host paths without '..'",
                "reason": "Forbidden",
            },
            {
                "expression": "variables.normalPaths.all(p, !variables.runtimePaths.exists(r, "
                "p == '/' || p == r || p.startsWith(r + '/') || r.startsWith(p + '/')))",
                "message": "the codex agent may not mount the container runtime",
                "reason": "Forbidden",
            },
            {
                "expression": "variables.normalPaths.all(p, variables.allowedFolders.exists(f, "
                "p == f || p.startsWith(f + '/')))",
                "messageExpression": '"the codex agent may mount only its slot\'s own folders, not " + '
                "variables.normalPaths.filter(p, !variables.allowedFolders.exists(f, "
                "p == f || p.startsWith(f + '/'))).join(', ')",
                "message": "the codex agent may mount only its slot's own code and data folders",
                "reason": "Forbidden",
            },
        ],
    }


def policy_objects(project: str, folders: Mapping[str, Sequence[str]]) -> tuple[KubeObject, ...]:
    """The policy and its binding; ``folders`` maps each agent namespace to its host folders."""
    name = policy_name(project)
    annotations = {f"{FOLDERS_ANNOTATION}{namespace}": "\n".join(folders[namespace]) for namespace in sorted(folders)}
    manifests: list[dict[str, Any]] = [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name, "labels": dict(MANAGED_BY)},
            "spec": policy_spec(project),
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name, "labels": dict(MANAGED_BY), "annotations": annotations},
            "spec": {
                "policyName": name,
                "validationActions": ["Deny"],
                "paramRef": {"name": name, "parameterNotFoundAction": "Deny"},
            },
        },
    ]
    return tuple(KubeObject(manifest=manifest, source=Path(__file__), line=0) for manifest in manifests)
