"""``github.comment`` against a loopback GitHub API double, with faults."""

from __future__ import annotations

import time
from typing import Any

import pytest

from components.hooks.providers.base import HookError
from components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.doubles import GithubDouble, unused_port
from tests.hooks.helpers import step_props

TOKEN = "ghp-canary-51c0ffee"
MARKER = "<!-- codex-stacks:ai-slot-3:announce -->"


def comment_props(
    api_url: str, body: str = "Slot 3 is up", *, token: str | None = TOKEN, **kwargs: Any
) -> dict[str, Any]:
    return step_props(
        "github.comment",
        {
            "repository": "acme/alimentor",
            "number": 42,
            "body": body,
            "api_url": api_url,
            "update_existing": True,
            "marker": MARKER,
        },
        secrets={"token": token} if token else None,
        **kwargs,
    )


def test_comment_is_posted_with_the_token_and_marker(github: GithubDouble) -> None:
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    (comment,) = github.comments.values()
    assert comment["issue"] == 42
    assert comment["body"] == f"Slot 3 is up\n\n{MARKER}"
    post = github.headers[github.requests.index(("POST", "/repos/acme/alimentor/issues/42/comments"))]
    assert {k.lower(): v for k, v in post.items()}["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr({k: v for k, v in created.outs.items() if k != "secrets"})


def test_second_run_edits_its_own_comment_instead_of_adding_one(github: GithubDouble) -> None:
    GithubCommentProvider().create(comment_props(github.url))
    same = GithubCommentProvider().update("id", {}, comment_props(github.url))
    assert same.outs["result"]["action"] == "unchanged"
    changed = GithubCommentProvider().update("id", {}, comment_props(github.url, "Slot 3 is up again"))
    assert changed.outs["result"]["action"] == "updated"
    assert len(github.comments) == 1
    assert next(iter(github.comments.values()))["body"].startswith("Slot 3 is up again")
    assert github.count("POST") == 1
    assert github.count("PATCH") == 1


def test_token_from_the_environment_when_no_secret_config(
    github: GithubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "from-env")
    GithubCommentProvider().create(comment_props(github.url, token=None))
    assert {k.lower(): v for k, v in github.headers[-1].items()}["authorization"] == "Bearer from-env"


def test_no_token_is_a_clear_error(github: GithubDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with pytest.raises(HookError, match="no GitHub token: set secret config codex:githubToken or GITHUB_TOKEN"):
        GithubCommentProvider().create(comment_props(github.url, token=None))
    assert github.requests == []


def test_500_and_409_are_retried(github: GithubDouble) -> None:
    github.fault("GET", "/comments", status=500)
    github.fault("POST", "/comments", status=409)
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    assert len(github.comments) == 1


def test_a_post_that_failed_after_creating_is_not_posted_again(github: GithubDouble) -> None:
    github.fault("POST", "/comments", status=502, after=True)
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    assert len(github.comments) == 1
    assert github.count("POST") == 1


def test_persistent_500_gives_up_without_leaking_the_token(github: GithubDouble) -> None:
    github.fault("POST", "/comments", status=502, times=10)
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(github.url))
    assert "HTTP 502" in str(failure.value)
    assert "gave up after 3 attempts" in str(failure.value)
    assert TOKEN not in str(failure.value)


def test_404_is_not_retried(github: GithubDouble) -> None:
    props = comment_props(github.url)
    props["params"]["repository"] = "acme/missing"
    github.fault("GET", "/repos/acme/missing", status=404)
    with pytest.raises(HookError, match="HTTP 404"):
        GithubCommentProvider().create(props)
    assert len(github.requests) == 1


def test_slow_answers_time_out_without_hanging(github: GithubDouble) -> None:
    github.fault("GET", "/comments", delay=0.6, times=10)
    started = time.monotonic()
    with pytest.raises(HookError, match="gave up after 3 attempts"):
        GithubCommentProvider().create(comment_props(github.url))
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_a_clear_error() -> None:
    with pytest.raises(HookError, match=r"Connection refused.*gave up after 3 attempts"):
        GithubCommentProvider().create(comment_props(f"http://127.0.0.1:{unused_port()}"))
