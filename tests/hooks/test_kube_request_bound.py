"""The wall-clock bound of each Kubernetes API request of the hooks (docs/security-workflows.md,
"Kubernetes API calls": ``min(10 s, the step's time left)``), read off the transport as the step
calls it, so no test waits 10 s to see it."""

from __future__ import annotations

from codex_stacks.components.hooks.providers.codex_secrets import EnsureCodexSecretsProvider
from tests.hooks.test_http_bounds import ScriptedApi, kube, secrets_props

__all__ = ["kube"]  # the scripted Kubernetes API fixture, used by name below


def test_each_kubernetes_request_is_bounded_by_10_seconds_when_the_step_has_more_time(
    kube: ScriptedApi, bounds: list[tuple[str, float]]
) -> None:
    """Production tuning and a step of ten minutes: every request gets 10 s, not the step's time."""
    EnsureCodexSecretsProvider().create(secrets_props(timeout=600.0, tuning={}))
    assert bounds, "the step sent no request"
    assert {timeout for _, timeout in bounds} == {10.0}


def test_a_kubernetes_request_gets_only_the_time_the_step_has_left(
    kube: ScriptedApi, bounds: list[tuple[str, float]]
) -> None:
    """A step of 4 s: no request may run past it."""
    EnsureCodexSecretsProvider().create(secrets_props(timeout=4.0, tuning={}))
    assert bounds, "the step sent no request"
    assert all(0.0 < timeout <= 4.0 for _, timeout in bounds), bounds
