"""The cluster ``prompt run`` meets, on the shared harsh Kubernetes API double (tests/support/kube_double.py).

``Cluster`` describes it: which Deployments exist and after how many reads each becomes
available (the rollout the Deployment controller would report), the agent's pods, and what the
agent command does. The runner's kubeconfig carries a ServiceAccount token bound to the least
a ``prompt run`` needs (read Deployments, list pods, exec into them), so a request outside that
is a 403, as on a cluster with RBAC. Among the pods is a newer one that is Terminating
(``deletionTimestamp`` set, still Running and Ready, as during a rollout): exec must never pick it.

Exec plays the pod side: the write script's files are decoded and kept (``files``), any other
command is answered by ``agent`` (output chunks, then an exit status).
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import kube_double
from tests.support.kube_double import ExecCall, ExecResult, free_port, self_signed_context

__all__ = ["PROMPT_RUN_RULES", "AgentScript", "Cluster", "KubeDouble", "free_port", "self_signed_context"]

PROMPT_RUN_RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]},
]
"""What ``prompt run`` needs, and nothing more (docs/testing.md)."""


@dataclass
class AgentScript:
    """What the agent command does in the double: timed output, then an exit status."""

    chunks: list[tuple[int, str]] = field(default_factory=lambda: [(1, "working\n"), (2, "done\n")])
    exit_code: int = 0
    pause: float = 0.0
    """Seconds to wait between chunks (a slow agent)."""


@dataclass
class Cluster:
    """The cluster's shape, and (once served) a view of what the client asked for."""

    namespace: str
    deployments: dict[str, int | None] = field(default_factory=dict)
    """name → reads before it becomes available (None: never); every read counts, 404s included."""
    appears_after: dict[str, int] = field(default_factory=dict)
    """name → reads answered 404 before the Deployment exists (the deploy is still creating it)."""
    agent: AgentScript = field(default_factory=AgentScript)
    rules: list[dict[str, Any]] | None = field(default_factory=lambda: list(PROMPT_RUN_RULES))
    """The runner's Role in the namespace; None: an administrator's kubeconfig."""
    files: dict[str, bytes] = field(default_factory=dict)
    pod_root: Path | None = None
    """When set, exec runs each command for real (``sh``) in a pod emulated under this folder:
    ``/tmp`` and ``$HOME`` live under it, the workspace is ``<pod_root>/workspace`` and ``codex``
    is a stand-in that records its arguments, working folder and stdin (``<pod_root>/codex-call.json``)."""
    api: kube_double.KubeDouble | None = None

    @property
    def reads(self) -> list[str]:
        """``deployment/<name>`` and ``pods`` for every read the client made, in order."""
        out = []
        for request in self.api.calls("GET") if self.api else []:
            parts = request.path.strip("/").split("/")
            if parts[:3] == ["apis", "apps", "v1"] and parts[5:6] == ["deployments"] and len(parts) == 7:
                out.append(f"deployment/{parts[6]}")
            elif parts[:2] == ["api", "v1"] and parts[4:] == ["pods"]:
                out.append("pods")
        return out

    @property
    def execs(self) -> list[tuple[str, str, list[str]]]:
        """(pod, container, command) of every exec, in order."""
        return [(call.pod, call.container, call.command) for call in (self.api.execs if self.api else [])]


def _deployment(namespace: str, name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": f"{name}:1"}]},
            },
        },
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1},
    }


def _pod(namespace: str, name: str, *, ready: bool, created: str, terminating: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {"app": "codex"}}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "codex", "image": "codex:1"}], "nodeName": "node-1"},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]},
    }
    return pod | {"_created": created, "_terminating": terminating}


FAKE_CODEX = """
# stands in for the codex CLI in the emulated pod: records how it was called, then answers
import json, os, sys
call = {"argv": sys.argv[1:], "cwd": os.getcwd(), "stdin": sys.stdin.read()}
with open(os.environ["POD_ROOT"] + "/codex-call.json", "w") as handle:
    json.dump(call, handle)
print("codex ran")
sys.exit(int(os.environ.get("CODEX_EXIT", "0")))
"""


