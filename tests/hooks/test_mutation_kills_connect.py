"""The connect of a request is bounded too: a server whose accept queue is full drops the
handshake (Linux drops the SYN and the client tries again for minutes), and before the connection
exists the request watchdog has no socket to cut, so only the socket's own timeout stops it. The
mutation run (tools/mutation.py hooks, a sample of 2026-11-30) found an HTTPS connection, and
one to a proxy, without that timeout unnoticed, and a proxy other than plain HTTP taken for one."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from codex_stacks.components.hooks.providers.httpcall import TransportError, send
from tests.hooks.test_http_bounds import bounded, comment_props


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port on 127.0.0.1 that listens with an accept queue of one, already taken: the next
    connect hangs in the handshake."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued: list[socket.socket] = []
    try:
        for _ in range(8):
            client = socket.socket()
            client.settimeout(0.3)
            try:
                client.connect(("127.0.0.1", port))
            except OSError:
                client.close()
                break
            queued.append(client)
        else:
            raise AssertionError("the accept queue never filled")
        yield port
    finally:
        for client in queued:
            client.close()
        listener.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_connect_that_never_completes_is_cut_at_the_request_timeout(full_backlog: int, scheme: str) -> None:
    tuning = {"request_timeout": 1.0, "retry_delay": 0.01, "attempts": 1}
    url = f"{scheme}://127.0.0.1:{full_backlog}"
    error, _elapsed = bounded(lambda: GithubCommentProvider().create(comment_props(url, timeout=30, tuning=tuning)))
    assert isinstance(error, HookError)
    assert str(error).endswith(": no complete answer within 1s; gave up after 1 attempts"), error


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_proxy_whose_connect_never_completes_is_cut_at_the_request_timeout(full_backlog: int, scheme: str) -> None:
    """The kubeconfig's ``proxy-url`` names a proxy that cannot take the connection: plain HTTP
    through it and an HTTPS tunnel (CONNECT) alike stop at the request's bound."""
    proxy = f"http://127.0.0.1:{full_backlog}"
    outcome: list[BaseException] = []

    def request() -> None:
        with pytest.raises(TransportError) as failure:
            send("GET", f"{scheme}://kube.internal:6443/version", headers={}, timeout=1.0, proxy=proxy)
        outcome.append(failure.value)

    error, _elapsed = bounded(request)
    assert error is None
    assert [str(found) for found in outcome] == ["no complete answer within 1s"]


@pytest.mark.parametrize("proxy", ["https://127.0.0.1:3128", "socks5://127.0.0.1:1080"])
def test_a_proxy_that_is_not_plain_http_is_refused_before_any_connection(proxy: str) -> None:
    with pytest.raises(TransportError) as failure:
        send("GET", "https://kube.internal:6443/version", headers={}, timeout=1.0, proxy=proxy)
    scheme = proxy.split(":", 1)[0]
    assert str(failure.value) == f"only http:// proxies are supported here, not {scheme}"
