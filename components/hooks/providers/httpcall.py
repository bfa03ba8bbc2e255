"""One HTTP request with a wall-clock bound: the transport of the GitHub and Kubernetes hooks.

A socket timeout bounds each read, not the request: a server that sends one byte a second never
trips it. Here a watchdog shuts the socket down when the request's time is up, whatever phase it
is in (connecting, sending, reading the status line, the headers or the body), and the answer's
size is bounded too. Rate-limit answers (429, and GitHub's 403 secondary limits) are read here
into the wait they ask for (``Retry-After``, else ``X-RateLimit-Reset``), so callers retry within
their step's timeout.
"""

from __future__ import annotations

import contextlib
import email.message
import email.utils
import http.client
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

MAX_BODY = 16 * 1024 * 1024
"""The largest answer read (bytes): GitHub pages and Kubernetes objects are far smaller."""
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class TransportError(Exception):
    """No complete answer: refused, reset, TLS failure, too big, or out of time (retryable)."""


class RequestTimeoutError(TransportError):
    """The request's wall-clock time ran out before the whole answer arrived."""


@dataclass(frozen=True)
class Reply:
    """A complete answer."""

    status: int
    reason: str
    body: bytes
    headers: email.message.Message = field(default_factory=email.message.Message)

    def header(self, name: str) -> str | None:
        """A header's value (names are case-insensitive), or None."""
        value = self.headers.get(name)
        return None if value is None else str(value)


@dataclass(frozen=True)
class Tls:
    """How to check the server (and, with a client certificate, how to show ourselves)."""

    context: ssl.SSLContext
    server_name: str | None = None
    """The name to verify and send as SNI when it differs from the URL's host (kubeconfig's tls-server-name)."""


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or ``localhost``: the only hosts a plain ``http://`` URL may name for a token."""
    import ipaddress

    name = host.strip("[]").lower()
    if name in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def send(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes | None = None,
    timeout: float,
    tls: Tls | None = None,
    proxy: str | None = None,
    max_body: int = MAX_BODY,
    status_only: bool = False,
) -> Reply:
    """Send one request and read the whole answer within ``timeout`` seconds of wall-clock time.

    Raises :class:`RequestTimeoutError` when the time runs out and :class:`TransportError` for any
    other failure to get a complete answer; an HTTP error status is a :class:`Reply`, not an error.
    With ``status_only`` the body is not read (a probe needs the status line and headers).
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError(f"not an http(s) URL: {url}")
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    connection = _connection(parts, timeout=timeout, tls=tls, proxy=proxy)
    if proxy and parts.scheme == "http":
        target = url  # a plain-HTTP request through a proxy names the whole URL
    expired = threading.Event()
    held: list[socket.socket] = []
    """The socket once the request is sent: an answer that closes the connection (``Connection:
    close``, HTTP/1.0) takes it over, and ``connection.sock`` is None while its body is read."""

    def cut() -> None:
        expired.set()
        sock = held[0] if held else connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # the plain socket's shutdown wakes a read blocked elsewhere
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    watchdog = threading.Timer(max(0.0, timeout), cut)
    watchdog.daemon = True
    started = time.monotonic()
    watchdog.start()
    try:
        connection.request(method, target, body=body, headers=headers)
        if connection.sock is not None:
            held.append(connection.sock)
        response = connection.getresponse()
        if status_only:
            if expired.is_set():
                raise RequestTimeoutError(f"no complete answer within {timeout:g}s")
            return Reply(status=response.status, reason=str(response.reason), body=b"", headers=response.msg)
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(64 * 1024):
            size += len(chunk)
            if size > max_body:
                raise TransportError(f"the answer is larger than {max_body} bytes")
            chunks.append(chunk)
        if expired.is_set():  # a cut socket reads as the end of the answer
            raise RequestTimeoutError(f"no complete answer within {timeout:g}s")
        if response.length:  # Content-Length promised more than arrived
            raise TransportError(f"the answer ended {response.length} bytes short")
        return Reply(status=response.status, reason=str(response.reason), body=b"".join(chunks), headers=response.msg)
    except TransportError:
        raise
    except Exception as error:  # OSError, ssl.SSLError, http.client.HTTPException, a socket cut mid-read
        if expired.is_set() or time.monotonic() - started >= timeout:
            raise RequestTimeoutError(f"no complete answer within {timeout:g}s") from None
        raise TransportError(f"{type(error).__name__}: {_short(error)}") from None
    finally:
        watchdog.cancel()
        connection.close()


def _connection(
    parts: urllib.parse.SplitResult, *, timeout: float, tls: Tls | None, proxy: str | None
) -> http.client.HTTPConnection:
    host = str(parts.hostname)
    port = parts.port
    if proxy:
        proxy_parts = urllib.parse.urlsplit(proxy)
        if proxy_parts.scheme != "http" or not proxy_parts.hostname:
            raise TransportError(f"only http:// proxies are supported here, not {proxy_parts.scheme or proxy}")
        if parts.scheme == "http":
            return http.client.HTTPConnection(proxy_parts.hostname, proxy_parts.port or 80, timeout=timeout)
        connection = _https(proxy_parts.hostname, proxy_parts.port or 80, timeout=timeout, tls=tls, sni=None)
        connection.set_tunnel(host, port or 443)
        return connection
    if parts.scheme == "http":
        return http.client.HTTPConnection(host, port or 80, timeout=timeout)
    return _https(host, port or 443, timeout=timeout, tls=tls, sni=tls.server_name if tls else None)


def _https(host: str, port: int, *, timeout: float, tls: Tls | None, sni: str | None) -> http.client.HTTPSConnection:
    context = tls.context if tls is not None else ssl.create_default_context()
    if sni is None:
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)

    class NamedHTTPSConnection(http.client.HTTPSConnection):
        """Connects to ``host`` but verifies (and asks for) the certificate of ``sni``."""

        def connect(self) -> None:
            http.client.HTTPConnection.connect(self)
            self.sock = context.wrap_socket(self.sock, server_hostname=sni)

    return NamedHTTPSConnection(host, port, timeout=timeout, context=context)


def retry_after(reply: Reply, *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: ``Retry-After`` (seconds or an HTTP date), else, when
    ``X-RateLimit-Remaining`` is 0, until ``X-RateLimit-Reset`` (epoch seconds); None if neither."""
    now = time.time() if now is None else now
    value = (reply.header("Retry-After") or "").strip()
    if value:
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(0.0, when.timestamp() - now)
    remaining = (reply.header("X-RateLimit-Remaining") or "").strip()
    reset = (reply.header("X-RateLimit-Reset") or "").strip()
    if remaining == "0" and reset.isdigit():
        return max(0.0, float(reset) - now)
    return None


SHOWN_CHARS = 200
"""What a step shows of a text someone else wrote (a server's message, an error) at most."""


def shortened(text: str) -> str:
    """``text`` cut to :data:`SHOWN_CHARS` characters, with "…" when something was cut."""
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def _short(error: Exception) -> str:
    return shortened(str(error) or type(error).__name__)
