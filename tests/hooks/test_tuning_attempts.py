"""The test-only ``tuning`` input of a step: ``attempts`` below 1 still makes one attempt (it once
made none: the GitHub step crashed on an unbound name, a Kubernetes write said the object vanished)."""

from __future__ import annotations

from codex_stacks.components.hooks.providers.codex_secrets import EnsureCodexSecretsProvider
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.test_http_bounds import ScriptedApi, comment_props, kube, secrets_props

__all__ = ["kube"]  # the scripted Kubernetes API fixture, used by name below


def test_a_github_step_tuned_to_zero_attempts_still_makes_one(scripted: ScriptedApi) -> None:
    created = GithubCommentProvider().create(comment_props(scripted.url, tuning={"attempts": 0}))
    assert created.outs["result"] == {"comment_id": 7, "action": "created"}
    assert [method for method, _, _ in scripted.seen] == ["GET", "POST"]


def test_a_kubernetes_step_tuned_to_zero_attempts_still_makes_one(kube: ScriptedApi) -> None:
    EnsureCodexSecretsProvider().create(secrets_props(tuning={"attempts": 0}))
    assert [method for method, _, _ in kube.seen] == ["POST"]
