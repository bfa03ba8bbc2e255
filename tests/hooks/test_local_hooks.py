"""Hooks that work on this machine: data folders (real tmp dirs), ports (real TCP/HTTP servers
on 127.0.0.1) and ``run:`` scripts (real bash)."""

from __future__ import annotations

import socket
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.data_dirs import EnsureDataDirsProvider
from codex_stacks.components.hooks.providers.host_ports import CheckDevHostPortsProvider
from codex_stacks.components.hooks.providers.shell import ShellStepProvider
from tests.hooks.helpers import step_props
from tests.support.kube_double import free_port

# --------------------------------------------------------------------------- data dirs


def dirs_props(root: Path, env_dir: Path, names: list[str], **params: Any) -> dict[str, Any]:
    return step_props(
        "codex.ensure-data-dirs",
        {
            "root": str(root),
            "env_dir": str(env_dir),
            "paths": [str(env_dir / name) for name in names],
            "mode": "0777",
            "delete_on_destroy": False,
            **params,
        },
        stage="beforeAll",
    )


def test_data_dirs_are_created_with_their_mode_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    root, env_dir = tmp_path / "data", tmp_path / "data" / "slots" / "3"
    props = dirs_props(root, env_dir, ["postgres", "redis"])
    first = EnsureDataDirsProvider().create(props).outs["result"]
    assert first["created"] == [str(env_dir), str(env_dir / "postgres"), str(env_dir / "redis")]
    for path in (env_dir, env_dir / "postgres", env_dir / "redis"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o777
    (env_dir / "postgres" / "PG_VERSION").write_text("16")
    second = EnsureDataDirsProvider().update("id", {}, props).outs["result"]
    assert second["created"] == []
    assert (env_dir / "postgres" / "PG_VERSION").read_text() == "16"


@pytest.mark.parametrize(
    ("root", "env_dir", "names", "message"),
    [
        ("/", "/slots/1", ["postgres"], "refusing data root '/'"),
        ("{tmp}/data", "{tmp}/data", ["postgres"], "not inside the data root"),
        ("{tmp}/data", "{tmp}/elsewhere", ["postgres"], "not inside the data root"),
        ("{tmp}/data", "{tmp}/data/dev", ["../../etc"], "refusing data folder"),
        ("relative", "relative/dev", ["postgres"], "refusing data root 'relative'"),
    ],
)
def test_data_dirs_refuse_unsafe_paths_and_touch_nothing(
    tmp_path: Path, root: str, env_dir: str, names: list[str], message: str
) -> None:
    props = dirs_props(Path(root.format(tmp=tmp_path)), Path(env_dir.format(tmp=tmp_path)), names)
    props["params"]["paths"] = [f"{props['params']['env_dir']}/{name}" for name in names]
    with pytest.raises(HookError, match=message):
        EnsureDataDirsProvider().create(props)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_data_dirs_are_kept_on_destroy_unless_asked(tmp_path: Path) -> None:
    root, env_dir = tmp_path / "data", tmp_path / "data" / "dev"
    kept = dirs_props(root, env_dir, ["postgres"])
    created = EnsureDataDirsProvider().create(kept)
    EnsureDataDirsProvider().delete(created.id, created.outs)
    assert (env_dir / "postgres").is_dir()

    deleted = dirs_props(root, env_dir, ["postgres", "redis"], delete_on_destroy=True)
    (env_dir / "postgres" / "data").write_text("x")
    outside = tmp_path / "precious"
    outside.mkdir()
    created = EnsureDataDirsProvider().create(deleted)
    (env_dir / "redis").rmdir()
    (env_dir / "redis").symlink_to(outside)  # a link must be removed, not followed
    EnsureDataDirsProvider().delete(created.id, created.outs)
    assert not env_dir.exists()
    assert root.is_dir()
    assert outside.is_dir()


# --------------------------------------------------------------------------- host ports


class _Recorder(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []
    status: ClassVar[int] = 404

    def do_GET(self) -> None:
        type(self).hosts.append(self.headers.get("Host", ""))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def http_server() -> Iterator[ThreadingHTTPServer]:
    handler = type("Handler", (_Recorder,), {"hosts": [], "status": 404})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def ports_props(ports: list[int], http_port: int, *, strict: bool = False) -> dict[str, Any]:
    return step_props(
        "codex.check-dev-host-ports",
        {
            "host": "127.0.0.1",
            "ports": ports,
            "http_host": "dev-3.alimentor.example",
            "http_port": http_port,
            "path": "/",
            "probe_timeout": 0.5,
            "strict": strict,
        },
    )


def test_ports_open_and_the_probe_carries_the_slot_host(http_server: ThreadingHTTPServer) -> None:
    port = http_server.server_address[1]
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        other = listener.getsockname()[1]
        created = CheckDevHostPortsProvider().create(ports_props([port, other], port))
    result = created.outs["result"]
    assert result["ports"] == {str(port): True, str(other): True}
    assert result["http_status"] == 404  # any answer below 500 counts: the ingress is there
    assert result["problems"] == []
    assert created.outs["warnings"] == []
    assert "dev-3.alimentor.example" in type_hosts(http_server)


def type_hosts(server: ThreadingHTTPServer) -> list[str]:
    return list(server.RequestHandlerClass.hosts)  # type: ignore[attr-defined]


def test_closed_ports_are_warnings_by_default(http_server: ThreadingHTTPServer) -> None:
    closed = free_port()
    server_port = http_server.server_address[1]
    http_server.RequestHandlerClass.status = 503  # type: ignore[attr-defined]
    created = CheckDevHostPortsProvider().create(ports_props([closed], server_port))
    warnings = created.outs["warnings"]
    assert created.outs["result"]["ports"] == {str(closed): False}
    assert any(f"127.0.0.1:{closed} does not accept connections" in w for w in warnings)
    assert any("answered 503" in w for w in warnings)


def test_closed_ports_fail_when_strict() -> None:
    closed = free_port()
    with pytest.raises(HookError, match=f"127.0.0.1:{closed} does not accept connections"):
        CheckDevHostPortsProvider().create(ports_props([closed], closed, strict=True))


# --------------------------------------------------------------------------- run: steps


def test_outside_text_in_env_is_data_never_code(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    out = tmp_path / "out"
    title = f'Fix "$(touch {pwned})" `touch {pwned}`; touch {pwned}'
    props = step_props(
        "run",
        {
            "script": f'printf "%s|%s|%s" "$ISSUE_TITLE" "$CODEX_NAMESPACE" "$CODEX_SLOT" > "{out}"',
            "env": {"CODEX_NAMESPACE": "alimentor-dev-3", "CODEX_SLOT": "3"},
        },
        secrets={"env:ISSUE_TITLE": title},
    )
    ShellStepProvider().create(props)
    assert out.read_text() == f"{title}|alimentor-dev-3|3"
    assert not pwned.exists()


def test_script_output_goes_to_the_log_not_the_state(capfd: pytest.CaptureFixture[str]) -> None:
    created = ShellStepProvider().create(step_props("run", {"script": "echo hello-$((40 + 2))", "env": {}}))
    assert "hello-42" not in str(created.outs)
    assert "hello-42" in capfd.readouterr().err
