"""``kubectl.wait`` and ``codex.reuse-dev-tls-secret`` against the Kubernetes API double:
behaviours that the mutation run (tools/mutation.py hooks, a sample of 2026-11-30) found unguarded."""

from __future__ import annotations

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.kubectl_wait import KubectlWaitProvider
from codex_stacks.components.hooks.providers.tls_secret import ReuseDevTlsSecretProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_kube_hooks import NS, tls_props
from tests.hooks.test_mutation_kills_kube_steps import seed_deployment
from tests.hooks.test_tls_annotations import IN_SLOT, IN_SOURCE, put, tls_secret
from tests.support.kube_double import KubeDouble


def test_the_last_read_of_a_wait_comes_when_the_wait_is_over_not_later(kube: KubeDouble) -> None:
    """``wait`` 0.3 s in a step of 0.8 s, ``pollInterval`` 2 s: the step sleeps only until its
    wait is over, reads once more and reports the condition, well inside its own timeout."""
    seed_deployment(kube, {"Available": "False"})
    params = {
        "api_version": "apps/v1",
        "plural": "deployments",
        "kind": "Deployment",
        "name": "codex",
        "namespace": NS,
        "condition": "Available",
        "wait": 0.3,
        "poll_interval": 2.0,
    }
    with pytest.raises(HookError) as failure:
        KubectlWaitProvider().create(step_props("kubectl.wait", params, timeout=0.8))
    assert str(failure.value) == "hook codex/afterApply/step failed: Deployment/codex: Available is False after 0.3s"


def test_with_backup_off_the_slots_certificate_is_not_copied_to_the_source(kube: KubeDouble) -> None:
    """docs/services-yaml-reference.md, ``codex.reuse-dev-tls-secret``: ``backup: false`` leaves
    the source namespace alone even when it has no copy."""
    put(kube, IN_SLOT, tls_secret("aXNzdWVk"))
    kube.create_namespace(IN_SOURCE.split("/")[4])
    created = ReuseDevTlsSecretProvider().create(tls_props(backup=False))
    assert created.outs["result"] == {"copied_in": False, "present": True, "backed_up": False}
    assert kube.object(IN_SOURCE) is None
