"""What a step that talks to the Kubernetes API says when the API fails it (providers/kube.py),
whole: the verb and path, the status and the server's message, retries and the step's time.

Faults come from the API server double (tests/support/kube_double.py: Status bodies of
apimachinery's errors.go) or, where a test needs bytes no API server sends, from a scripted
loopback server (tests/hooks/test_http_bounds.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.base import HookProvider
from codex_stacks.components.hooks.providers.codex_secrets import EnsureCodexSecretsProvider
from codex_stacks.components.hooks.providers.kubectl_wait import KubectlWaitProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_error_messages_base import failure
from tests.hooks.test_http_bounds import JSON, Answer, ScriptedApi
from tests.support.kube_double import KubeDouble, free_port, write_kubeconfig

FAILED = "hook codex/afterApply/step failed: "
DEPLOYMENT = "/apis/apps/v1/namespaces/alimentor-dev-3/deployments/codex"
SECRETS = "/api/v1/namespaces/alimentor-dev-3/secrets"
CANARY = "sk-canary-kube-5a1t"


def wait(**tuning: Any) -> dict[str, Any]:
    params = {
        "api_version": "apps/v1",
        "plural": "deployments",
        "kind": "Deployment",
        "name": "codex",
        "namespace": "alimentor-dev-3",
        "condition": "Available",
        "wait": 0.0,
        "poll_interval": 0.05,
    }
    timeout = tuning.pop("timeout", 5.0)
    return step_props(
        "kubectl.wait",
        params,
        timeout=timeout,
        tuning={"request_timeout": 0.3, "retry_delay": 0.01, "attempts": 3, **tuning},
    )


def secret(**tuning: Any) -> dict[str, Any]:
    items = [{"name": "openai-secret", "key": "OPENAI_API_KEY", "config": "openaiApiKey", "env": []}]
    timeout = tuning.pop("timeout", 5.0)
    return step_props(
        "codex.ensure-codex-secrets",
        {"namespace": "alimentor-dev-3", "secrets": items},
        secrets={"openai-secret": CANARY},
        timeout=timeout,
        tuning={"request_timeout": 0.3, "retry_delay": 0.01, "attempts": 3, **tuning},
    )


Arrange = Callable[[KubeDouble], None]


def nothing(kube: KubeDouble) -> None:
    """The cluster as it is: no Deployment codex."""


DOUBLE_CASES = [
    pytest.param(
        lambda kube: kube.fault("GET", "/deployments/codex", status=403),
        KubectlWaitProvider(),
        wait(),
        f"GET {DEPLOYMENT}: HTTP 403 (injected 403)",
        id="a-refusal-is-not-retried",
    ),
    pytest.param(
        lambda kube: kube.fault("POST", "/secrets", status=500, times=3),
        EnsureCodexSecretsProvider(),
        secret(),
        f"POST {SECRETS}: HTTP 500 (Internal error occurred: injected); gave up after 3 attempts",
        id="500-three-times",
    ),
    pytest.param(
        lambda kube: kube.fault("GET", "/deployments/codex", status=503, times=2),
        KubectlWaitProvider(),
        wait(attempts=2),
        f"GET {DEPLOYMENT}: HTTP 503 (the server is currently unable to handle the request (injected)); "
        "gave up after 2 attempts",
        id="503-as-often-as-the-attempts",
    ),
    pytest.param(
        lambda kube: kube.fault("POST", "/secrets", status=429),
        EnsureCodexSecretsProvider(),
        secret(timeout=0.45),
        f"POST {SECRETS}: HTTP 429 (Too many requests, please try again later.); the API server asks to wait 1s, "
        "more than the 0s left of the step's timeout",
        id="a-retry-after-past-the-timeout",
    ),
    pytest.param(
        lambda kube: (
            kube.fault("POST", "/secrets", status=409, times=3),
            kube.fault("PUT", "/secrets", status=404, times=3),
        ),
        EnsureCodexSecretsProvider(),
        secret(),
        f"could not write {SECRETS}/openai-secret: it vanished between create and replace",
        id="created-by-another-then-gone-every-time",
    ),
    pytest.param(
        lambda kube: kube.fault("POST", "/secrets", delay=0.5, times=5),
        EnsureCodexSecretsProvider(),
        secret(timeout=0.2, request_timeout=5),
        f"POST {SECRETS}: timed out after 0.2s (the step's timeout)",
        id="the-steps-timeout-ends-the-retries",
    ),
    pytest.param(
        lambda kube: kube.fault("POST", "/secrets", delay=0.5, times=3),
        EnsureCodexSecretsProvider(),
        secret(request_timeout=0.1),
        f"POST {SECRETS}: no complete answer within 0.1s; gave up after 3 attempts",
        id="each-request-is-bounded",
    ),
]


@pytest.mark.parametrize(("arrange", "provider", "props", "expected"), DOUBLE_CASES)
def test_an_api_server_failure_says(
    kube: KubeDouble, arrange: Arrange, provider: HookProvider, props: dict[str, Any], expected: str
) -> None:
    arrange(kube)
    text = failure(provider, props)
    assert text == FAILED + expected
    assert CANARY not in text


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedApi]:
    """One server for the file (stopping one takes half a second)."""
    ready = {"kind": "Deployment", "status": {"conditions": [{"type": "Available", "status": "True"}]}}
    scripted = ScriptedApi({"GET": Answer(200, json.dumps(ready).encode(), JSON)})
    try:
        yield scripted
    finally:
        scripted.stop()


@pytest.fixture
def api(server: ScriptedApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScriptedApi:
    """A loopback server answering what the test queues, else an Available Deployment."""
    server.script.clear()
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", server.url)))
    return server


HTML = {"Content-Type": "text/html"}


def status(message: str) -> bytes:
    return json.dumps({"kind": "Status", "status": "Failure", "message": message}).encode()


SCRIPTED_CASES = [
    pytest.param(
        [Answer(200, b"<html>sign in</html>", HTML)],
        {},
        f"GET {DEPLOYMENT}: answered 200 with a body that is not JSON",
        id="a-2xx-that-is-not-json",
    ),
    pytest.param([Answer(403, b"<html>denied</html>", HTML)], {}, f"GET {DEPLOYMENT}: HTTP 403", id="an-html-refusal"),
    pytest.param(
        [Answer(200, b'[{"kind": "Deployment"}]', JSON)],
        {},
        f"GET {DEPLOYMENT}: the answer is not an object",
        id="a-list-for-an-object",
    ),
    pytest.param(
        [Answer(403, status("m" * 200), JSON)],
        {},
        f"GET {DEPLOYMENT}: HTTP 403 ({'m' * 200})",
        id="a-200-character-message-whole",
    ),
    pytest.param(
        [Answer(403, status("m" * 200 + "X"), JSON)],
        {},
        f"GET {DEPLOYMENT}: HTTP 403 ({'m' * 200}…)",
        id="a-201-character-message-cut-at-200",
    ),
    pytest.param(
        [Answer(503, status("busy"), {**JSON, "Retry-After": "30"})],
        {"timeout": 5.0},
        f"GET {DEPLOYMENT}: HTTP 503 (busy); the API server asks to wait 30s, more than the 5s left "
        "of the step's timeout",
        id="a-503-asking-for-more-than-the-step-has",
    ),
]


@pytest.mark.parametrize(("answers", "tuning", "expected"), SCRIPTED_CASES)
def test_an_unusual_answer_says(api: ScriptedApi, answers: list[Answer], tuning: dict[str, Any], expected: str) -> None:
    api.then("GET", *answers)
    assert failure(KubectlWaitProvider(), wait(**tuning)) == FAILED + expected


def test_a_refused_connection_says_so_after_every_attempt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{free_port()}")))
    assert failure(KubectlWaitProvider(), wait()) == (
        f"{FAILED}GET {DEPLOYMENT}: ConnectionRefusedError: [Errno 111] Connection refused; gave up after 3 attempts"
    )


def test_no_kubeconfig_and_no_pod_says_where_to_set_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert failure(KubectlWaitProvider(), wait()) == (
        f"{FAILED}no Kubernetes configuration: Invalid kube-config file. No configuration found. "
        "(set KUBECONFIG or run in a pod)"
    )


def test_a_certificate_authority_that_is_not_a_certificate_says_the_tls_settings_do_not_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenSSL's reason, with the line of CPython's _ssl.c (which changes between releases) left out."""
    (tmp_path / "ca.pem").write_text("not a certificate", encoding="utf-8")
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority": str(tmp_path / "ca.pem")},
            }
        ],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    (tmp_path / "kubeconfig").write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    text = re.sub(r"\(_ssl\.c:\d+\)", "(_ssl.c:N)", failure(KubectlWaitProvider(), wait()))
    assert text == (
        f"{FAILED}the kubeconfig's TLS settings do not load: "
        "[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found (_ssl.c:N)"
    )
