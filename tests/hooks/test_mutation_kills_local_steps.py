"""Steps that work on this machine (data folders in a temporary folder, the host probe against a
real HTTP server on ::1): behaviours that the mutation run (tools/mutation.py hooks, a sample of
2026-11-30) found unguarded."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from codex_stacks.components.hooks.providers.data_dirs import EnsureDataDirsProvider
from codex_stacks.components.hooks.providers.host_ports import CheckDevHostPortsProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_local_hooks import dirs_props
from tests.hooks.test_mutation_kills_local import _Paths


def test_the_data_dirs_step_keeps_what_it_made_in_the_state(tmp_path: Path) -> None:
    """The step's result, kept in the stack's state (``pulumi stack export``), names the root, the
    slot's folder, the data folders and those it created this time."""
    root, env_dir = tmp_path / "data", tmp_path / "data" / "slots" / "3"
    created = EnsureDataDirsProvider().create(dirs_props(root, env_dir, ["postgres"]))
    assert created.outs["result"] == {
        "root": str(root),
        "env_dir": str(env_dir),
        "paths": [str(env_dir / "postgres")],
        "created": [str(env_dir), str(env_dir / "postgres")],
    }


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture
def ingress_v6() -> Iterator[tuple[int, list[str]]]:
    """An ingress stand-in on ::1 that answers 200 and keeps the request target of each GET."""
    if not socket.has_ipv6:
        raise AssertionError("this machine's Python has no IPv6")
    handler = type("Handler", (_Paths,), {"seen": []})
    server = _V6Server(("::1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], handler.seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_host_probe_reaches_an_ipv6_host(ingress_v6: tuple[int, list[str]]) -> None:
    """``host: ::1`` (docs/services-yaml-reference.md: the address whose ports are checked): the port check and the
    HTTP probe both reach it; the URL names the address in brackets, as RFC 3986 asks."""
    port, seen = ingress_v6
    params = {"host": "::1", "ports": [port], "http_host": "dev-3.alimentor.example", "http_port": port}
    created = CheckDevHostPortsProvider().create(step_props("codex.check-dev-host-ports", params))
    assert created.outs["result"] == {"ports": {str(port): True}, "http_status": 200, "problems": []}
    assert seen == ["/"]


def test_without_an_http_host_only_the_ports_are_checked() -> None:
    """An empty ``http_host`` (as tests/hooks/test_host.py runs the step through the provider
    host): the ports are checked and no HTTP probe is sent anywhere."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        params = {"host": "127.0.0.1", "ports": [port], "http_host": "", "probe_timeout": 0.5}
        created = CheckDevHostPortsProvider().create(step_props("codex.check-dev-host-ports", params))
    assert created.outs["result"] == {"ports": {str(port): True}, "http_status": None, "problems": []}
    assert created.outs["warnings"] == []
