"""What the transport of the Kubernetes and GitHub steps says when it gets no complete answer
(providers/httpcall.py), whole, as the step reports it: each reason is retried, then named with
the request it failed.

Driven through ``kubectl.wait`` with a kubeconfig pointing at loopback servers that send exactly
the bytes under test.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.kubectl_wait import KubectlWaitProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_error_messages_base import failure
from tests.hooks.test_http_bounds import JSON, Answer, DripServer, ScriptedApi
from tests.support.kube_double import free_port, write_kubeconfig

FAILED = "hook codex/afterApply/step failed: "
PATH = "/apis/apps/v1/namespaces/alimentor-dev-3/deployments/"
MIB16 = 16 * 1024 * 1024


def wait(name: str = "codex", **tuning: Any) -> dict[str, Any]:
    params = {
        "api_version": "apps/v1",
        "plural": "deployments",
        "kind": "Deployment",
        "name": name,
        "namespace": "alimentor-dev-3",
        "condition": "Available",
        "wait": 0.0,
    }
    return step_props(
        "kubectl.wait", params, tuning={"request_timeout": 5.0, "retry_delay": 0.01, "attempts": 2, **tuning}
    )


def kubeconfig_at(folder: Path, monkeypatch: pytest.MonkeyPatch, server: str, **cluster: Any) -> None:
    path = write_kubeconfig(folder / "kubeconfig", server)
    config = json.loads(path.read_text(encoding="utf-8"))
    config["clusters"][0]["cluster"].update(cluster)
    path.write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.setenv("KUBECONFIG", str(path))


class RawServer:
    """Answers every connection with ``reply`` as raw bytes, then closes it."""

    def __init__(self, reply: bytes) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.reply = reply
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(self.reply)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"


@pytest.fixture
def raw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RawServer]:
    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{}")
    kubeconfig_at(tmp_path, monkeypatch, server.url)
    try:
        yield server
    finally:
        server.listener.close()


def test_an_answer_shorter_than_its_content_length_says_how_much_is_missing(raw: RawServer) -> None:
    assert failure(KubectlWaitProvider(), wait()) == (
        f"{FAILED}GET {PATH}codex: the answer ended 8 bytes short; gave up after 2 attempts"
    )


def test_a_refused_connection_is_named_by_the_systems_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig_at(tmp_path, monkeypatch, f"http://127.0.0.1:{free_port()}")
    assert failure(KubectlWaitProvider(), wait()) == (
        f"{FAILED}GET {PATH}codex: ConnectionRefusedError: [Errno 111] Connection refused; gave up after 2 attempts"
    )


def test_a_server_url_that_is_not_http_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig_at(tmp_path, monkeypatch, "ftp://127.0.0.1:2121")
    assert failure(KubectlWaitProvider(), wait()) == (
        f"{FAILED}GET {PATH}codex: not an http(s) URL: ftp://127.0.0.1:2121{PATH}codex; gave up after 2 attempts"
    )


@pytest.mark.parametrize("server", ["http://127.0.0.1:6443", "https://127.0.0.1:6443"])
def test_a_proxy_that_is_not_http_says_which_scheme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: str
) -> None:
    kubeconfig_at(
        tmp_path, monkeypatch, server, **{"proxy-url": "socks5://127.0.0.1:1080", "insecure-skip-tls-verify": True}
    )
    assert failure(KubectlWaitProvider(), wait()) == (
        f"{FAILED}GET {PATH}codex: only http:// proxies are supported here, not socks5; gave up after 2 attempts"
    )


def test_an_answer_that_does_not_come_in_time_says_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts (the kernel's backlog) and never answers
    try:
        kubeconfig_at(tmp_path, monkeypatch, f"http://127.0.0.1:{listener.getsockname()[1]}")
        text = failure(KubectlWaitProvider(), wait(request_timeout=0.2))
    finally:
        listener.close()
    assert text == f"{FAILED}GET {PATH}codex: no complete answer within 0.2s; gave up after 2 attempts"


def test_a_body_that_arrives_a_byte_a_second_is_cut_at_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Complete headers promising 30 bytes, then one byte a second: the cut socket reads as the
    end of the body, and the step says the time ran out, not that the answer was short."""
    drip = DripServer("body")
    try:
        kubeconfig_at(tmp_path, monkeypatch, drip.url)
        text = failure(KubectlWaitProvider(), wait(request_timeout=0.2))
    finally:
        drip.stop()
    assert text == f"{FAILED}GET {PATH}codex: no complete answer within 0.2s; gave up after 2 attempts"


LONG = "URL can't contain control characters. "
"""http.client's refusal of a path with a space (Lib/http/client.py, _validate_path)."""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "a b" + "c" * 83,
            f"InvalidURL: {LONG}'{PATH}a b{'c' * 83}' (found at least ' ')",
            id="200-characters-whole",
        ),
        pytest.param(
            "a b" + "c" * 84,
            f"InvalidURL: {LONG}'{PATH}a b{'c' * 84}' (found at least ' '…",
            id="201-characters-cut-at-200",
        ),
    ],
)
def test_a_long_reason_is_cut_at_200_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, expected: str
) -> None:
    kubeconfig_at(tmp_path, monkeypatch, f"http://127.0.0.1:{free_port()}")
    assert (
        failure(KubectlWaitProvider(), wait(name)) == f"{FAILED}GET {PATH}{name}: {expected}; gave up after 2 attempts"
    )


def ready(size: int) -> bytes:
    """An Available Deployment, padded with spaces to ``size`` bytes."""
    body = json.dumps({"kind": "Deployment", "status": {"conditions": [{"type": "Available", "status": "True"}]}})
    return body.encode() + b" " * (size - len(body))


@pytest.fixture
def big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedApi]:
    api = ScriptedApi({"GET": Answer(200, ready(MIB16), JSON)})
    kubeconfig_at(tmp_path, monkeypatch, api.url)
    try:
        yield api
    finally:
        api.stop()


def test_an_answer_of_16_mib_is_read(big: ScriptedApi) -> None:
    assert KubectlWaitProvider().create(wait()).outs["result"] == {"condition": "Available", "status": "True"}


def test_an_answer_one_byte_over_16_mib_is_refused(big: ScriptedApi) -> None:
    big.then("GET", Answer(200, ready(MIB16 + 1), JSON), Answer(200, ready(MIB16 + 1), JSON))
    assert failure(KubectlWaitProvider(), wait()) == (
        f"{FAILED}GET {PATH}codex: the answer is larger than 16777216 bytes; gave up after 2 attempts"
    )
