"""``github.comment`` against the harsh GitHub API double (tests/support/github_double.py): paging
with ``Link`` headers naming the repository by id, a list that lags behind a POST, rate-limit
headers, faults."""

from __future__ import annotations

import time
from typing import Any

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.helpers import step_props
from tests.support.github_double import GithubDouble
from tests.support.kube_double import free_port

TOKEN = "ghp-canary-51c0ffee"
MARKER = "<!-- codex-stacks:ai-slot-3:announce -->"
REPO = "acme/alimentor"
COMMENTS = f"/repos/{REPO}/issues/42/comments"


def comment_props(
    api_url: str, body: str = "Slot 3 is up", *, token: str | None = TOKEN, **kwargs: Any
) -> dict[str, Any]:
    return step_props(
        "github.comment",
        {
            "repository": REPO,
            "number": 42,
            "body": body,
            "api_url": api_url,
            "update_existing": True,
            "marker": MARKER,
        },
        secrets={"token": token} if token else None,
        **kwargs,
    )


def bodies(github: GithubDouble) -> list[str]:
    """The thread as GitHub stores it (the primary, not a lagging list)."""
    return [comment.body for comment in github.comments_of(REPO, 42)]


def test_comment_is_posted_with_the_token_and_marker(github: GithubDouble) -> None:
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    assert bodies(github) == [f"Slot 3 is up\n\n{MARKER}"]
    (post,) = github.calls("POST")
    assert post.path == COMMENTS
    assert post.authorization == f"Bearer {TOKEN}"
    assert TOKEN not in repr({k: v for k, v in created.outs.items() if k != "secrets"})


def test_second_run_edits_its_own_comment_instead_of_adding_one(github: GithubDouble) -> None:
    GithubCommentProvider().create(comment_props(github.url))
    github.settle()  # the next `pulumi up` comes minutes later: the list has caught up
    same = GithubCommentProvider().update("id", {}, comment_props(github.url))
    assert same.outs["result"]["action"] == "unchanged"
    changed = GithubCommentProvider().update("id", {}, comment_props(github.url, "Slot 3 is up again"))
    assert changed.outs["result"]["action"] == "updated"
    assert bodies(github) == [f"Slot 3 is up again\n\n{MARKER}"]
    assert github.count("POST") == 1
    assert github.count("PATCH") == 1


def test_token_from_the_environment_when_no_secret_config(
    github: GithubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "from-env")
    GithubCommentProvider().create(comment_props(github.url, token=None))
    assert github.requests[-1].authorization == "Bearer from-env"


def test_codex_gh_pat_from_the_environment_when_there_is_no_github_token(
    github: GithubDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "")  # a workflow maps an unset secret to an empty value
    monkeypatch.setenv("CODEX_GH_PAT", "pat-from-env")
    created = GithubCommentProvider().create(comment_props(github.url, token=None))
    assert created.outs["result"]["action"] == "created"
    assert github.requests[-1].authorization == "Bearer pat-from-env"


