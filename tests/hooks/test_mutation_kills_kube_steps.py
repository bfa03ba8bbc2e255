"""``kubectl.wait``, ``preflight`` and ``codex.reuse-dev-tls-secret`` against the Kubernetes API
double: behaviours that the mutation run (tools/mutation.py hooks) found unguarded."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.kubectl_wait import KubectlWaitProvider
from codex_stacks.components.hooks.providers.preflight import PreflightProvider
from codex_stacks.components.hooks.providers.tls_secret import ReuseDevTlsSecretProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_http_bounds import JSON, Answer, ScriptedApi
from tests.hooks.test_kube_hooks import NS, STAGING, TLS, staged_tls, tls_props
from tests.support.kube_double import KubeDouble, write_kubeconfig

DEPLOYMENT = f"/apis/apps/v1/namespaces/{NS}/deployments/codex"


def seed_deployment(kube: KubeDouble, conditions: dict[str, str]) -> None:
    kube.seed(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "codex", "namespace": NS},
            "spec": {"replicas": 1},
            "status": {"conditions": [{"type": kind, "status": status} for kind, status in conditions.items()]},
        }
    )


def wait_props(**params: Any) -> dict[str, Any]:
    """``kubectl.wait`` on Deployment codex; ``params`` replace or (value None) leave out a parameter."""
    base: dict[str, Any] = {
        "api_version": "apps/v1",
        "plural": "deployments",
        "kind": "Deployment",
        "name": "codex",
        "namespace": NS,
        "condition": "Available",
        "wait": 1.0,
        "poll_interval": 0.05,
    }
    base.update(params)
    return step_props("kubectl.wait", {key: value for key, value in base.items() if value is not None}, timeout=10)


def test_wait_watches_the_condition_it_names_not_available(kube: KubeDouble) -> None:
    seed_deployment(kube, {"Available": "True", "Progressing": "False"})
    with pytest.raises(HookError) as failure:
        KubectlWaitProvider().create(wait_props(condition="Progressing", wait=0.3))
    assert str(failure.value) == (
        "hook codex/afterApply/step failed: Deployment/codex: Progressing is False after 0.3s"
    )


def test_wait_reads_every_two_seconds_without_poll_interval(kube: KubeDouble) -> None:
    """docs/services-yaml-reference.md: ``pollInterval`` defaults to 2.0 seconds. Within a wait of
    2.6 s that is a read at the start, one after 2 s and a last one when the wait is over."""
    seed_deployment(kube, {"Available": "False"})
    with pytest.raises(HookError, match=r"Deployment/codex: Available is False after 2.6s$"):
        KubectlWaitProvider().create(wait_props(wait=2.6, poll_interval=None))
    assert kube.count("GET", DEPLOYMENT) == 3


def test_a_wait_shorter_than_the_poll_interval_ends_on_time(kube: KubeDouble) -> None:
    seed_deployment(kube, {"Available": "False"})
    started = time.monotonic()
    # a 1 s wait (the first read may take a good part of a second on a loaded machine) and a
    # 5 s poll: the last read comes when the wait is over, not a poll later
    with pytest.raises(HookError, match=r"Available is False after 1s$"):
        KubectlWaitProvider().create(wait_props(wait=1.0, poll_interval=5))
    assert time.monotonic() - started < 3.5
    assert kube.count("GET", DEPLOYMENT) == 2


def test_preflight_names_its_problems_in_one_line_separated_by_semicolons(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_TEST_FIRST", raising=False)
    monkeypatch.delenv("CODEX_TEST_SECOND", raising=False)
    props = step_props(
        "preflight",
        {"require_env": ["CODEX_TEST_FIRST", "CODEX_TEST_SECOND"], "check_cluster": False},
        stage="beforeAll",
    )
    with pytest.raises(HookError) as failure:
        PreflightProvider().create(props)
    assert str(failure.value) == (
        "hook stack/beforeAll/step failed: environment variable CODEX_TEST_FIRST is not set; "
        "environment variable CODEX_TEST_SECOND is not set"
    )


def test_the_tls_step_needs_no_right_to_list_secrets(
    kube: KubeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runner whose Role may get, create and update Secrets by name (the least this step needs)
    but not list them: the copy in and the check that it arrived read the Secret by its name."""
    staged_tls(kube)
    token = kube.add_user("runner-token", "codex-runner")
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "update"]}]
    for namespace in (NS, STAGING):
        kube.bind("codex-runner", rules, namespace=namespace, name="codex-runner-secrets")
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig(tmp_path / "runner-kubeconfig", token=token)))
    created = ReuseDevTlsSecretProvider().create(tls_props())
    assert created.outs["result"] == {"copied_in": True, "present": True, "backed_up": False}
    assert kube.object(f"/api/v1/namespaces/{NS}/secrets/{TLS}") is not None
    assert [request.status for request in kube.requests if request.status in (401, 403)] == []


def test_a_300_answer_from_the_api_server_is_an_error_not_the_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only 2xx is a success (docs/security-workflows.md: no redirect is followed): an answer 300
    that carries a ready Deployment (a proxy's page, say) is not taken for the object."""
    ready = {"kind": "Deployment", "status": {"conditions": [{"type": "Available", "status": "True"}]}}
    api = ScriptedApi({"GET": Answer(300, json.dumps(ready).encode(), JSON)})
    try:
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", api.url)))
        with pytest.raises(HookError, match=rf"GET {DEPLOYMENT}: HTTP 300$"):
            KubectlWaitProvider().create(wait_props())
        assert len(api.seen) == 1  # not retried: a 300 will not turn into the object
    finally:
        api.stop()
