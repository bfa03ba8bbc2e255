"""What ``codex.check-dev-host-ports`` says about the runner's ports and the slot's host
(providers/host_ports.py), whole: warnings by default (state and log), one error with ``strict``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.host_ports import CheckDevHostPortsProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_error_messages_base import failure
from tests.hooks.test_http_bounds import DripServer
from tests.support.kube_double import free_port

SLOT = "dev-3.alimentor.example"


class Ingress:
    """A loopback HTTP server answering every GET with ``status`` (an ingress controller's answer)."""

    def __init__(self) -> None:
        self.status = 200
        ingress = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(ingress.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.port = int(self.server.server_address[1])


@pytest.fixture
def ingress() -> Iterator[Ingress]:
    server = Ingress()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def probe(ports: list[int], http_port: int | None, *, host: str = "127.0.0.1", strict: bool = False) -> dict[str, Any]:
    params: dict[str, Any] = {"host": host, "ports": ports, "path": "/health", "probe_timeout": 0.3, "strict": strict}
    if http_port is not None:
        params.update(http_host=SLOT, http_port=http_port)
    return step_props("codex.check-dev-host-ports", params, step="ports")


def test_a_closed_port_and_a_failing_host_are_warnings_in_state_and_log(
    ingress: Ingress, capfd: pytest.CaptureFixture[str]
) -> None:
    closed = free_port()
    ingress.status = 500
    created = CheckDevHostPortsProvider().create(probe([closed], ingress.port))
    assert created.outs["warnings"] == [
        f"127.0.0.1:{closed} does not accept connections (Connection refused)",
        f"http://{SLOT}/health answered 500",
    ]
    assert capfd.readouterr().err == (
        f"warning: hook codex/afterApply/ports: 127.0.0.1:{closed} does not accept connections (Connection refused)\n"
        f"warning: hook codex/afterApply/ports: http://{SLOT}/health answered 500\n"
    )


def test_an_answer_below_500_is_no_problem(ingress: Ingress) -> None:
    ingress.status = 499
    created = CheckDevHostPortsProvider().create(probe([ingress.port], ingress.port, strict=True))
    assert created.outs["warnings"] == []
    assert created.outs["result"]["problems"] == []


@pytest.mark.parametrize("status", [500, 503])
def test_strict_makes_a_5xx_an_error(ingress: Ingress, status: int) -> None:
    ingress.status = status
    assert failure(CheckDevHostPortsProvider(), probe([], ingress.port, strict=True)) == (
        f"hook codex/afterApply/ports failed: http://{SLOT}/health answered {status}"
    )


def test_strict_names_every_problem_in_one_line() -> None:
    first, second = free_port(), free_port()
    assert failure(CheckDevHostPortsProvider(), probe([first], second, strict=True)) == (
        "hook codex/afterApply/ports failed: "
        f"127.0.0.1:{first} does not accept connections (Connection refused); "
        f"no HTTP answer for Host {SLOT} at 127.0.0.1:{second} (ConnectionRefusedError: [Errno 111] Connection refused)"
    )


def test_an_ipv6_host_is_shown_in_brackets() -> None:
    port = free_port()
    assert failure(CheckDevHostPortsProvider(), probe([port], port, host="::1", strict=True)) == (
        "hook codex/afterApply/ports failed: "
        f"[::1]:{port} does not accept connections (Connection refused); "
        f"no HTTP answer for Host {SLOT} at [::1]:{port} (ConnectionRefusedError: [Errno 111] Connection refused)"
    )


def test_a_host_that_sends_its_status_line_a_byte_a_second_is_cut_at_the_probe_timeout() -> None:
    drip = DripServer("headers")
    port = int(drip.url.rsplit(":", 1)[1])
    try:
        text = failure(CheckDevHostPortsProvider(), probe([], port, strict=True))
    finally:
        drip.stop()
    assert text == (
        f"hook codex/afterApply/ports failed: no HTTP answer for Host {SLOT} at 127.0.0.1:{port} "
        "(no complete answer within 0.3s)"
    )
