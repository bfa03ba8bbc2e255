"""What GitHub and the Kubernetes API answer, as a step's error says it: behaviours that the
mutation run (tools/mutation.py hooks, a sample of 2026-11-30) found unguarded."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.codex_secrets import EnsureCodexSecretsProvider
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.test_github_comment import COMMENTS, comment_props
from tests.hooks.test_http_bounds import JSON, Answer, ScriptedApi, kube, secrets_props

__all__ = ["kube"]  # the fixture, used by name


@pytest.fixture
def github() -> Iterator[ScriptedApi]:
    api = ScriptedApi({"GET": Answer(200, b"[]", JSON), "POST": Answer(201, b'{"id": 7}', JSON)})
    try:
        yield api
    finally:
        api.stop()


def test_a_long_github_error_message_is_cut_to_200_characters_and_an_ellipsis(github: ScriptedApi) -> None:
    """An error answer's ``message`` is quoted, but no more than 200 characters of it."""
    long = "No access: " + "x" * 300
    github.then("GET", Answer(404, json.dumps({"message": long}).encode(), JSON))
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(github.url, tuning={"retry_delay": 0.01, "attempts": 3}))
    assert str(failure.value) == (
        f"hook codex/afterApply/step failed: GitHub GET {COMMENTS}?per_page=100&page=1: "
        f"HTTP 404 Not Found ({long[:200]}…)"
    )


def test_a_kubernetes_retry_after_longer_than_the_step_fails_at_once_saying_so(kube: ScriptedApi) -> None:
    """A 429 that asks for 100 s in a step of 3 s: no waiting, one line that says why."""
    status = {"kind": "Status", "message": "too many requests"}
    kube.then("POST", Answer(429, json.dumps(status).encode(), {**JSON, "Retry-After": "100"}))
    with pytest.raises(HookError) as failure:
        EnsureCodexSecretsProvider().create(secrets_props(timeout=3.0, tuning={"retry_delay": 0.01, "attempts": 3}))
    assert re.fullmatch(
        r"hook codex/beforeApply/step failed: POST /api/v1/namespaces/alimentor-dev-3/secrets: "
        r"HTTP 429 \(too many requests\); the API server asks to wait 100s, more than the [0-3]s left "
        r"of the step's timeout",
        str(failure.value),
    ), str(failure.value)
    assert len(kube.seen) == 1
