"""Hooks that work on this machine (``run:`` scripts in real bash, the host probe against a real
HTTP server on 127.0.0.1): behaviours that the mutation run (tools/mutation.py hooks) found unguarded."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.host_ports import CheckDevHostPortsProvider
from codex_stacks.components.hooks.providers.shell import ShellStepProvider
from tests.hooks.helpers import step_props


class _Paths(BaseHTTPRequestHandler):
    """An ingress stand-in that answers 200 and keeps the request target of each GET."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def ingress() -> Iterator[tuple[int, list[str]]]:
    handler = type("Handler", (_Paths,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], handler.seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_host_probe_asks_for_slash_when_no_path_is_given(ingress: tuple[int, list[str]]) -> None:
    port, seen = ingress
    params = {"host": "127.0.0.1", "ports": [], "http_host": "dev-3.alimentor.example", "http_port": port}
    created = CheckDevHostPortsProvider().create(step_props("codex.check-dev-host-ports", params))
    assert created.outs["result"]["http_status"] == 200
    assert seen == ["/"]


def shell(script: str, secrets: dict[str, str]) -> dict[str, Any]:
    return step_props("run", {"script": script, "env": {}}, secrets=secrets)


def test_a_secret_that_holds_another_is_masked_whole() -> None:
    """``TAIL`` (4 characters, masked too) is inside ``LONG``: masking ``TAIL`` first would leave
    ``LONG``'s first and last characters in the error message."""
    secrets = {"env:TAIL": "zzzz", "env:LONG": "azzzzz"}
    with pytest.raises(HookError) as failure:
        ShellStepProvider().create(shell('echo "$LONG" >&2; exit 4', secrets))
    assert str(failure.value) == "hook codex/afterApply/step failed: script exited with 4: [secret]"


def test_a_script_that_puts_a_file_where_its_home_was_still_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HOME is the script's to use: what it leaves there (even a file in place of the folder) does
    not turn a script that exited 0 into a failed step."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # what the runner cannot remove stays here
    created = ShellStepProvider().create(shell('rmdir "$HOME" && echo x > "$HOME"', {}))
    assert created.outs["result"] == {"exit_code": 0}
