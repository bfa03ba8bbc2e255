"""The wall-clock bound of a request holds when the answer closes the connection.

An answer with ``Connection: close`` (or any HTTP/1.0 answer) has no length to wait for: it ends
when the server closes. ``http.client`` then hands the socket over to the response and forgets it
on the connection, so a watchdog that shuts down only ``connection.sock`` finds nothing to cut and
a server that drips such a body one byte at a time holds the step for as long as it likes (each
byte arrives within the per-read socket timeout). Found while reading the transport for the
mutation run (tools/mutation.py hooks).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.codex_secrets import EnsureCodexSecretsProvider
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.test_http_bounds import TOKEN, bounded, comment_props, secrets_props
from tests.support.kube_double import write_kubeconfig

HEADS = {
    "connection-close": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
    "http-1.0": b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n",
}


class ClosingDripServer:
    """Answers complete headers at once, then a JSON body one byte every half second (30 s in
    all), and would end it by closing the connection."""

    def __init__(self, head: bytes) -> None:
        self.head = head
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stopping = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(self.head)
            for byte in b"[" + b" " * 58 + b"]":
                if self.stopping.wait(0.5):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()


@pytest.fixture(params=sorted(HEADS))
def closing_drip(request: pytest.FixtureRequest) -> Iterator[ClosingDripServer]:
    server = ClosingDripServer(HEADS[str(request.param)])
    try:
        yield server
    finally:
        server.stop()


def test_a_github_answer_that_closes_the_connection_is_cut_at_the_steps_timeout(
    closing_drip: ClosingDripServer,
) -> None:
    error, _elapsed = bounded(
        lambda: GithubCommentProvider().create(comment_props(closing_drip.url, timeout=2, tuning={}))
    )
    assert isinstance(error, HookError)
    assert "no complete answer within" in str(error) or "timed out after 2s" in str(error)
    assert TOKEN not in str(error)


def test_a_kubernetes_answer_that_closes_the_connection_is_cut_at_the_request_timeout(
    closing_drip: ClosingDripServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", closing_drip.url)))
    tuning = {"request_timeout": 1.0, "retry_delay": 0.01, "attempts": 2}
    error, _elapsed = bounded(lambda: EnsureCodexSecretsProvider().create(secrets_props(timeout=20, tuning=tuning)))
    assert isinstance(error, HookError)
    assert "no complete answer within 1s; gave up after 2 attempts" in str(error)
    assert "sk-value" not in str(error)
