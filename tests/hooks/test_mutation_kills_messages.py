"""What a hook step says and which cluster it talks to: behaviours that the mutation run
(tools/mutation.py hooks --sample 96, after the changes of 2026-11-30) found unguarded."""

from __future__ import annotations

import errno
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_stacks import hostdirs
from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.data_dirs import EnsureDataDirsProvider
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from codex_stacks.components.hooks.providers.httpcall import TransportError, send
from codex_stacks.components.hooks.providers.kubectl_wait import KubectlWaitProvider
from codex_stacks.components.hooks.providers.preflight import PreflightProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_github_comment import COMMENTS, comment_props
from tests.hooks.test_http_bounds import JSON, Answer, ScriptedApi
from tests.hooks.test_local_hooks import dirs_props
from tests.hooks.test_mutation_kills_kube_steps import DEPLOYMENT, wait_props
from tests.support.kube_double import ADMIN_TOKEN, KubeDouble, free_port, write_kubeconfig

LIST = f"{COMMENTS}?per_page=100&page=1"


@pytest.fixture
def github() -> Iterator[ScriptedApi]:
    api = ScriptedApi({"GET": Answer(200, b"[]", JSON), "POST": Answer(201, b'{"id": 7}', JSON)})
    try:
        yield api
    finally:
        api.stop()


def test_a_chmod_the_runner_may_not_do_is_a_warning_naming_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data folder owned by another user: the runner (not root) may not chmod it. The tests run
    as root, so the refusal is the kernel's answer played back (EPERM from fchmod)."""

    def refuse(fd: int, mode: int) -> None:
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(hostdirs.os, "fchmod", refuse)
    root, env_dir = tmp_path / "data", tmp_path / "data" / "slots" / "3"
    created = EnsureDataDirsProvider().create(dirs_props(root, env_dir, []))
    assert created.outs["warnings"] == [f"could not chmod {env_dir}: Operation not permitted"]


def test_a_github_error_answer_without_a_message_is_named_by_its_status_alone(github: ScriptedApi) -> None:
    github.then("GET", *[Answer(502, b"{}", JSON)] * 3)
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(github.url, tuning={"retry_delay": 0.01, "attempts": 3}))
    assert str(failure.value) == (
        f"hook codex/afterApply/step failed: GitHub GET {LIST}: HTTP 502 Bad Gateway; gave up after 3 attempts"
    )


def test_a_403_that_names_a_wait_is_a_rate_limit_whatever_its_message(github: ScriptedApi) -> None:
    """docs/security-workflows.md: a 403 is a rate limit when it names a wait (Retry-After), has
    ``X-RateLimit-Remaining: 0`` or says so; this one only names a wait."""
    github.then("GET", Answer(403, b'{"message": "Forbidden"}', {**JSON, "Retry-After": "0"}))
    created = GithubCommentProvider().create(comment_props(github.url, tuning={"retry_delay": 0.01, "attempts": 3}))
    assert created.outs["result"] == {"comment_id": 7, "action": "created"}
    assert len(github.times("GET")) == 2


def test_a_transport_error_of_exactly_200_characters_is_quoted_whole() -> None:
    """The cut is for reasons longer than 200 characters; http.client's refusal of a URL with a
    space names the URL, so the path's length sets the reason's."""
    path = "/" + "a" * 136 + " b"
    with pytest.raises(TransportError) as failure:
        send("GET", f"http://127.0.0.1:9{path}", headers={}, timeout=2.0)
    reason = str(failure.value).removeprefix("InvalidURL: ")
    assert len(reason) == 200
    assert reason.endswith("(found at least ' ')")


def test_the_steps_kube_context_picks_the_cluster_not_the_current_context(
    kube: KubeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack's ``kubeContext`` (docs/services-yaml-reference.md) reaches each step as its
    ``kube_context``: the step talks to that context's cluster, not to the kubeconfig's current one."""
    path = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{free_port()}", context="elsewhere")
    config = json.loads(path.read_text(encoding="utf-8"))
    config["clusters"].append({"name": "slot", "cluster": {"server": kube.url}})
    config["users"].append({"name": "slot", "user": {"token": ADMIN_TOKEN}})
    config["contexts"].append({"name": "slot", "context": {"cluster": "slot", "user": "slot"}})
    path.write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.setenv("KUBECONFIG", str(path))
    props = step_props("preflight", {"require_env": [], "check_cluster": True}, stage="beforeAll")
    props["kube_context"] = "slot"
    created = PreflightProvider().create(props)
    assert created.outs["result"] == {"kubernetes": "v1.35.0"}


def test_a_300_answer_that_is_not_json_is_named_by_its_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only 2xx must be JSON: a 300 with a proxy's page is an HTTP 300, whatever its body."""
    api = ScriptedApi({"GET": Answer(300, b"<html>Multiple Choices</html>", {"Content-Type": "text/html"})})
    try:
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", api.url)))
        with pytest.raises(HookError) as failure:
            KubectlWaitProvider().create(wait_props())
    finally:
        api.stop()
    assert str(failure.value) == f"hook codex/afterApply/step failed: GET {DEPLOYMENT}: HTTP 300"


def test_an_https_url_without_a_port_is_tunnelled_to_port_443() -> None:
    """Through the kubeconfig's ``proxy-url`` an https server named without a port is asked for
    at 443 (RFC 9110 §4.2.2), in the proxy's ``CONNECT`` line (RFC 9110 §9.3.6)."""
    listener = socket.create_server(("127.0.0.1", 0))
    lines: list[bytes] = []

    def proxy() -> None:
        conn, _ = listener.accept()
        with conn:
            lines.append(conn.recv(65536).split(b"\r\n", 1)[0])
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    worker = threading.Thread(target=proxy, daemon=True)
    worker.start()
    try:
        with pytest.raises(TransportError):
            send("GET", "https://kube.internal/version", headers={}, timeout=2.0,
                 proxy=f"http://127.0.0.1:{listener.getsockname()[1]}")  # fmt: skip
        worker.join(timeout=2.0)
    finally:
        listener.close()
    assert [line.rsplit(b" ", 1)[0] for line in lines] == [b"CONNECT kube.internal:443"]  # HTTP/1.0 or 1.1