def _run_in_pod(root: Path, command: list[str], agent: AgentScript) -> ExecResult:
    """Run ``command`` as the container would, with the pod's absolute paths under ``root``
    (a chroot the test machine cannot give without privileges)."""
    import subprocess
    import sys

    for folder in ("tmp", "home", "workspace", "bin"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    codex = root / "bin" / "codex"
    if not codex.exists():
        codex.write_text(f"#!{sys.executable}{FAKE_CODEX}", encoding="utf-8")
        codex.chmod(0o755)
    rooted = [arg.replace("/tmp/", f"{root}/tmp/").replace("/workspace", f"{root}/workspace") for arg in command]
    env = {
        "PATH": f"{root / 'bin'}:/usr/bin:/bin",
        "HOME": str(root / "home"),
        "POD_ROOT": str(root),
        "CODEX_EXIT": str(agent.exit_code),
    }
    done = subprocess.run(
        rooted, env=env, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL
    )
    chunks = [(channel, text) for channel, text in ((1, done.stdout), (2, done.stderr)) if text]
    return ExecResult(chunks=chunks, exit_code=done.returncode)


class KubeDouble:
    """Serve ``cluster`` on 127.0.0.1 (HTTPS with ``tls``) and write a kubeconfig that points at it."""

    def __init__(self, cluster: Cluster, *, tls: ssl.SSLContext | None = None) -> None:
        self.cluster = cluster
        self.api = kube_double.KubeDouble(tls=tls, namespaces=(cluster.namespace,))
        cluster.api = self.api
        self.server = self.api.server
        self.tls = tls
        ns = cluster.namespace
        for pod in (
            _pod(ns, "codex-old", ready=True, created="2026-01-01T00:00:00Z"),
            _pod(ns, "codex-new", ready=True, created="2026-01-02T00:00:00Z"),
            _pod(ns, "codex-starting", ready=False, created="2026-01-03T00:00:00Z"),
            _pod(ns, "codex-leaving", ready=True, created="2026-01-04T00:00:00Z", terminating=True),
        ):
            created, terminating = pod.pop("_created"), pod.pop("_terminating")
            stored = self.api.seed(pod)
            key = ("", "pods", ns, stored["metadata"]["name"])
            self.api.store[key]["metadata"]["creationTimestamp"] = created
            if terminating:
                self.api.store[key]["metadata"]["deletionTimestamp"] = "2026-01-05T00:00:00Z"
                self.api.store[key]["metadata"]["deletionGracePeriodSeconds"] = 30
        self.token = "prompt-run-token"
        if cluster.rules is None:
            self.token = kube_double.ADMIN_TOKEN
        else:
            self.api.service_account(ns, "codex-runner", self.token)
            self.api.bind(f"system:serviceaccount:{ns}:codex-runner", cluster.rules, namespace=ns, name="prompt-run")
        self.api.controllers.append(self._rollout)
        self.api.exec_handler = self._exec

    def _rollout(self, api: kube_double.KubeDouble) -> None:
        """The Deployment controller, as far as the test needs it: exists after N reads, available after M."""
        reads = self.cluster.reads
        ns = self.cluster.namespace
        for name, ready_after in self.cluster.deployments.items():
            count = reads.count(f"deployment/{name}")
            path = f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"
            if api.object(path) is None:
                if count <= self.cluster.appears_after.get(name, 0):
                    continue
                api.seed(_deployment(ns, name))
            ready = ready_after is not None and count > ready_after
            status = api.object(path)["status"]  # type: ignore[index]
            if ready and not status.get("availableReplicas"):
                api.update_status(path, {**status, "availableReplicas": 1, "unavailableReplicas": 0})

    def _exec(self, call: ExecCall) -> ExecResult:
        command = call.command
        if self.cluster.pod_root is not None:
            return _run_in_pod(self.cluster.pod_root, command, self.cluster.agent)
        if command[3:4] == ["codexctl-write"]:
            name, mode, chunk = command[4:7]
            previous = self.cluster.files.get(name, b"") if mode == "append" else b""
            self.cluster.files[name] = previous + base64.b64decode(chunk)
            return ExecResult()
        agent = self.cluster.agent
        return ExecResult(chunks=list(agent.chunks), exit_code=agent.exit_code, pause=agent.pause)

    @property
    def url(self) -> str:
        return self.api.url

    def kubeconfig(self, path: Path) -> Path:
        return self.api.kubeconfig(path, token=self.token)

    def __enter__(self) -> KubeDouble:
        self.api.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.stop()
