"""Deleting a slot's namespace (codex_stacks/ci/namespaces.py): an API server that answers the
DELETE itself with a 503 (the double commits the deletion first, as when a proxy in front of the
API server fails after it) is asked again after the poll interval, and the wait goes on until the
namespace is gone."""

from __future__ import annotations

from codex_stacks.ci.namespaces import delete_namespace
from tests.ci.conftest import deleted_namespaces, slot_namespaces
from tests.support.kube_double import KubeDouble


def test_a_delete_answered_503_is_sent_again_after_the_poll_interval(kube_api: KubeDouble) -> None:
    kube_api.create_namespace("ns-ai-slot-3")
    kube_api.namespace_finalize_ticks = 3
    kube_api.fault("DELETE", "/api/v1/namespaces/ns-ai-slot-3", status=503)
    slept: list[float] = []

    removal = delete_namespace("ns-ai-slot-3", context=None, timeout=60, poll=2.0, sleep=slept.append)

    assert removal.state == "deleted"
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3", "ns-ai-slot-3"]
    first, second = kube_api.calls("DELETE")
    assert first.status == 503
    assert second.status != 503
    assert slept[0] == 2.0
    assert slot_namespaces(kube_api) == set()
