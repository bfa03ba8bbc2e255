"""Kubernetes-facing hooks against a loopback API double: real client, real HTTP, with faults."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.codex_secrets import EnsureCodexSecretsProvider
from codex_stacks.components.hooks.providers.kubectl_wait import KubectlWaitProvider
from codex_stacks.components.hooks.providers.preflight import PreflightProvider
from codex_stacks.components.hooks.providers.tls_secret import ReuseDevTlsSecretProvider
from tests.hooks.helpers import step_props
from tests.support.kube_double import KubeDouble, free_port, write_kubeconfig

NS = "alimentor-dev-3"
STAGING = "alimentor-staging"
TLS = "alimentor-dev-3-tls"
SECRETS = f"/api/v1/namespaces/{NS}/secrets"
CANARY = "sk-canary-7f3a9c"


def later(seconds: float, action: Any) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def secret_value(kube: KubeDouble, name: str, key: str) -> str:
    stored = kube.object(f"{SECRETS}/{name}")
    assert stored is not None, f"no Secret {name} in {NS}"
    return base64.b64decode(stored["data"][key]).decode()


# --------------------------------------------------------------------------- codex secrets


def codex_props(secrets: dict[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
    items = [
        {"name": "openai-secret", "key": "OPENAI_API_KEY", "config": "openaiApiKey", "env": ["OPENAI_API_KEY"]},
        {"name": "github-secret", "key": "CODEX_GH_PAT", "config": "githubToken", "env": ["CODEX_GH_PAT"]},
        {"name": "context7-secret", "key": "CONTEXT7_API_KEY", "config": "context7ApiKey", "env": ["CONTEXT7_API_KEY"]},
    ]
    return step_props(
        "codex.ensure-codex-secrets",
        {"namespace": NS, "secrets": items},
        stage="beforeApply",
        secrets=secrets,
        **kwargs,
    )


@pytest.fixture
def no_credentials_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "CODEX_GH_PAT", "GITHUB_TOKEN", "CONTEXT7_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_credentials_env")
def test_codex_secrets_from_config_then_env_and_a_missing_one_is_skipped(
    kube: KubeDouble, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT7_API_KEY", "ctx7-from-env")
    monkeypatch.setenv("OPENAI_API_KEY", "env-loses-to-config")
    created = EnsureCodexSecretsProvider().create(codex_props({"openai-secret": CANARY}))
    result = created.outs["result"]
    assert result == {"namespace": NS, "written": ["openai-secret", "context7-secret"], "skipped": ["github-secret"]}
    assert secret_value(kube, "openai-secret", "OPENAI_API_KEY") == CANARY
    assert secret_value(kube, "context7-secret", "CONTEXT7_API_KEY") == "ctx7-from-env"
    assert kube.object(f"{SECRETS}/github-secret") is None  # never an empty secret
    assert kube.object(f"{SECRETS}/openai-secret")["metadata"]["labels"] == {  # type: ignore[index]
        "app.kubernetes.io/managed-by": "codex-stacks"
    }
    assert created.outs["warnings"] == [
        "no value for Secret github-secret (set codex:githubToken, CODEX_GH_PAT); not created"
    ]
    assert {request.authorization for request in kube.requests} == {"Bearer double-token"}
    # the secret value is only under the secret input key, never in results, warnings or logs
    plain = {key: value for key, value in created.outs.items() if key != "secrets"}
    assert CANARY not in repr(plain)
    assert CANARY not in capfd.readouterr().err


@pytest.mark.usefixtures("no_credentials_env")
def test_codex_secrets_second_run_replaces_idempotently(kube: KubeDouble) -> None:
    props = codex_props({"openai-secret": "v1", "github-secret": "gh", "context7-secret": "c7"})
    EnsureCodexSecretsProvider().create(props)
    props["secrets"]["openai-secret"] = "v2"
    EnsureCodexSecretsProvider().update("id", {}, props)
    assert secret_value(kube, "openai-secret", "OPENAI_API_KEY") == "v2"
    assert secret_value(kube, "github-secret", "CODEX_GH_PAT") == "gh"
    assert kube.count("POST") == 6  # 3 created, 3 answered 409 AlreadyExists …
    assert kube.count("PUT") == 3  # … and were replaced
    assert len([path for path in kube.objects if path.startswith(SECRETS)]) == 3


@pytest.mark.usefixtures("no_credentials_env")
def test_codex_secrets_retry_500_and_409_then_succeed(kube: KubeDouble) -> None:
    kube.fault("POST", "/secrets", status=500)
    kube.fault("POST", "/secrets", status=409)  # a racing writer … that then vanished
    created = EnsureCodexSecretsProvider().create(codex_props({"openai-secret": "v"}))
    assert created.outs["result"]["written"] == ["openai-secret"]
    assert secret_value(kube, "openai-secret", "OPENAI_API_KEY") == "v"


@pytest.mark.usefixtures("no_credentials_env")
def test_codex_secrets_persistent_500_gives_up_with_a_clear_error(kube: KubeDouble) -> None:
    kube.fault("POST", "/secrets", status=500, times=10)
    with pytest.raises(HookError) as failure:
        EnsureCodexSecretsProvider().create(codex_props({"openai-secret": CANARY}))
    message = str(failure.value)
    assert (
        "POST /api/v1/namespaces/alimentor-dev-3/secrets: HTTP 500 (Internal error occurred: injected); "
        "gave up after 3 attempts" in message
    )
    assert CANARY not in message
    assert kube.count("POST") == 3


@pytest.mark.usefixtures("no_credentials_env")
def test_codex_secrets_slow_server_times_out_without_hanging(kube: KubeDouble) -> None:
    kube.fault("POST", "/secrets", delay=0.6, times=10)
    started = time.monotonic()
    with pytest.raises(HookError, match="no complete answer within 0.3s"):
        EnsureCodexSecretsProvider().create(codex_props({"openai-secret": "v"}))
    assert time.monotonic() - started < 1.5  # 3 attempts of 0.3 s request timeout


@pytest.mark.usefixtures("no_credentials_env")
def test_codex_secrets_connection_refused_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "refused", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    started = time.monotonic()
    with pytest.raises(HookError, match=r"Connection refused.*gave up after 3 attempts"):
        EnsureCodexSecretsProvider().create(codex_props({"openai-secret": "v"}))
    assert time.monotonic() - started < 1.0


def test_step_timeout_bounds_all_retries(kube: KubeDouble) -> None:
    kube.fault("POST", "/secrets", status=500, delay=0.15, times=50)
    props = codex_props({"openai-secret": "v"}, timeout=0.4, tuning={"request_timeout": 5, "attempts": 50})
    started = time.monotonic()
    with pytest.raises(HookError, match="timed out after 0.4s"):
        EnsureCodexSecretsProvider().create(props)
    assert time.monotonic() - started < 1.0


def test_no_kubeconfig_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(HookError, match="no Kubernetes configuration"):
        EnsureCodexSecretsProvider().create(codex_props({"openai-secret": "v"}))


# --------------------------------------------------------------------------- TLS secret


def tls_props(**params: Any) -> dict[str, Any]:
    return step_props(
        "codex.reuse-dev-tls-secret",
        {
            "secret_name": TLS,
            "source_namespace": STAGING,
            "namespace": NS,
            "wait": 1.0,
            "poll_interval": 0.05,
            "backup": True,
            **params,
        },
    )


CERT_MANAGER_METADATA = {
    "labels": {"controller.cert-manager.io/fao": "true"},
    "annotations": {"cert-manager.io/certificate-name": TLS},
    "ownerReferences": [{"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "name": TLS, "uid": "c-1"}],
}


def staged_tls(kube: KubeDouble, namespace: str = STAGING) -> dict[str, Any]:
    """The certificate cert-manager issued in ``namespace`` (created first if the cluster lacks it)."""
    if namespace not in kube.namespaces():
        kube.create_namespace(namespace)
    return kube.seed(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {"name": TLS, "namespace": namespace, **CERT_MANAGER_METADATA},
            "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"},
        }
    )


def test_tls_secret_is_copied_in_stripped_and_the_source_is_left_alone(kube: KubeDouble) -> None:
    staged_tls(kube)
    created = ReuseDevTlsSecretProvider().create(tls_props())
    assert created.outs["result"] == {"copied_in": True, "present": True, "backed_up": False}
    copy_in = next(request.body for request in kube.requests if request.method == "POST")
    assert copy_in["metadata"] == {
        "name": TLS,
        "labels": {"controller.cert-manager.io/fao": "true"},
        "annotations": {"cert-manager.io/certificate-name": TLS},
        "namespace": NS,
    }
    assert copy_in["data"] == {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}
    assert copy_in["type"] == "kubernetes.io/tls"
    assert kube.object(f"{SECRETS}/{TLS}")["data"]["tls.key"] == "a2V5"  # type: ignore[index]
    # the source is there: it is not written back (tests/hooks/test_tls_annotations.py)
    assert kube.count("PUT", f"/namespaces/{STAGING}/secrets") == 0
    assert kube.count("POST", f"/namespaces/{STAGING}/secrets") == 0


def test_tls_secret_waits_for_cert_manager_then_backs_up(kube: KubeDouble) -> None:
    kube.create_namespace(STAGING)
    issued = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": TLS, "namespace": NS},
        "data": {"tls.crt": "bmV3"},
    }
    timer = later(0.2, lambda: kube.seed(issued))
    try:
        created = ReuseDevTlsSecretProvider().create(tls_props())
    finally:
        timer.cancel()
    assert created.outs["result"] == {"copied_in": False, "present": True, "backed_up": True}
    assert kube.object(f"/api/v1/namespaces/{STAGING}/secrets/{TLS}")["data"] == {"tls.crt": "bmV3"}  # type: ignore[index]


def test_tls_backup_into_a_missing_source_namespace_is_a_clear_error(kube: KubeDouble) -> None:
    """A cluster without the staging namespace answers 404 for the backup: the step says which namespace."""
    kube.seed({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": TLS, "namespace": NS}, "data": {"a": "Yg=="}})
    with pytest.raises(HookError) as failure:
        ReuseDevTlsSecretProvider().create(tls_props(wait=0.1))
    assert str(failure.value) == (
        "hook codex/afterApply/step failed: "
        f'POST /api/v1/namespaces/{STAGING}/secrets: HTTP 404 (namespaces "{STAGING}" not found)'
    )
    assert kube.object(f"/api/v1/namespaces/{STAGING}/secrets/{TLS}") is None


def test_tls_secret_missing_after_the_bounded_wait_is_a_warning(kube: KubeDouble) -> None:
    started = time.monotonic()
    created = ReuseDevTlsSecretProvider().create(tls_props(wait=0.3))
    assert 0.3 <= time.monotonic() - started < 1.0
    assert created.outs["result"] == {"copied_in": False, "present": False, "backed_up": False}
    assert created.outs["warnings"] == [f"TLS secret {TLS} is not in {NS} after 0.3s; not backed up"]
    assert kube.count("POST") == 0


def test_tls_secret_second_run_is_idempotent_and_survives_faults(kube: KubeDouble) -> None:
    staged_tls(kube)
    ReuseDevTlsSecretProvider().create(tls_props())
    kube.fault("GET", f"/namespaces/{STAGING}/secrets", status=503)
    kube.fault("PUT", f"/namespaces/{NS}/secrets", status=409)
    again = ReuseDevTlsSecretProvider().update("id", {}, tls_props())
    assert again.outs["result"] == {"copied_in": False, "present": True, "backed_up": False}
    assert sorted(path for path in kube.objects if path.endswith(TLS)) == [
        f"/api/v1/namespaces/{NS}/secrets/{TLS}",
        f"/api/v1/namespaces/{STAGING}/secrets/{TLS}",
    ]


# --------------------------------------------------------------------------- kubectl.wait


DEPLOYMENT = f"/apis/apps/v1/namespaces/{NS}/deployments/codex"


def wait_props(**params: Any) -> dict[str, Any]:
    return step_props(
        "kubectl.wait",
        {
            "api_version": "apps/v1",
            "plural": "deployments",
            "kind": "Deployment",
            "name": "codex",
            "namespace": NS,
            "condition": "Available",
            "wait": 1.0,
            "poll_interval": 0.05,
            **params,
        },
    )


def deployment(status: str, name: str = "codex") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"replicas": 1},
        "status": {"conditions": [{"type": "Available", "status": status}]},
    }


def test_wait_returns_once_the_condition_is_true(kube: KubeDouble) -> None:
    kube.seed(deployment("False"))
    kube.fault("GET", "/deployments/codex", status=500)
    timer = later(0.2, lambda: kube.update_status(DEPLOYMENT, deployment("True")["status"]))
    try:
        created = KubectlWaitProvider().create(wait_props())
    finally:
        timer.cancel()
    assert created.outs["result"] == {"condition": "Available", "status": "True"}


def test_wait_times_out_naming_what_it_saw(kube: KubeDouble) -> None:
    kube.seed(deployment("False"))
    with pytest.raises(HookError, match=r"Deployment/codex: Available is False after 0.2s"):
        KubectlWaitProvider().create(wait_props(wait=0.2))
    with pytest.raises(HookError, match=r"Deployment/ghost: Available is absent after 0.1s"):
        KubectlWaitProvider().create(wait_props(name="ghost", wait=0.1))


# --------------------------------------------------------------------------- preflight


def test_preflight_passes_when_everything_is_there(kube: KubeDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_TEST_NEEDED", "1")
    props = step_props(
        "preflight",
        {"require_env": ["CODEX_TEST_NEEDED"], "check_cluster": True},
        secrets={"config:githubToken": "ghp"},
    )
    assert PreflightProvider().create(props).outs["result"] == {"kubernetes": "v1.35.0"}  # the server's gitVersion
    assert [(request.method, request.path) for request in kube.requests] == [("GET", "/version")]


def test_preflight_names_every_problem_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{free_port()}")))
    monkeypatch.delenv("CODEX_TEST_MISSING", raising=False)
    props = step_props("preflight", {"require_env": ["CODEX_TEST_MISSING"], "check_cluster": True})
    props["secret_keys"] = ["config:githubToken"]
    with pytest.raises(HookError) as failure:
        PreflightProvider().create(props)
    message = str(failure.value)
    assert "environment variable CODEX_TEST_MISSING is not set" in message
    assert "secret config codex:githubToken is not set" in message
    assert "Kubernetes API not reachable" in message
