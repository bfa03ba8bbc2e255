"""The transport of the GitHub and Kubernetes hooks (providers/httpcall.py, providers/kube.py):
behaviours that the mutation run (tools/mutation.py hooks) found unguarded. A kubeconfig with its
own certificate authority, a client certificate and ``tls-server-name`` (the shape kubeadm and
managed clusters hand out) against the API double served over TLS that asks for a client
certificate; a Retry-After given as an HTTP date; an error text too long for one line."""

from __future__ import annotations

import base64
import contextlib
import datetime
import email.message
import email.utils
import json
import socket
import ssl
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.httpcall import Reply, TransportError, retry_after, send
from codex_stacks.components.hooks.providers.preflight import PreflightProvider
from tests.hooks.conftest import SLOT_NAMESPACE
from tests.hooks.helpers import step_props
from tests.support.kube_double import ADMIN_TOKEN, KubeDouble

SERVER_NAME = "kube.internal"
"""The only name in the API server's certificate: 127.0.0.1 verifies only through tls-server-name."""


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _signed(folder: Path, name: str, subject: str, extensions: str) -> tuple[Path, Path]:
    key, csr, cert, ext = (folder / f"{name}.{suffix}" for suffix in ("key", "csr", "crt", "ext"))
    ext.write_text(extensions, encoding="utf-8")
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-subj", subject, "-keyout", str(key), "-out", str(csr), cwd=folder)  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "1", "-extfile", str(ext), "-out", str(cert), cwd=folder)  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway certificate authority, the API server's certificate for kube.internal only, and
    a client certificate, made by the openssl CLI as a cluster's installer would."""
    folder = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "1", "-subj", "/CN=test-cluster-ca", "-keyout", "ca.key", "-out", "ca.crt",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=folder)  # fmt: skip
    server_cert, server_key = _signed(
        folder, "server", f"/CN={SERVER_NAME}", f"subjectAltName=DNS:{SERVER_NAME}\nextendedKeyUsage=serverAuth\n"
    )
    client_cert, client_key = _signed(
        folder, "client", "/CN=codex-admin/O=system:masters", "extendedKeyUsage=clientAuth\n"
    )
    return Pki(folder / "ca.crt", server_cert, server_key, client_cert, client_key)


@pytest.fixture
def tls_kube(pki: Pki) -> Iterator[KubeDouble]:
    """The API double over TLS with the certificate for kube.internal, refusing a client without a
    certificate signed by the cluster's authority (as an API server started with --client-ca-file)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.load_verify_locations(pki.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    with KubeDouble(tls=context, namespaces=(SLOT_NAMESPACE,)) as double:
        yield double


def _data(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(path: Path, server: str, cluster: dict[str, Any], user: dict[str, Any]) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server, **cluster}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def preflight() -> dict[str, Any]:
    """A TLS handshake (through a tunnel, too) gets seconds, not the 0.3 s of tests/hooks/helpers.FAST."""
    tuning = {"request_timeout": 4.0, "retry_delay": 0.01, "attempts": 3}
    return step_props("preflight", {"require_env": [], "check_cluster": True}, stage="beforeAll", tuning=tuning)


def test_a_kubeconfig_with_its_ca_a_client_certificate_and_tls_server_name_reaches_the_api(
    tls_kube: KubeDouble, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = {"certificate-authority-data": _data(pki.ca), "tls-server-name": SERVER_NAME}
    user = {"client-certificate-data": _data(pki.client_cert), "client-key-data": _data(pki.client_key),
            "token": ADMIN_TOKEN}  # fmt: skip
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", tls_kube.url, cluster, user)))
    created = PreflightProvider().create(preflight())
    assert created.outs["result"] == {"kubernetes": "v1.35.0"}
    assert tls_kube.count("GET", "/version") == 1


def test_without_tls_server_name_the_servers_certificate_does_not_match_127_0_0_1(
    tls_kube: KubeDouble, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counterpart of the test above: the name check is really made (no request gets through)."""
    cluster = {"certificate-authority-data": _data(pki.ca)}
    user = {"client-certificate-data": _data(pki.client_cert), "client-key-data": _data(pki.client_key),
            "token": ADMIN_TOKEN}  # fmt: skip
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", tls_kube.url, cluster, user)))
    with pytest.raises(HookError, match="Kubernetes API not reachable: GET /version: .*certificate verify failed"):
        PreflightProvider().create(preflight())
    assert tls_kube.count("GET", "/version") == 0


def test_a_certificate_authority_that_is_not_a_certificate_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = {"certificate-authority-data": base64.b64encode(b"not a certificate").decode()}
    path = write_kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:6443", cluster, {"token": "t"})
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(HookError) as failure:
        PreflightProvider().create(preflight())
    message = str(failure.value)
    assert "\n" not in message
    # the whole reason, up to the C source line OpenSSL names, not cut with an ellipsis
    assert message.endswith(")"), message
    assert "the kubeconfig's TLS settings do not load: " in message
    assert "no certificate or crl found" in message.lower()


