"""The Pod Security level a workload passes, from the "Baseline" table of the Pod Security
Standards (kubernetes.io/docs/concepts/security/pod-security-standards/):

- HostProcess: ``securityContext.windowsOptions.hostProcess`` must be unset or false, on the pod
  and on every container;
- Host Probes / Lifecycle Hooks: ``lifecycle.postStart/preStop.httpGet/tcpSocket.host`` must be
  unset or empty.

A pod failing a baseline control passes only ``privileged``. Written against mutants of
codex_stacks/plan/podsecurity.py that lived (issue #19).
"""

from __future__ import annotations

from typing import Any

import pytest

from codex_stacks.plan.podsecurity import level_of

RESTRICTED_CONTEXT = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "seccompProfile": {"type": "RuntimeDefault"},
    "capabilities": {"drop": ["ALL"]},
}


def deployment(**container: Any) -> dict[str, Any]:
    spec = {"name": "app", "image": "busybox", "securityContext": dict(RESTRICTED_CONTEXT), **container}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app"},
        "spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [spec]}}},
    }


def test_the_sample_container_is_restricted() -> None:
    assert level_of(deployment()) == "restricted"


def test_a_host_process_container_is_privileged() -> None:
    context = {**RESTRICTED_CONTEXT, "windowsOptions": {"hostProcess": True}}
    assert level_of(deployment(securityContext=context)) == "privileged"


@pytest.mark.parametrize("hook", ["postStart", "preStop"])
@pytest.mark.parametrize("handler", ["httpGet", "tcpSocket"])
def test_a_lifecycle_hook_aimed_at_another_host_is_privileged(hook: str, handler: str) -> None:
    action = {"port": 8080, "host": "169.254.169.254"}
    assert level_of(deployment(lifecycle={hook: {handler: action}})) == "privileged"
    del action["host"]
    assert level_of(deployment(lifecycle={hook: {handler: action}})) == "restricted"
