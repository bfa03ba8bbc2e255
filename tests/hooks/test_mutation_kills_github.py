"""``github.comment`` behaviours that the mutation run (tools/mutation.py hooks) found unguarded:
the bound on paging, the back-off between tries, a 3xx that is not a success, and a POST that a
rate limit keeps refusing."""

from __future__ import annotations

import pytest

from codex_stacks.components.hooks.providers import github_comment
from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider, checked_api_url
from tests.hooks.test_github_comment import COMMENTS, REPO, comment_props
from tests.hooks.test_http_bounds import JSON, Answer, ScriptedApi
from tests.support.github_double import GithubDouble


def test_a_thread_longer_than_the_page_bound_is_a_clear_error_not_a_new_comment(
    github: GithubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound is 1000 pages; it is lowered to 2 here so that the test reads 2 pages, not 1001."""
    monkeypatch.setattr(github_comment, "MAX_PAGES", 2)
    github.add_comments(REPO, 42, [f"comment {n}" for n in range(250)])  # three pages of 100
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(github.url))
    assert str(failure.value) == f"hook codex/afterApply/step failed: GitHub GET {COMMENTS}: more than 2 pages"
    assert github.count("GET") == 2
    assert github.count("POST") == 0


def test_the_back_off_doubles_from_the_retry_delay(scripted: ScriptedApi) -> None:
    """After a 5xx that names no Retry-After, the next try waits retry_delay and the one after it
    twice that: a struggling GitHub is not asked again at a steady pace."""
    scripted.then("GET", *[Answer(502, b'{"message": "Server Error"}', JSON)] * 3)
    tuning = {"request_timeout": 2.0, "retry_delay": 0.2, "attempts": 3}
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(scripted.url, tuning=tuning))
    assert str(failure.value) == (
        f"hook codex/afterApply/step failed: GitHub GET {COMMENTS}?per_page=100&page=1: "
        "HTTP 502 Bad Gateway (Server Error); gave up after 3 attempts"
    )
    first, second, third = scripted.times("GET")
    assert second - first >= 0.19
    assert third - second >= 0.39
    assert scripted.times("POST") == []


def test_a_300_answer_is_not_taken_for_the_list(scripted: ScriptedApi) -> None:
    """Only 2xx is a success, and no redirect is followed (docs/security-workflows.md): a 300 is an
    error, not an empty thread, and nothing is posted."""
    scripted.then("GET", Answer(300, b"[]", JSON))
    with pytest.raises(HookError, match=r"GitHub GET .*: HTTP 300 Multiple Choices$"):
        GithubCommentProvider().create(comment_props(scripted.url, tuning={"retry_delay": 0.01, "attempts": 3}))
    assert len(scripted.times("GET")) == 1
    assert scripted.times("POST") == []


def test_a_post_refused_by_a_rate_limit_is_tried_attempts_times(scripted: ScriptedApi) -> None:
    """A 429 refuses the POST before GitHub does anything: no look for a half-made comment, and the
    POST is tried again, up to ``attempts`` times in all."""
    scripted.then("POST", *[Answer(429, b'{"message": "slow down"}', {**JSON, "Retry-After": "0"})] * 3)
    tuning = {"request_timeout": 2.0, "retry_delay": 0.01, "attempts": 3}
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(scripted.url, tuning=tuning))
    assert str(failure.value) == (
        f"hook codex/afterApply/step failed: GitHub POST {COMMENTS}: "
        "HTTP 429 Too Many Requests (slow down); gave up after 3 attempts"
    )
    assert len(scripted.times("POST")) == 3
    assert len(scripted.times("GET")) == 1  # the one look for an earlier comment, before the first POST


@pytest.mark.parametrize(
    "api_url",
    ["https://api.github.com?per_page=1", "https://api.github.com/#top"],
    ids=["query", "fragment"],
)
def test_an_api_url_with_a_query_or_fragment_is_refused(api_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request path is appended to apiUrl: a query or fragment in it would swallow them."""
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    with pytest.raises(HookError, match=r"refusing apiUrl '.*': it must be a plain https://host\[/path\] URL"):
        checked_api_url(api_url)
