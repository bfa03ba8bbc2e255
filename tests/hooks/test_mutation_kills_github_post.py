"""``github.comment``'s retries of its POST: behaviours that the mutation run (tools/mutation.py
hooks) found unguarded."""

from __future__ import annotations

import pytest

from codex_stacks.components.hooks.providers import github_comment
from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.test_github_comment import COMMENTS, comment_props
from tests.hooks.test_http_bounds import JSON, Answer, ScriptedApi


def test_a_failing_post_is_tried_again_after_a_doubling_back_off(
    scripted: ScriptedApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 502 that names no Retry-After: after each failed POST the step looks for the comment it
    may have made, then waits retry_delay, then twice that, before the next POST (the same back-off
    as every other request: a struggling GitHub is not asked again at a steady pace)."""
    monkeypatch.setattr(github_comment, "LIST_LAG", 0.0)  # one look for the comment, no waiting for replicas
    scripted.then("POST", *[Answer(502, b'{"message": "Server Error"}', JSON)] * 3)
    tuning = {"request_timeout": 2.0, "retry_delay": 0.2, "attempts": 3}
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(scripted.url, tuning=tuning))
    assert str(failure.value) == (
        f"hook codex/afterApply/step failed: GitHub POST {COMMENTS}: "
        "HTTP 502 Bad Gateway (Server Error); gave up after 3 attempts"
    )
    first, second, third = scripted.times("POST")
    assert second - first >= 0.19
    assert third - second >= 0.39


def test_a_post_answered_503_with_retry_after_waits_what_github_asks(
    scripted: ScriptedApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 503 naming ``Retry-After: 1``: the next POST comes a second later, not after the
    back-off of 0.01 s (docs/security-workflows.md: the wait is Retry-After if given)."""
    monkeypatch.setattr(github_comment, "LIST_LAG", 0.0)
    scripted.then("POST", Answer(503, b'{"message": "Service Unavailable"}', {**JSON, "Retry-After": "1"}))
    tuning = {"request_timeout": 2.0, "retry_delay": 0.01, "attempts": 3}
    created = GithubCommentProvider().create(comment_props(scripted.url, tuning=tuning))
    assert created.outs["result"] == {"comment_id": 7, "action": "created"}
    first, second = scripted.times("POST")
    assert second - first >= 0.95
