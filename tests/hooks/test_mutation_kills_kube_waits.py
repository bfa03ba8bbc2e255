"""``codex.reuse-dev-tls-secret`` against the Kubernetes API double:
behaviours that the mutation run (tools/mutation.py hooks, a sample of 2026-11-30) found unguarded."""

from __future__ import annotations

from codex_stacks.components.hooks.providers.tls_secret import ReuseDevTlsSecretProvider
from tests.hooks.test_kube_hooks import tls_props
from tests.hooks.test_tls_annotations import IN_SLOT, IN_SOURCE, put, tls_secret
from tests.support.kube_double import KubeDouble


def test_with_backup_off_the_slots_certificate_is_not_copied_to_the_source(kube: KubeDouble) -> None:
    """docs/services-yaml-reference.md, ``codex.reuse-dev-tls-secret``: ``backup: false`` leaves
    the source namespace alone even when it has no copy."""
    put(kube, IN_SLOT, tls_secret("aXNzdWVk"))
    kube.create_namespace(IN_SOURCE.split("/")[4])
    created = ReuseDevTlsSecretProvider().create(tls_props(backup=False))
    assert created.outs["result"] == {"copied_in": False, "present": True, "backed_up": False}
    assert kube.object(IN_SOURCE) is None
