"""``kubectl.wait``, ``preflight`` and ``codex.reuse-dev-tls-secret`` against the Kubernetes API
double (or a scripted API server): behaviours that the mutation run (tools/mutation.py hooks,
a sample of 2026-11-30) found unguarded."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.kubectl_wait import KubectlWaitProvider
from codex_stacks.components.hooks.providers.preflight import PreflightProvider
from codex_stacks.components.hooks.providers.tls_secret import ReuseDevTlsSecretProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_http_bounds import JSON, Answer, ScriptedApi
from tests.hooks.test_kube_hooks import NS, TLS, tls_props
from tests.hooks.test_mutation_kills_kube_steps import seed_deployment, wait_props
from tests.support.kube_double import KubeDouble, write_kubeconfig


def test_wait_without_a_condition_waits_for_available(kube: KubeDouble) -> None:
    """docs/services-yaml-reference.md, ``kubectl.wait``: ``condition`` defaults to ``"Available"``."""
    seed_deployment(kube, {"Progressing": "False", "Available": "True"})
    created = KubectlWaitProvider().create(wait_props(condition=None))
    assert created.outs["result"] == {"condition": "Available", "status": "True"}


def test_the_tls_step_reads_the_slots_secret_at_its_poll_interval(kube: KubeDouble) -> None:
    """Neither namespace has the certificate: the step looks for it in the slot every
    ``pollInterval`` (0.1 s) until its ``wait`` (0.6 s) is over, then warns; at the default 2 s it
    would look only twice (at the start and when the wait is over)."""
    created = ReuseDevTlsSecretProvider().create(tls_props(wait=0.6, poll_interval=0.1))
    assert created.outs["result"] == {"copied_in": False, "present": False, "backed_up": False}
    assert created.outs["warnings"] == [f"TLS secret {TLS} is not in {NS} after 0.6s; not backed up"]
    assert kube.count("GET", f"/api/v1/namespaces/{NS}/secrets/{TLS}") >= 3


def test_preflight_names_a_missing_config_key_as_written_even_with_a_colon() -> None:
    """The message names the key the way ``requireConfig`` writes it, whatever characters it has."""
    props = step_props(
        "preflight", {"require_env": [], "check_cluster": False}, stage="beforeAll", secrets={"config:team:token": ""}
    )
    with pytest.raises(HookError) as failure:
        PreflightProvider().create(props)
    assert str(failure.value) == "hook stack/beforeAll/step failed: secret config codex:team:token is not set"


def test_preflight_says_when_the_api_server_answers_something_that_is_not_an_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/version`` answered with a JSON list (a proxy, not the API server): one clear line."""
    api = ScriptedApi({"GET": Answer(200, b"[]", JSON)})
    try:
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", api.url)))
        props = step_props("preflight", {"require_env": [], "check_cluster": True}, stage="beforeAll")
        with pytest.raises(HookError) as failure:
            PreflightProvider().create(props)
    finally:
        api.stop()
    assert str(failure.value) == (
        "hook stack/beforeAll/step failed: Kubernetes API not reachable: GET /version: the answer is not an object"
    )
