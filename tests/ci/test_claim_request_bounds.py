"""Every request the slot claims send to the Kubernetes API is bounded: urllib3 gets a 30-second
total timeout for listing, creating, replacing and deleting Leases, so an API server that stops
answering cannot hold a CI job for longer than that per request (then the retries take over).
Read off the transport (the urllib3 pool the kubernetes client sends through), so no test waits
30 seconds for a silent server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from codex_stacks.ci.claims import ClaimStore
from codex_stacks.ci.slots import Binding
from tests.ci.conftest import REPOSITORY, admin_client
from tests.support.kube_double import KubeDouble


def test_every_claim_request_has_a_30_second_limit(kube_api: KubeDouble) -> None:
    client = admin_client(kube_api)
    sent: list[tuple[str, Any]] = []
    pool = client.rest_client.pool_manager
    real = pool.request

    def recording(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        sent.append((method, kwargs.get("timeout")))
        return real(method, url, *args, **kwargs)

    pool.request = recording
    store = ClaimStore(client=client, repository=REPOSITORY, project="codex")
    binding = Binding(repository=REPOSITORY, kind="issue", number=5)
    claim = store.claim_slot(1, binding, now=datetime.now(UTC))
    assert claim is not None
    assert [c.slot for c in store.slots()] == [1]
    assert store.release(claim)
    assert {method for method, _ in sent} >= {"GET", "POST", "DELETE"}
    totals = {(method, getattr(timeout, "total", None)) for method, timeout in sent}
    assert totals == {(method, 30) for method, _ in sent}
