"""``codex.reuse-dev-tls-secret`` must never write over its source.

When the stack's own namespace is the source (a staging stack, whose ``sourceNamespace`` is its
namespace), the certificate there is cert-manager's: its annotations and owner reference tie it to
the Certificate that renews it. A "copy" into the same namespace, or a "backup" onto itself, would
replace it with a stripped copy and cut that tie. Guard for issue #19's mutation audit.
"""

from __future__ import annotations

from codex_stacks.components.hooks.providers.tls_secret import ReuseDevTlsSecretProvider
from tests.hooks.test_kube_hooks import CERT_MANAGER_METADATA, NS, TLS, staged_tls, tls_props
from tests.support.kube_double import KubeDouble


def test_a_source_in_the_stacks_own_namespace_is_left_untouched(kube: KubeDouble) -> None:
    original = staged_tls(kube, namespace=NS)
    created = ReuseDevTlsSecretProvider().create(tls_props(source_namespace=NS))
    assert created.outs["result"] == {"copied_in": False, "present": True, "backed_up": False}
    assert [request.method for request in kube.requests] == ["GET"] * len(kube.requests)
    stored = kube.object(f"/api/v1/namespaces/{NS}/secrets/{TLS}")
    assert stored is not None
    assert stored["metadata"]["resourceVersion"] == original["metadata"]["resourceVersion"]
    assert stored["metadata"]["annotations"] == CERT_MANAGER_METADATA["annotations"]
    assert stored["metadata"]["ownerReferences"] == CERT_MANAGER_METADATA["ownerReferences"]
