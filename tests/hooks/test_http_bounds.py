"""Hook HTTP calls are bounded in wall-clock time, wait out rate limits as the server asks, and
refuse answers that are not what a success should be.

The servers here are raw loopback sockets and scripted HTTP servers, so a test controls every
byte and header. The rate-limit answers follow GitHub's "Rate limits for the REST API" page
(github/docs ``content/rest/using-the-rest-api/rate-limits-for-the-rest-api.md``): a primary or
secondary limit answers 403 or 429; ``retry-after`` names the seconds to wait; when
``x-ratelimit-remaining`` is 0, wait until ``x-ratelimit-reset`` (UTC epoch seconds); a 403
without either is a missing permission. The Kubernetes API server answers 429 with
``Retry-After`` under API Priority and Fairness (kubernetes.io, "API Priority and Fairness").
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.codex_secrets import EnsureCodexSecretsProvider
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider, checked_api_url
from codex_stacks.components.hooks.providers.host_ports import CheckDevHostPortsProvider
from codex_stacks.components.hooks.providers.kubectl_wait import KubectlWaitProvider
from tests.hooks.helpers import step_props
from tests.support.kube_double import write_kubeconfig

TOKEN = "ghp-bounds-canary-7e57"
HANG_GUARD = 8.0
"""Far above every bound under test (2 s) and far below what the drip would take (30 s)."""


def comment_props(api_url: str, *, timeout: float = 5.0, tuning: dict[str, Any] | None = None) -> dict[str, Any]:
    return step_props(
        "github.comment",
        {
            "repository": "acme/alimentor",
            "number": 42,
            "body": "Slot 3 is up",
            "api_url": api_url,
            "update_existing": True,
            "marker": "<!-- codex-stacks:ai-slot-3:announce -->",
        },
        secrets={"token": TOKEN},
        timeout=timeout,
        tuning=tuning,
    )


def secrets_props(*, timeout: float = 5.0, tuning: dict[str, Any] | None = None) -> dict[str, Any]:
    return step_props(
        "codex.ensure-codex-secrets",
        {
            "namespace": "alimentor-dev-3",
            "secrets": [{"name": "openai-secret", "key": "OPENAI_API_KEY", "config": "openaiApiKey", "env": []}],
        },
        stage="beforeApply",
        secrets={"openai-secret": "sk-value"},
        timeout=timeout,
        tuning=tuning,
    )


# --------------------------------------------------------------------------- a server that drips


class DripServer:
    """Accepts connections and answers one byte a second: from the status line on (``headers``),
    or after complete headers that promise a 30-byte body (``body``)."""

    def __init__(self, phase: str) -> None:
        self.phase = phase
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stopping = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        body = b"[" + b" " * 28 + b"]"
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        dripped = head + body if self.phase == "headers" else body
        try:
            conn.recv(65536)
            if self.phase == "body":
                conn.sendall(head)
            for byte in dripped:
                if self.stopping.wait(1.0):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()


@pytest.fixture(params=["headers", "body"])
def drip(request: pytest.FixtureRequest) -> Iterator[DripServer]:
    server = DripServer(str(request.param))
    try:
        yield server
    finally:
        server.stop()


def bounded(call: Any) -> tuple[BaseException | None, float]:
    """Run ``call`` in a thread; the error it raised and how long it took (a hang guard, not a timing)."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            call()
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append(None)

    started = time.monotonic()
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(HANG_GUARD)
    assert not worker.is_alive(), f"still running after {HANG_GUARD}s: the request is not bounded"
    return outcome[0], time.monotonic() - started


def test_a_dripping_github_answer_is_cut_at_the_steps_timeout(drip: DripServer) -> None:
    # production tuning (15 s per request): only the step's 2 s timeout can stop it
    error, _elapsed = bounded(lambda: GithubCommentProvider().create(comment_props(drip.url, timeout=2, tuning={})))
    assert isinstance(error, HookError)
    assert "no complete answer within" in str(error) or "timed out after 2s" in str(error)
    assert TOKEN not in str(error)


def test_a_dripping_github_answer_is_cut_at_the_request_timeout(drip: DripServer) -> None:
    tuning = {"request_timeout": 1.0, "retry_delay": 0.01, "attempts": 2}
    error, _elapsed = bounded(lambda: GithubCommentProvider().create(comment_props(drip.url, tuning=tuning)))
    assert isinstance(error, HookError)
    assert "no complete answer within 1s; gave up after 2 attempts" in str(error)
    assert drip.connections == 2