def test_retry_after_as_an_http_date_is_the_seconds_until_then() -> None:
    """RFC 9110 §10.2.3: Retry-After is seconds or an HTTP date."""
    now = 1_800_000_000.0
    headers = email.message.Message()
    when = datetime.datetime.fromtimestamp(now + 30, tz=datetime.UTC)
    headers["Retry-After"] = email.utils.format_datetime(when, usegmt=True)  # "Fri, 15 Jan 2027 08:00:30 GMT"
    assert retry_after(Reply(429, "Too Many Requests", b"", headers), now=now) == 30.0


def test_a_long_transport_error_is_cut_to_200_characters_and_an_ellipsis() -> None:
    """A URL that http.client refuses (a space in the path) is named in its error: a 300-character
    path makes a reason longer than one line may carry."""
    path = "/" + "a" * 300 + " b"
    with pytest.raises(TransportError) as failure:
        send("GET", f"http://127.0.0.1:9{path}", headers={}, timeout=2.0)
    message = str(failure.value)
    prefix = "InvalidURL: "
    assert message.startswith(prefix)
    assert len(message) == len(prefix) + 200 + 1
    assert message.endswith("a…")


# --------------------------------------------------------------------------- through an HTTP proxy


class ForwardProxy:
    """A forward proxy on 127.0.0.2 (not 127.0.0.1, where nothing of this test listens), as squid
    or tinyproxy behave: a plain-HTTP request names the whole URL (absolute-form, RFC 9112 §3.2.2)
    and is passed on; ``CONNECT host:port`` (RFC 9110 §9.3.6) opens a tunnel; a request in
    origin-form is refused with 400, and a name it cannot resolve (``hosts``) gets 502. It keeps
    every request line it read."""

    def __init__(self, hosts: dict[str, str]) -> None:
        self.hosts = hosts
        self.lines: list[str] = []
        self.listener = socket.create_server(("127.0.0.2", 0))
        self.listener.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.2:{self.listener.getsockname()[1]}"

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(5)
        with client:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            head, _, rest = head.partition(b"\r\n\r\n")
            request_line, _, headers = head.decode("latin-1").partition("\r\n")
            self.lines.append(request_line)
            method, target, version = request_line.split(" ", 2)
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                origin_form = None
            elif target.startswith("http://"):
                parts = urllib.parse.urlsplit(target)
                host, port = parts.hostname or "", str(parts.port or 80)
                origin_form = f"{method} {parts.path or '/'}{'?' + parts.query if parts.query else ''} {version}"
            else:
                client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            address = self.hosts.get(host)
            if address is None:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            with socket.create_connection((address, int(port)), timeout=5) as upstream:
                if origin_form is None:
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                else:
                    upstream.sendall(f"{origin_form}\r\n{headers}\r\n\r\n".encode("latin-1") + rest)
                self._pipe(client, upstream)

    @staticmethod
    def _pipe(one: socket.socket, other: socket.socket) -> None:
        """Bytes both ways until either side closes (bounded by the sockets' 5 s timeouts)."""

        def copy(source: socket.socket, target: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    target.sendall(data)
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=copy, args=(other, one), daemon=True)
        back.start()
        copy(one, other)
        back.join(timeout=5)


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    """The proxy resolves kube.internal to the loopback address the doubles listen on."""
    forward = ForwardProxy({SERVER_NAME: "127.0.0.1"})
    try:
        yield forward
    finally:
        forward.stop()


def test_a_plain_http_api_server_is_reached_through_the_kubeconfigs_proxy(
    kube: KubeDouble, proxy: ForwardProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kube.internal resolves nowhere but at the proxy: only a request through it can succeed."""
    port = kube.url.rsplit(":", 1)[1]
    server = f"http://{SERVER_NAME}:{port}"
    path = write_kubeconfig(tmp_path / "kubeconfig", server, {"proxy-url": proxy.url}, {"token": ADMIN_TOKEN})
    monkeypatch.setenv("KUBECONFIG", str(path))
    created = PreflightProvider().create(preflight())
    assert created.outs["result"] == {"kubernetes": "v1.35.0"}
    assert proxy.lines == [f"GET {server}/version HTTP/1.1"]


def test_an_https_api_server_is_reached_through_a_connect_tunnel(
    tls_kube: KubeDouble, proxy: ForwardProxy, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = tls_kube.url.rsplit(":", 1)[1]
    cluster = {"certificate-authority-data": _data(pki.ca), "proxy-url": proxy.url}
    user = {"client-certificate-data": _data(pki.client_cert), "client-key-data": _data(pki.client_key),
            "token": ADMIN_TOKEN}  # fmt: skip
    path = write_kubeconfig(tmp_path / "kubeconfig", f"https://{SERVER_NAME}:{port}", cluster, user)
    monkeypatch.setenv("KUBECONFIG", str(path))
    created = PreflightProvider().create(preflight())
    assert created.outs["result"] == {"kubernetes": "v1.35.0"}
    assert [line.rsplit(" ", 1)[0] for line in proxy.lines] == [f"CONNECT {SERVER_NAME}:{port}"]  # HTTP/1.0 or 1.1
    assert tls_kube.count("GET", "/version") == 1
