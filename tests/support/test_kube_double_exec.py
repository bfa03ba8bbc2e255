"""Exec into a container whose files the double holds (``ContainerFiles``): what the official
client receives over the WebSocket channel protocol is what a kubelet sends.

Expectations are the real ones, written out by hand (kube_double.ContainerFiles names the
sources): stdout and stderr on channels 1 and 2 as the process writes them, then on channel 3
Success, or Failure ``NonZeroExitCode`` with the exit code as the ``ExitCode`` cause, or an
InternalError when the runtime cannot start the command.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.stream import stream

from tests.support.kube_double import ContainerFiles, KubeDouble

NS = "slot-3"
POD = "codex-1"


@pytest.fixture
def kube() -> Iterator[KubeDouble]:
    with KubeDouble(namespaces=(NS,)) as double:
        double.seed(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": POD, "namespace": NS},
                "spec": {"containers": [{"name": "codex", "image": "codex:1"}]},
                "status": {"phase": "Running"},
            }
        )
        yield double


def exec_in(kube: KubeDouble, tmp_path: Path, command: list[str]) -> tuple[str, str, dict[str, Any]]:
    """(stdout, stderr, the final Status) of one exec through the official client."""
    path = kube.kubeconfig(tmp_path / "kubeconfig")
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=configuration, persist_config=False)  # type: ignore[no-untyped-call]
    core = client.CoreV1Api(client.ApiClient(configuration))
    ws = stream(
        core.connect_get_namespaced_pod_exec,
        POD,
        NS,
        command=command,
        container="codex",
        stdin=False,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    out, err, status = "", "", ""
    while ws.is_open():
        ws.update(timeout=5)
        out += ws.read_channel(1, timeout=0) or ""
        err += ws.read_channel(2, timeout=0) or ""
        status += ws.read_channel(3, timeout=0) or ""
    ws.close()
    return out, err, json.loads(status)


def files(tmp_path: Path, **extra: Any) -> ContainerFiles:
    workspace = tmp_path / "claim"
    workspace.mkdir(exist_ok=True)
    return ContainerFiles(root=tmp_path / "root", mounts={"/workspace": workspace}, **extra)


def test_a_command_runs_in_the_mounted_folder_and_ends_with_its_exit_code(kube: KubeDouble, tmp_path: Path) -> None:
    container = files(tmp_path, env={"WORKDIR": "/workspace"})
    (tmp_path / "claim" / "app.txt").write_text("hello\n")
    kube.serve_files(NS, POD, "codex", container)
    script = 'cat /workspace/app.txt; cd "$WORKDIR" && ls; echo /workspaces /x/workspace >&2; exit 3'
    out, err, status = exec_in(kube, tmp_path, ["sh", "-c", script])
    assert out == "hello\napp.txt\n"
    assert err == "/workspaces /x/workspace\n"  # only the mount path itself stands for the folder
    assert status == {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: exit status 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    assert container.runs == [["sh", "-c", script]]


def test_output_larger_than_a_frame_arrives_whole_and_success_ends_it(kube: KubeDouble, tmp_path: Path) -> None:
    kube.serve_files(NS, POD, "codex", files(tmp_path))
    out, err, status = exec_in(kube, tmp_path, ["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"])
    assert out == "x" * 300000
    assert err == ""
    assert status == {"metadata": {}, "status": "Success"}


def test_a_missing_executable_is_an_internal_error_not_an_exit_code(kube: KubeDouble, tmp_path: Path) -> None:
    kube.serve_files(NS, POD, "codex", files(tmp_path))
    _, _, status = exec_in(kube, tmp_path, ["no-such-tool", "--version"])
    assert status["status"] == "Failure"
    assert status["reason"] == "InternalError"
    assert status["code"] == 500
    assert status["message"].startswith("Internal error occurred: error executing command in container: ")
    assert 'exec: "no-such-tool": executable file not found in $PATH' in status["message"]


def test_a_command_past_the_bound_is_killed_as_sigkill_reports_it(kube: KubeDouble, tmp_path: Path) -> None:
    kube.serve_files(NS, POD, "codex", files(tmp_path, timeout=0.5))
    out, _, status = exec_in(kube, tmp_path, ["sh", "-c", "echo started; sleep 30"])
    assert out == "started\n"
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "137"}]
