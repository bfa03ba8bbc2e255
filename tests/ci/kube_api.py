"""A loopback test double of the Kubernetes API, namespaces only: what ``ci cleanup`` asks for.

Patterned on tests/prompts/kube_double.py (a real HTTP server on 127.0.0.1 and a kubeconfig that
points at it), so the production code goes through the real ``kubernetes`` client and HTTP.
A namespace that is deleted stays ``Terminating`` for ``terminating_reads`` reads, then is gone.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.ci.kube_leases import PREFIX as LEASES
from tests.ci.kube_leases import Leases
from tests.ci.kube_leases import handle as handle_leases
from tests.support.http_double import JsonHandler


@dataclass
class Namespaces:
    """The double's state and a record of every request (method, path, Authorization header)."""

    present: set[str] = field(default_factory=set)
    terminating: dict[str, int] = field(default_factory=dict)
    """namespace → reads left before it is gone (a negative count: it never goes)."""
    terminating_reads: int = 1
    delete_status: int | None = None
    """Answer every DELETE with this status instead (a fault: 403, 500, …)."""
    unavailable_reads: int = 0
    """Answer this many namespace reads with 503 first (an API server restarting)."""
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    leases: Leases = field(default_factory=Leases)
    timeline: list[tuple[float, str, str]] = field(default_factory=list)
    """(time, method, path) of every request: the order of steps across the doubles."""

    def deletes(self) -> list[str]:
        """The namespaces a DELETE asked for."""
        return [
            path.rsplit("/", 1)[-1]
            for method, path, _ in self.requests
            if method == "DELETE" and path.startswith("/api/v1/namespaces/")
        ]


def _namespace(name: str, phase: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": {"phase": phase}}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


class _Handler(JsonHandler):
    server: _Server

    def _name(self) -> str | None:
        parts = urlsplit(self.path).path.strip("/").split("/")
        return parts[3] if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 4 else None

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.state.requests.append((self.command, urlsplit(self.path).path, self.headers.get("Authorization")))
        self.server.state.timeline.append((time.time(), self.command, urlsplit(self.path).path))

    def _leases(self, method: str) -> bool:
        if not urlsplit(self.path).path.startswith(LEASES):
            return False
        self.server.state.requests.append((method, urlsplit(self.path).path, self.headers.get("Authorization")))
        self.server.state.timeline.append((time.time(), method, urlsplit(self.path).path))
        handle_leases(self, self.server.state.leases, self.server.state.present, method)
        return True

    def do_POST(self) -> None:
        self._leases("POST")

    def do_PUT(self) -> None:
        self._leases("PUT")

    def do_DELETE(self) -> None:
        if self._leases("DELETE"):
            return
        self._record()
        state = self.server.state
        name = self._name()
        if state.delete_status is not None:
            self._json(state.delete_status, _status(state.delete_status, "Forbidden", f"namespaces {name!r} denied"))
            return
        if name is None or (name not in state.present and name not in state.terminating):
            self._json(404, _status(404, "NotFound", f'namespaces "{name}" not found'))
            return
        if name in state.present:
            state.present.discard(name)
            state.terminating[name] = state.terminating_reads
        self._json(200, _namespace(name, "Terminating"))

    def do_GET(self) -> None:
        if self._leases("GET"):
            return
        self._record()
        state = self.server.state
        name = self._name()
        if state.unavailable_reads:
            state.unavailable_reads -= 1
            self._json(503, _status(503, "ServiceUnavailable", "the server is currently unable to handle the request"))
            return
        if name is not None and name in state.present:
            self._json(200, _namespace(name, "Active"))
            return
        if name is not None and name in state.terminating:
            left = state.terminating[name]
            if left == 0:
                del state.terminating[name]
            else:
                state.terminating[name] = left - 1
                self._json(200, _namespace(name, "Terminating"))
                return
        self._json(404, _status(404, "NotFound", f'namespaces "{name}" not found'))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: Namespaces


class KubeApi:
    """Serve ``state`` on 127.0.0.1; ``kubeconfig`` writes a file that points at it."""

    def __init__(self, state: Namespaces) -> None:
        self.state = state
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.state = state
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def kubeconfig(self, path: Path, *, context: str = "double") -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "double", "cluster": {"server": self.url}}],
            "users": [{"name": "double", "user": {"token": "kube-t0ken"}}],
            "contexts": [{"name": context, "context": {"cluster": "double", "user": "double"}}],
            "current-context": context,
        }
        path.write_text(json.dumps(config), encoding="utf-8")
        return path

    def __enter__(self) -> KubeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    """A port nothing listens on (for "connection refused")."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
