"""The agent's workspace on a claim, read over pods/exec (codex_stacks/ci/podtree.py): where its
HEAD points is taken only from a read that succeeded. A failed read names no commit, so deliver
falls back to its stricter rule (every commit on the branch must be its own).

The Kubernetes API double (tests/support/kube_double.py) serves the agent's Deployment, its
ready pod and the exec; the exec answers as ``sh`` in the agent's image would, the HEAD read
either completing or failing after its first line."""

from __future__ import annotations

import base64
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_stacks.ci.podtree import HEAD_SCRIPT, PR_SCRIPT, TAR_SCRIPT, PodTree
from tests.support.kube_double import ExecCall, ExecResult, KubeDouble

NAMESPACE = "shop-dev-2"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
LABELS = {"app": "codex"}


def workspace_tar() -> str:
    """``tar -cf - . | base64`` of a workspace holding one file."""
    data = b"good morning\n"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("./app.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return base64.encodebytes(buffer.getvalue()).decode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeDouble]:
    with KubeDouble(namespaces=(NAMESPACE,)) as api:
        container = {"name": "codex", "image": "ghcr.io/acme/codex:1"}
        template = {"metadata": {"labels": LABELS}, "spec": {"containers": [container]}}
        api.seed(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "codex", "namespace": NAMESPACE},
                "spec": {"replicas": 1, "selector": {"matchLabels": LABELS}, "template": template},
                "status": {
                    "observedGeneration": 99,
                    "replicas": 1,
                    "updatedReplicas": 1,
                    "readyReplicas": 1,
                    "availableReplicas": 1,
                },
            }
        )
        api.seed(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "codex-7d9f-1", "namespace": NAMESPACE, "labels": LABELS},
                "spec": {"containers": [container]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
            }
        )
        monkeypatch.setenv("KUBECONFIG", str(api.kubeconfig(tmp_path / "kubeconfig")))
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
        yield api


def answer_head(api: KubeDouble, *, head_exit: int) -> None:
    """The pod's answers: the workspace's tar, no pr.md, and ``.git/HEAD`` naming a detached commit
    (its first line of four) with ``head_exit`` as the read's exit status."""

    def handler(call: ExecCall) -> ExecResult:
        script = call.command[2]
        if script == TAR_SCRIPT:
            return ExecResult(chunks=[(1, workspace_tar())])
        if script == PR_SCRIPT:
            return ExecResult()
        assert script == HEAD_SCRIPT
        return ExecResult(chunks=[(1, f"{b64(COMMIT + chr(10))}\n\n\n\n")], exit_code=head_exit)

    api.exec_handler = handler


def tree() -> PodTree:
    return PodTree(namespace=NAMESPACE, deployment="codex", mount_path="/workspace", kube_context=None, rollout=5)


def test_the_head_of_a_read_that_succeeded_names_the_commit(cluster: KubeDouble) -> None:
    answer_head(cluster, head_exit=0)
    workspace = tree()

    with workspace.opened() as fd:
        assert workspace.head(fd) == COMMIT


def test_a_failed_head_read_names_no_commit(cluster: KubeDouble) -> None:
    answer_head(cluster, head_exit=1)
    workspace = tree()

    with workspace.opened() as fd:
        assert workspace.head(fd) is None
    assert [call.command[2] for call in cluster.execs] == [TAR_SCRIPT, PR_SCRIPT, HEAD_SCRIPT]