def test_a_dripping_kubernetes_api_is_cut_at_the_steps_timeout(
    drip: DripServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", drip.url)))
    error, _elapsed = bounded(lambda: EnsureCodexSecretsProvider().create(secrets_props(timeout=2, tuning={})))
    assert isinstance(error, HookError)
    assert "no complete answer within" in str(error) or "timed out after 2s" in str(error)
    assert "sk-value" not in str(error)


def test_a_dripping_ingress_cannot_hold_the_host_probe(drip: DripServer) -> None:
    port = int(drip.url.rsplit(":", 1)[1])
    params = {
        "host": "127.0.0.1",
        "ports": [],
        "http_host": "dev-3.alimentor.example",
        "http_port": port,
        "path": "/",
        "probe_timeout": 1.5,
        "strict": True,
    }
    props = step_props("codex.check-dev-host-ports", params, timeout=30, tuning={})
    error, _elapsed = bounded(lambda: CheckDevHostPortsProvider().create(props))
    if drip.phase == "headers":
        assert isinstance(error, HookError)
        assert "no HTTP answer for Host dev-3.alimentor.example" in str(error)
        assert "no complete answer within 1.5s" in str(error)
    else:  # the status line came at once: the probe needs no body
        assert error is None


# --------------------------------------------------------------------------- scripted answers


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedApi:
    """Answers queued per method (then a default success) and when (epoch seconds) each request arrived."""

    def __init__(self, defaults: dict[str, Answer]) -> None:
        self.defaults = defaults
        self.script: dict[str, list[Answer]] = {}
        self.seen: list[tuple[str, str, float]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                api.seen.append((self.command, self.path, time.time()))
                queue = api.script.get(self.command) or []
                answer = queue.pop(0) if queue else api.defaults[self.command]
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def do_PUT(self) -> None:
                self._answer()

            def do_PATCH(self) -> None:
                self._answer()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def then(self, method: str, *answers: Answer) -> None:
        self.script.setdefault(method, []).extend(answers)

    def times(self, method: str) -> list[float]:
        return [when for seen_method, _, when in self.seen if seen_method == method]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


JSON = {"Content-Type": "application/json; charset=utf-8"}
SECONDARY = json.dumps({"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}).encode()
FORBIDDEN = json.dumps({"message": "Resource not accessible by integration"}).encode()
FAST = {"request_timeout": 2.0, "retry_delay": 0.01, "attempts": 3, "secondary_limit_wait": 60.0}
"""Back-off of 10 ms: a wait of a second between tries can only come from what the server said."""


def post_gap(api: ScriptedApi) -> float:
    first, second = api.times("POST")[:2]
    return second - first


def test_429_with_retry_after_is_retried_after_that_wait(scripted: ScriptedApi) -> None:
    scripted.then("POST", Answer(429, b"{}", {**JSON, "Retry-After": "1"}))
    created = GithubCommentProvider().create(comment_props(scripted.url, tuning=FAST))
    assert created.outs["result"] == {"comment_id": 7, "action": "created"}
    assert len(scripted.times("POST")) == 2
    assert post_gap(scripted) >= 0.95


def test_a_secondary_rate_limit_403_is_retried_after_retry_after(scripted: ScriptedApi) -> None:
    scripted.then("GET", Answer(403, SECONDARY, {**JSON, "Retry-After": "1"}))
    created = GithubCommentProvider().create(comment_props(scripted.url, tuning=FAST))
    assert created.outs["result"]["action"] == "created"
    gets = scripted.times("GET")
    assert len(gets) == 2  # limited, then the same search for an earlier comment again
    assert gets[1] - gets[0] >= 0.95


def test_a_primary_rate_limit_waits_until_the_reset_time(scripted: ScriptedApi) -> None:
    reset = str(int(time.time()) + 2)
    scripted.then(
        "GET",
        Answer(
            403,
            b'{"message": "API rate limit exceeded"}',
            {**JSON, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        ),
    )
    GithubCommentProvider().create(comment_props(scripted.url, tuning=FAST))
    assert scripted.times("GET")[1] >= int(reset)


def test_a_secondary_limit_without_a_wait_waits_a_minute_or_fails_at_once(scripted: ScriptedApi) -> None:
    scripted.then("GET", Answer(403, SECONDARY, JSON))
    started = time.monotonic()
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(scripted.url, timeout=5, tuning=FAST))
    assert time.monotonic() - started < 2  # a minute does not fit in 5 s: no pointless sleep
    assert "rate limited (HTTP 403" in str(failure.value)
    assert "asks to wait 60s, more than the" in str(failure.value)
    assert len(scripted.seen) == 1


def test_a_retry_after_longer_than_the_step_fails_at_once_saying_so(scripted: ScriptedApi) -> None:
    scripted.then("POST", Answer(429, b"{}", {**JSON, "Retry-After": "120"}))
    started = time.monotonic()
    with pytest.raises(HookError, match=r"rate limited \(HTTP 429.*asks to wait 120s, more than the \d+s left"):
        GithubCommentProvider().create(comment_props(scripted.url, timeout=5, tuning=FAST))
    assert time.monotonic() - started < 2
    assert len(scripted.times("POST")) == 1


def test_a_403_without_a_rate_limit_is_a_permission_error_and_not_retried(scripted: ScriptedApi) -> None:
    scripted.then("GET", Answer(403, FORBIDDEN, JSON))
    with pytest.raises(HookError, match=r"HTTP 403 Forbidden \(Resource not accessible by integration\)$"):
        GithubCommentProvider().create(comment_props(scripted.url, tuning=FAST))
    assert len(scripted.seen) == 1


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("GET", b"<html>Sign in to the proxy</html>"),
        ("POST", b"<html>Sign in to the proxy</html>"),
        ("GET", b'{"message": "not a list"}'),
        ("POST", b"[1, 2]"),
    ],
    ids=["list-html", "post-html", "list-object", "post-list"],
)
def test_a_success_that_is_not_the_json_github_sends_fails_clearly(
    scripted: ScriptedApi, method: str, body: bytes
) -> None:
    scripted.then(method, Answer(200, body, {"Content-Type": "text/html"}))
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(scripted.url, tuning=FAST))
    message = str(failure.value)
    assert "not JSON" in message or "not a list of comments" in message or "names no comment id" in message
    assert len(scripted.times(method)) == 1  # not retried: it is not a transient failure
    assert scripted.times("POST") == [] or method == "POST"  # a bad list is not taken for "no comment yet"


# --------------------------------------------------------------------------- where the token goes


@pytest.mark.parametrize(
    "api_url",
    [
        "http://api.github.com",
        "http://ghe.example.com/api/v3",
        "https://attacker.example",
        "https://user:pass@api.github.com",
        "ftp://api.github.com",
    ],
)
def test_the_token_goes_only_over_https_to_github(api_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    started = time.monotonic()
    shown = api_url.replace("user:pass", r"\*\*\*")  # credentials in the URL are never shown (*** instead)
    with pytest.raises(HookError, match=f"refusing apiUrl '{shown}'"):
        GithubCommentProvider().create(comment_props(api_url, tuning=FAST))
    assert time.monotonic() - started < 1  # refused before any connection


def test_github_enterprise_is_the_runners_github_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3")
    assert checked_api_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com/api/v3"
    with pytest.raises(HookError, match="goes only to api.github.com or ghe.example.com"):
        checked_api_url("https://other.example.com/api/v3")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.8.9.10"])
def test_plain_http_is_allowed_to_loopback_addresses(host: str) -> None:
    assert checked_api_url(f"http://{host}:8080") == f"http://{host}:8080"


# --------------------------------------------------------------------------- Kubernetes


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedApi]:
    deployment = {"kind": "Deployment", "status": {"conditions": [{"type": "Available", "status": "True"}]}}
    api = ScriptedApi(
        {
            "GET": Answer(200, json.dumps(deployment).encode(), JSON),
            "POST": Answer(201, b'{"kind": "Secret"}', JSON),
            "PUT": Answer(200, b'{"kind": "Secret"}', JSON),
        }
    )
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", api.url)))
    try:
        yield api
    finally:
        api.stop()


def wait_props() -> dict[str, Any]:
    params = {
        "api_version": "apps/v1",
        "plural": "deployments",
        "kind": "Deployment",
        "name": "postgres",
        "namespace": "alimentor-dev-3",
        "condition": "Available",
        "wait": 3.0,
        "poll_interval": 0.05,
    }
    return step_props("kubectl.wait", params, tuning=FAST)


def test_kubernetes_429_waits_the_retry_after_it_names(kube: ScriptedApi) -> None:
    kube.then("POST", Answer(429, b'{"kind": "Status", "message": "too many requests"}', {**JSON, "Retry-After": "1"}))
    created = EnsureCodexSecretsProvider().create(secrets_props(tuning=FAST))
    assert created.outs["result"]["written"] == ["openai-secret"]
    assert post_gap(kube) >= 0.95


def test_a_kubernetes_success_that_is_not_json_fails_clearly(kube: ScriptedApi) -> None:
    kube.then("GET", Answer(200, b"<html>login</html>", {"Content-Type": "text/html"}))
    with pytest.raises(
        HookError,
        match="deployments/postgres: answered 200 with a body that is not JSON",
    ):
        KubectlWaitProvider().create(wait_props())
    assert len(kube.seen) == 1
