"""The GitHub REST client of the writing CI steps (codex_stacks/ci/ghrest.py): an answer is read
up to 1 MiB and no further, so a server that sends more is refused, not held in memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from codex_stacks.ci.errors import ExternalError
from codex_stacks.ci.ghrest import GithubRest


@contextmanager
def fixed_answer(body: bytes, *, status: int = 200) -> Iterator[str]:
    """A loopback HTTP server answering every GET with ``status`` and ``body`` (as JSON), as a
    misbehaving server or a proxy in front of the API might; its URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with suppress(OSError):  # the client stopped reading: what a bounded client does
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_over_one_mebibyte_is_refused_not_read_whole() -> None:
    # valid JSON of 2 MiB: only a client that reads it all could parse it
    with fixed_answer(b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}') as url:
        api = GithubRest(api_url=url, token="t0ken")
        with pytest.raises(ExternalError) as raised:
            api.get("/repos/acme/shop/issues/5")

    assert str(raised.value) == "GitHub API: GET /repos/acme/shop/issues/5 did not answer JSON"


def test_an_answer_under_the_bound_is_read() -> None:
    with fixed_answer(b'{"title": "' + b"x" * (512 * 1024) + b'"}') as url:
        api = GithubRest(api_url=url, token="t0ken")
        assert len(api.get("/repos/acme/shop/issues/5")["title"]) == 512 * 1024
