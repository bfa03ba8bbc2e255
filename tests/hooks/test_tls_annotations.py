"""``codex.reuse-dev-tls-secret`` keeps what cert-manager needs to recognise its certificate,
and never overwrites a copy: a copy without cert-manager's annotations, or an older certificate
over the renewed one, makes cert-manager issue again, the rate limit the step exists to spare.

cert-manager's side (cert-manager/cert-manager ``internal/controller/certificates/policies``):
the issuing controller re-issues when the Secret's ``cert-manager.io/issuer-name``,
``issuer-kind``, ``issuer-group``, ``common-name``, ``alt-names`` … annotations do not match the
Certificate, or are missing. The API double is ``tests/support/kube_double.py``'s ``KubeDouble``.
"""

from __future__ import annotations

from typing import Any

from codex_stacks.components.hooks.providers.tls_secret import ReuseDevTlsSecretProvider
from tests.hooks.helpers import step_props
from tests.support.kube_double import KubeDouble

NS = "alimentor-dev-3"
STAGING = "alimentor-staging"
TLS = "alimentor-dev-3-tls"
IN_SLOT = f"/api/v1/namespaces/{NS}/secrets/{TLS}"
IN_SOURCE = f"/api/v1/namespaces/{STAGING}/secrets/{TLS}"
CERT_MANAGER = {
    "cert-manager.io/certificate-name": TLS,
    "cert-manager.io/issuer-name": "letsencrypt",
    "cert-manager.io/issuer-kind": "ClusterIssuer",
    "cert-manager.io/issuer-group": "cert-manager.io",
    "cert-manager.io/common-name": "dev-3.alimentor.example",
    "cert-manager.io/alt-names": "dev-3.alimentor.example",
}


def props(**params: Any) -> dict[str, Any]:
    base = {
        "secret_name": TLS,
        "source_namespace": STAGING,
        "namespace": NS,
        "wait": 0.5,
        "poll_interval": 0.05,
        "backup": True,
    }
    return step_props("codex.reuse-dev-tls-secret", {**base, **params})


def tls_secret(cert: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {
            "name": TLS,
            "labels": {"controller.cert-manager.io/fao": "true"},
            "annotations": {**CERT_MANAGER, "kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "ownerReferences": [{"kind": "Certificate", "name": TLS}],
        },
        "data": {"tls.crt": cert, "tls.key": "a2V5"},
    }


def writes(kube: KubeDouble, path: str) -> int:
    collection = path.rsplit("/", 1)[0]
    return kube.count("PUT", path) + sum(1 for r in kube.requests if r.method == "POST" and r.path == collection)


def put(kube: KubeDouble, path: str, secret: dict[str, Any]) -> None:
    """``secret`` stored at ``path`` as if cert-manager (or an earlier run) had written it."""
    namespace = path.split("/")[4]
    if namespace not in kube.namespaces():
        kube.create_namespace(namespace)
    kube.seed({**secret, "metadata": {**secret["metadata"], "namespace": namespace}})


def test_the_copy_in_keeps_cert_managers_annotations(kube: KubeDouble) -> None:
    put(kube, IN_SOURCE, tls_secret("b2xk"))
    created = ReuseDevTlsSecretProvider().create(props())
    assert created.outs["result"]["copied_in"] is True
    copy = kube.objects[IN_SLOT]
    assert copy["metadata"]["annotations"] == CERT_MANAGER  # kubectl's annotation describes the original: dropped
    assert "ownerReferences" not in copy["metadata"]
    assert copy["data"]["tls.crt"] == "b2xk"


def test_the_backup_keeps_cert_managers_annotations(kube: KubeDouble) -> None:
    kube.create_namespace(STAGING)
    put(kube, IN_SLOT, tls_secret("aXNzdWVk"))  # cert-manager issued it in the slot; no backup yet
    created = ReuseDevTlsSecretProvider().create(props())
    assert created.outs["result"] == {"copied_in": False, "present": True, "backed_up": True}
    backup = kube.objects[IN_SOURCE]
    assert backup["metadata"]["annotations"] == CERT_MANAGER
    assert backup["data"]["tls.crt"] == "aXNzdWVk"


def test_an_existing_source_is_never_written_back(kube: KubeDouble) -> None:
    put(kube, IN_SOURCE, tls_secret("b2xk"))
    put(kube, IN_SLOT, tls_secret("cmVuZXdlZA=="))  # renewed in the slot since the backup
    created = ReuseDevTlsSecretProvider().create(props())
    assert created.outs["result"]["backed_up"] is False
    assert writes(kube, IN_SOURCE) == 0
    assert kube.objects[IN_SOURCE]["data"]["tls.crt"] == "b2xk"


def test_the_slots_own_certificate_is_not_overwritten_by_the_older_backup(kube: KubeDouble) -> None:
    put(kube, IN_SOURCE, tls_secret("b2xk"))
    put(kube, IN_SLOT, tls_secret("cmVuZXdlZA=="))
    created = ReuseDevTlsSecretProvider().create(props())
    assert created.outs["result"]["copied_in"] is False
    assert writes(kube, IN_SLOT) == 0
    assert kube.objects[IN_SLOT]["data"]["tls.crt"] == "cmVuZXdlZA=="
