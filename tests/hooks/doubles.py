"""A loopback HTTP test double of the GitHub API, with injectable faults (the Kubernetes one is
tests/support/kube_double.py).

Only the few endpoints the hooks touch, answering the way the real servers do (status codes,
``Status`` bodies, server-set metadata), so the production client code runs unchanged. Faults
(an HTTP status, or a delay past the client's timeout) are queued per method and path and
consumed one request at a time.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    """Answer ``status`` (or wait ``delay`` seconds first) for the next ``times`` matches."""

    method: str
    path_contains: str
    status: int | None = None
    delay: float = 0.0
    times: int = 1
    after: bool = False
    """Do the work first, then answer ``status`` (a server that failed after committing)."""


class LoopbackApi:
    """A threaded HTTP server on 127.0.0.1; subclasses implement :meth:`handle`."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.headers: list[dict[str, str]] = []
        self.bodies: list[Any] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read ``requests``."""

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with api.lock:
                    api.requests.append((self.command, self.path))
                    api.headers.append(dict(self.headers.items()))
                    api.bodies.append(body)
                    fault = api._take_fault(self.command, self.path)
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if fault is not None and fault.after:
                    with api.lock:
                        api.handle(self.command, self.path, body)
                if fault is not None and fault.status is not None:
                    status, payload = fault.status, {"kind": "Status", "code": fault.status, "message": "injected"}
                else:
                    with api.lock:
                        status, payload = api.handle(self.command, self.path, body)
                data = json.dumps(payload).encode() if payload is not None else b""
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def do_PATCH(self) -> None:
                self._serve()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # a short poll keeps shutdown (each test's teardown) fast
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> LoopbackApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fault(
        self,
        method: str,
        path_contains: str,
        *,
        status: int | None = None,
        delay: float = 0.0,
        times: int = 1,
        after: bool = False,
    ) -> None:
        with self.lock:
            self.faults.append(Fault(method, path_contains, status, delay, times, after))

    def count(self, method: str, path_contains: str = "") -> int:
        return sum(1 for m, p in self.requests if m == method and path_contains in p)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.path_contains in path and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """Subclasses answer; the base knows no endpoint."""
        return 404, {"message": f"no endpoint {method} {path}"}


class GithubDouble(LoopbackApi):
    """Issue comments: list, create, edit."""

    def __init__(self) -> None:
        super().__init__()
        self.comments: dict[int, dict[str, Any]] = {}
        self.next_id = 1000

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        path = path.split("?")[0]
        parts = path.strip("/").split("/")
        if len(parts) == 6 and parts[0] == "repos" and parts[3] == "issues" and parts[5] == "comments":
            issue = int(parts[4])
            if method == "GET":
                return 200, [c for c in self.comments.values() if c["issue"] == issue]
            if method == "POST":
                self.next_id += 1
                self.comments[self.next_id] = {"id": self.next_id, "issue": issue, "body": body["body"]}
                return 201, self.comments[self.next_id]
        if len(parts) == 6 and parts[3:5] == ["issues", "comments"] and method == "PATCH":
            comment = self.comments.get(int(parts[5]))
            if comment is None:
                return 404, {"message": "Not Found"}
            comment["body"] = body["body"]
            return 200, comment
        return 404, {"message": "Not Found"}


def unused_port() -> int:
    """A port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(api: LoopbackApi) -> Iterator[LoopbackApi]:
    api.start()
    try:
        yield api
    finally:
        api.stop()
