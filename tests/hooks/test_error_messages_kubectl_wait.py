"""What a ``kubectl.wait`` step says when its condition is not met in time (providers/kubectl_wait.py)."""

from __future__ import annotations

from typing import Any

import pytest

from codex_stacks.components.hooks.providers.kubectl_wait import KubectlWaitProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_error_messages_base import failure
from tests.support.kube_double import KubeDouble


def wait(name: str, condition: str, seconds: float) -> dict[str, Any]:
    params = {
        "api_version": "apps/v1",
        "plural": "deployments",
        "kind": "Deployment",
        "name": name,
        "namespace": "alimentor-dev-3",
        "condition": condition,
        "wait": seconds,
        "poll_interval": 0.05,
    }
    return step_props("kubectl.wait", params)


@pytest.mark.parametrize(
    ("name", "condition", "seconds", "expected"),
    [
        pytest.param("codex", "Available", 0.1, "Deployment/codex: Available is False after 0.1s", id="false"),
        pytest.param("codex", "Progressing", 0, "Deployment/codex: Progressing is Unknown after 0s", id="unknown"),
        pytest.param("codex", "Ready", 0.05, "Deployment/codex: Ready is absent after 0.05s", id="no-such-condition"),
        pytest.param("ghost", "Available", 0.1, "Deployment/ghost: Available is absent after 0.1s", id="no-object"),
    ],
)
def test_a_wait_that_ends_unmet_says(
    kube: KubeDouble, name: str, condition: str, seconds: float, expected: str
) -> None:
    kube.seed(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "codex", "namespace": "alimentor-dev-3"},
            "spec": {"replicas": 1},
            "status": {
                "conditions": [{"type": "Available", "status": "False"}, {"type": "Progressing", "status": "Unknown"}]
            },
        }
    )
    assert (
        failure(KubectlWaitProvider(), wait(name, condition, seconds))
        == f"hook codex/afterApply/step failed: {expected}"
    )
