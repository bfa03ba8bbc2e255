"""What ``codex.reuse-dev-tls-secret`` says when the certificate is not there or cannot be copied
(providers/tls_secret.py), whole: a warning in state and log, or the step's error."""

from __future__ import annotations

from typing import Any

import pytest

from codex_stacks.components.hooks.providers.tls_secret import ReuseDevTlsSecretProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_error_messages_base import failure
from tests.support.kube_double import KubeDouble


def tls(seconds: float) -> dict[str, Any]:
    params = {
        "secret_name": "alimentor-dev-3-tls",
        "source_namespace": "alimentor-staging",
        "namespace": "alimentor-dev-3",
        "wait": seconds,
        "poll_interval": 0.05,
        "backup": True,
    }
    return step_props("codex.reuse-dev-tls-secret", params, step="tls")


@pytest.mark.parametrize(
    ("seconds", "shown"), [pytest.param(0.1, "0.1s", id="wait"), pytest.param(0, "0s", id="no-wait")]
)
def test_a_certificate_that_does_not_come_is_a_warning(
    kube: KubeDouble, capfd: pytest.CaptureFixture[str], seconds: float, shown: str
) -> None:
    created = ReuseDevTlsSecretProvider().create(tls(seconds))
    warning = f"TLS secret alimentor-dev-3-tls is not in alimentor-dev-3 after {shown}; not backed up"
    assert created.outs["warnings"] == [warning]
    assert capfd.readouterr().err == f"warning: hook codex/afterApply/tls: {warning}\n"


def test_a_backup_into_a_namespace_the_cluster_lacks_is_an_error_naming_it(kube: KubeDouble) -> None:
    kube.seed(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "alimentor-dev-3-tls", "namespace": "alimentor-dev-3"},
            "data": {"tls.crt": "Y2VydA=="},
        }
    )
    assert failure(ReuseDevTlsSecretProvider(), tls(0)) == (
        "hook codex/afterApply/tls failed: "
        'POST /api/v1/namespaces/alimentor-staging/secrets: HTTP 404 (namespaces "alimentor-staging" not found)'
    )
