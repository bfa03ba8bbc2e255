"""How ``github.comment`` waits between tries and what it says when it stops: behaviours that the
mutation run (tools/mutation.py hooks, a sample of 2026-11-30) found unguarded."""

from __future__ import annotations

import datetime
import email.message
import email.utils
from collections.abc import Iterator

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from codex_stacks.components.hooks.providers.httpcall import Reply, retry_after
from tests.hooks.test_github_comment import COMMENTS, comment_props
from tests.hooks.test_http_bounds import JSON, Answer, ScriptedApi

LIST = f"{COMMENTS}?per_page=100&page=1"


@pytest.fixture
def github() -> Iterator[ScriptedApi]:
    api = ScriptedApi({"GET": Answer(200, b"[]", JSON), "POST": Answer(201, b'{"id": 7}', JSON)})
    try:
        yield api
    finally:
        api.stop()


def test_a_503_with_retry_after_is_read_again_after_that_wait(github: ScriptedApi) -> None:
    """docs/security-workflows.md: the wait is Retry-After when the answer names one (here 1 s,
    against a back-off of 0.01 s)."""
    github.then("GET", Answer(503, b'{"message": "Service Unavailable"}', {**JSON, "Retry-After": "1"}))
    tuning = {"request_timeout": 2.0, "retry_delay": 0.01, "attempts": 3}
    created = GithubCommentProvider().create(comment_props(github.url, tuning=tuning))
    assert created.outs["result"] == {"comment_id": 7, "action": "created"}
    first, second = github.times("GET")
    assert second - first >= 0.95


def test_a_step_whose_time_runs_out_between_tries_says_which_request_it_was_at(github: ScriptedApi) -> None:
    """A 502, then a back-off (10 s) longer than the step's 1.5 s: the step stops at its timeout
    and names the request it was about to send again."""
    github.then("GET", Answer(502, b'{"message": "Server Error"}', JSON))
    tuning = {"request_timeout": 2.0, "retry_delay": 10.0, "attempts": 3}
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(github.url, timeout=1.5, tuning=tuning))
    assert str(failure.value) == (
        f"hook codex/afterApply/step failed: GitHub GET {LIST}: timed out after 1.5s (the step's timeout)"
    )
    assert len(github.times("GET")) == 1


def test_a_success_that_is_not_json_names_its_status(github: ScriptedApi) -> None:
    """A 200 with a proxy's sign-in page: the error says which answer it was."""
    github.then("GET", Answer(200, b"<html>Sign in to the proxy</html>", {"Content-Type": "text/html"}))
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(github.url, tuning={"retry_delay": 0.01, "attempts": 3}))
    assert str(failure.value) == (
        f"hook codex/afterApply/step failed: GitHub GET {LIST}: answered 200 with a body that is not JSON"
    )


def test_retry_after_as_an_http_date_already_past_is_no_wait() -> None:
    """RFC 9110 §10.2.3: Retry-After as an HTTP date; a date already past asks for no wait at all."""
    now = 1_800_000_000.0
    headers = email.message.Message()
    headers["Retry-After"] = email.utils.format_datetime(
        datetime.datetime.fromtimestamp(now - 30, tz=datetime.UTC), usegmt=True
    )
    assert retry_after(Reply(503, "Service Unavailable", b"", headers), now=now) == 0.0