@pytest.mark.parametrize(
    ("config", "env", "used"),
    [
        (TOKEN, {"GITHUB_TOKEN": "gh-env", "CODEX_GH_PAT": "pat-env"}, TOKEN),
        (None, {"GITHUB_TOKEN": "gh-env", "CODEX_GH_PAT": "pat-env"}, "gh-env"),
    ],
    ids=["secret-config-first", "then-GITHUB_TOKEN"],
)
def test_token_precedence_is_secret_config_then_github_token_then_codex_gh_pat(
    github: GithubDouble, monkeypatch: pytest.MonkeyPatch, config: str | None, env: dict[str, str], used: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    GithubCommentProvider().create(comment_props(github.url, token=config))
    assert {request.authorization for request in github.requests} == {f"Bearer {used}"}


def test_a_token_github_rejects_is_a_clear_error_not_retried(github: GithubDouble) -> None:
    github.tokens = {"the-only-valid-token"}
    with pytest.raises(HookError, match=r"HTTP 401 Unauthorized") as failure:
        GithubCommentProvider().create(comment_props(github.url))
    assert TOKEN not in str(failure.value)
    assert len(github.requests) == 1
    assert bodies(github) == []


def test_no_token_is_a_clear_error(github: GithubDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("CODEX_GH_PAT", raising=False)
    with pytest.raises(
        HookError, match="no GitHub token: set secret config codex:githubToken, GITHUB_TOKEN or CODEX_GH_PAT"
    ):
        GithubCommentProvider().create(comment_props(github.url, token=None))
    assert github.requests == []


def test_500_and_409_are_retried(github: GithubDouble) -> None:
    github.fault("GET", "/comments", status=500)
    github.fault("POST", "/comments", status=409)
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    assert len(bodies(github)) == 1


def test_a_post_that_failed_after_creating_is_not_posted_again_when_the_list_has_it(github: GithubDouble) -> None:
    """The list already shows the comment the failed POST created (a consistent read; the lagging
    case is in test_github_comment_harsh.py)."""
    github.lag_seconds = 0.0
    github.fault("POST", "/comments", status=502, after=True)
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    assert len(bodies(github)) == 1
    assert github.count("POST") == 1


def test_persistent_500_gives_up_without_leaking_the_token(github: GithubDouble) -> None:
    github.fault("POST", "/comments", status=502, times=10)
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(github.url))
    assert "HTTP 502" in str(failure.value)
    assert "gave up after 3 attempts" in str(failure.value)
    assert TOKEN not in str(failure.value)
    assert bodies(github) == []


def test_a_missing_repository_is_404_and_not_retried(github: GithubDouble) -> None:
    props = comment_props(github.url)
    props["params"]["repository"] = "acme/missing"
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
        GithubCommentProvider().create(comment_props(f"http://127.0.0.1:{free_port()}"))


def test_a_429_secondary_limit_is_retried(github: GithubDouble) -> None:
    github.secondary_limit("GET", "/comments", status=429, retry_after=0)
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    assert [request.status for request in github.calls("GET")] == [429, 200]


# --------------------------------------------------------------------------- paging


def busy_thread(github: GithubDouble, others: int, own_at: int | None = None, own_body: str = "old") -> int:
    """``others`` comments by people, and the step's own comment at index ``own_at``; its id."""
    texts = [f"comment {n}" for n in range(others)]
    if own_at is not None:
        texts.insert(own_at, f"{own_body}\n\n{MARKER}")
    ids = github.add_comments(REPO, 42, texts)
    return ids[own_at] if own_at is not None else 0


def test_own_comment_past_the_first_100_is_edited_not_posted_again(github: GithubDouble) -> None:
    own = busy_thread(github, others=250, own_at=230)  # on page 3
    result = GithubCommentProvider().create(comment_props(github.url))
    assert result.outs["result"] == {"comment_id": own, "action": "updated"}
    assert github.count("POST") == 0
    assert len(bodies(github)) == 251
    assert github.comments[own].body == f"Slot 3 is up\n\n{MARKER}"
    gets = [request.target for request in github.calls("GET")]
    assert gets[0] == f"{COMMENTS}?per_page=100&page=1"
    assert gets[1:] == [  # the Link header's next URLs, as GitHub gives them (the repository by id)
        "/repositories/7/issues/42/comments?per_page=100&page=2",
        "/repositories/7/issues/42/comments?per_page=100&page=3",
    ]
    assert {request.authorization for request in github.requests} == {f"Bearer {TOKEN}"}


def test_an_endpoint_that_caps_per_page_is_followed_to_the_end(github: GithubDouble) -> None:
    github.per_page_cap = 30  # asked for 100, GitHub answers 30 a page
    own = busy_thread(github, others=80, own_at=75)
    result = GithubCommentProvider().create(comment_props(github.url))
    assert result.outs["result"] == {"comment_id": own, "action": "updated"}
    assert github.count("GET") == 3
    assert github.count("POST") == 0


def test_unchanged_comment_on_a_later_page_is_left_alone(github: GithubDouble) -> None:
    own = busy_thread(github, others=150, own_at=120, own_body="Slot 3 is up")
    result = GithubCommentProvider().create(comment_props(github.url))
    assert result.outs["result"] == {"comment_id": own, "action": "unchanged"}
    assert github.count("POST") == 0
    assert github.count("PATCH") == 0


def test_paging_stops_at_the_page_that_holds_the_comment(github: GithubDouble) -> None:
    busy_thread(github, others=450, own_at=10)
    GithubCommentProvider().create(comment_props(github.url))
    assert github.count("GET") == 1


def test_every_page_is_read_before_a_new_comment_is_posted(github: GithubDouble) -> None:
    busy_thread(github, others=200)  # exactly two full pages: the second has no next link
    result = GithubCommentProvider().create(comment_props(github.url))
    assert result.outs["result"]["action"] == "created"
    assert github.count("GET") == 2
    assert github.count("POST") == 1


def test_without_link_headers_pages_are_read_until_a_short_one(github: GithubDouble) -> None:
    github.send_links = False
    own = busy_thread(github, others=250, own_at=249)
    result = GithubCommentProvider().create(comment_props(github.url))
    assert result.outs["result"] == {"comment_id": own, "action": "updated"}
    gets = [request.target for request in github.calls("GET")]
    assert gets == [f"{COMMENTS}?per_page=100&page={n}" for n in (1, 2, 3)]
    assert github.count("POST") == 0


def test_a_server_that_ignores_page_does_not_loop(github: GithubDouble) -> None:
    github.honour_page = False  # every page is page 1, and the Link header keeps saying "next"
    busy_thread(github, others=150)
    GithubCommentProvider().create(comment_props(github.url))
    assert github.count("GET") == 2  # the second answer repeated the first: reading stops there


def test_a_next_link_to_another_host_is_not_followed_with_the_token(github: GithubDouble) -> None:
    github.link_host = f"http://127.0.0.1:{free_port()}"
    busy_thread(github, others=150)
    with pytest.raises(HookError, match="is not under") as failure:
        GithubCommentProvider().create(comment_props(github.url))
    assert TOKEN not in str(failure.value)
    assert github.count("GET") == 1
    assert github.count("POST") == 0
