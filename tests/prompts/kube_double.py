"""A loopback test double of the Kubernetes API: Deployment/pod reads over HTTP, exec over WebSocket.

Exec speaks v4.channel.k8s.io (each message: a channel byte, then data; stdout 1, stderr 2, the
final Status JSON on 3). It plays the pod side of ``prompt run``: the write script's files are
decoded and kept, any other command is answered by ``agent`` (output chunks, then an exit status).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import ssl
import struct
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.http_double import JsonHandler

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass
class AgentScript:
    """What the agent command does in the double: timed output, then an exit status."""

    chunks: list[tuple[int, str]] = field(default_factory=lambda: [(1, "working\n"), (2, "done\n")])
    exit_code: int = 0
    pause: float = 0.0
    """Seconds to wait between chunks (a slow agent)."""


@dataclass
class Cluster:
    """The double's state, and a record of what the client asked for."""

    namespace: str
    deployments: dict[str, int | None] = field(default_factory=dict)
    """name → reads before it becomes available (None: never); every read counts, 404s included."""
    appears_after: dict[str, int] = field(default_factory=dict)
    """name → reads answered 404 before the Deployment exists (the deploy is still creating it)."""
    agent: AgentScript = field(default_factory=AgentScript)
    reads: list[str] = field(default_factory=list)
    execs: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(pod, container, command) of every exec, in order."""
    files: dict[str, bytes] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def deployment(self, name: str) -> dict[str, Any]:
        ready_after = self.deployments[name]
        count = sum(1 for read in self.reads if read == f"deployment/{name}")
        ready = ready_after is not None and count > ready_after
        labels = {"app": name}
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": self.namespace, "generation": 2},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": name, "image": f"{name}:1"}]},
                },
            },
            "status": {
                "observedGeneration": 2,
                "replicas": 1,
                "updatedReplicas": 1,
                "availableReplicas": 1 if ready else 0,
                "unavailableReplicas": 0 if ready else 1,
            },
        }

    def pods(self, selector: str) -> dict[str, Any]:
        def pod(name: str, *, ready: bool, created: str) -> dict[str, Any]:
            return {
                "metadata": {"name": name, "namespace": self.namespace, "creationTimestamp": created},
                "spec": {"containers": [{"name": "codex", "image": "codex:1"}]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]},
            }

        items = (
            [
                pod("codex-old", ready=True, created="2026-01-01T00:00:00Z"),
                pod("codex-new", ready=True, created="2026-01-02T00:00:00Z"),
                pod("codex-starting", ready=False, created="2026-01-03T00:00:00Z"),
            ]
            if selector == "app=codex"
            else []
        )
        return {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items}


class _Handler(JsonHandler):
    server: _Server

    def do_GET(self) -> None:
        cluster = self.server.cluster
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = parse_qs(url.query)
        if self.headers.get("Upgrade", "").lower() == "websocket" and parts[-1] == "exec":
            self._exec(pod=parts[5], query=query)
            return
        if parts[:4] == ["apis", "apps", "v1", "namespaces"] and parts[5:6] == ["deployments"]:
            name = parts[6]
            cluster.reads.append(f"deployment/{name}")
            missing = cluster.reads.count(f"deployment/{name}") <= cluster.appears_after.get(name, 0)
            if parts[4] != cluster.namespace or name not in cluster.deployments or missing:
                self._json(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
                return
            self._json(200, cluster.deployment(name))
            return
        if parts[:4] == ["api", "v1", "namespaces", cluster.namespace] and parts[4:] == ["pods"]:
            cluster.reads.append("pods")
            self._json(200, cluster.pods(query.get("labelSelector", [""])[0]))
            return
        self._json(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})

    def _send(self, channel: int, data: bytes) -> None:
        payload = bytes([channel]) + data
        header = bytes([0x82])
        if len(payload) < 126:
            header += bytes([len(payload)])
        elif len(payload) < 65536:
            header += bytes([126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([127]) + struct.pack("!Q", len(payload))
        self.wfile.write(header + payload)

    def _exec(self, *, pod: str, query: dict[str, list[str]]) -> None:
        cluster = self.server.cluster
        accept = base64.b64encode(hashlib.sha1((self.headers["Sec-WebSocket-Key"] + _WS_GUID).encode()).digest())
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.send_header("Sec-WebSocket-Protocol", "v4.channel.k8s.io")
        self.end_headers()
        command = query.get("command", [])
        cluster.execs.append((pod, query.get("container", [""])[0], command))
        if command[3:4] == ["codexctl-write"]:
            name, mode, chunk = command[4:7]
            previous = cluster.files.get(name, b"") if mode == "append" else b""
            cluster.files[name] = previous + base64.b64decode(chunk)
            code = 0
        else:
            for channel, text in cluster.agent.chunks:
                self._send(channel, text.encode())
                if cluster.agent.pause and cluster.stop.wait(cluster.agent.pause):
                    break
            code = cluster.agent.exit_code
        status: dict[str, Any] = {"metadata": {}, "status": "Success"}
        if code:
            status = {
                "metadata": {},
                "status": "Failure",
                "message": f"command terminated with non-zero exit code: exit status {code}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
            }
        self._send(3, json.dumps(status).encode())
        self.wfile.write(bytes([0x88, 0x00]))
        self.connection.settimeout(2)
        with contextlib.suppress(OSError):
            self.connection.recv(64)  # the client's close frame: only then hang up
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    cluster: Cluster


def self_signed_context(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a throwaway self-signed certificate (made by the openssl CLI)."""
    cert, key = folder / "double.crt", folder / "double.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class KubeDouble:
    """Serve ``cluster`` on 127.0.0.1 and write a kubeconfig that points at it.

    With ``tls`` (a server context), it serves HTTPS and the kubeconfig says insecure-skip-tls-verify.
    """

    def __init__(self, cluster: Cluster, *, tls: ssl.SSLContext | None = None) -> None:
        self.cluster = cluster
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.cluster = cluster
        self.tls = tls
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"

    def kubeconfig(self, path: Path) -> Path:
        cluster: dict[str, Any] = {"server": self.url}
        if self.tls is not None:
            cluster["insecure-skip-tls-verify"] = True
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "double", "cluster": cluster}],
            "users": [{"name": "double", "user": {"token": "test-token"}}],
            "contexts": [{"name": "double", "context": {"cluster": "double", "user": "double"}}],
            "current-context": "double",
        }
        path.write_text(json.dumps(config), encoding="utf-8")
        return path

    def __enter__(self) -> KubeDouble:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cluster.stop.set()
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
