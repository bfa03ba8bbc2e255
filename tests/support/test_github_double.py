"""The GitHub API double answers the way docs.github.com says GitHub does (expectations written
out by hand from the REST docs, not read back from the double)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.github_double import GithubDouble

REPO = "acme/shop"


@pytest.fixture
def github() -> Iterator[GithubDouble]:
    with GithubDouble(repos={REPO: 11}) as double:
        double.add_issue(REPO, 5)
        yield double


def call(
    github: GithubDouble, method: str, path: str, body: Any = None, token: str | None = "t"
) -> tuple[int, Any, dict[str, str]]:
    url = path if path.startswith("http") else github.url + path
    headers = {"User-Agent": "test", "Accept": "application/vnd.github+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, dict(response.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), dict(error.headers.items())


def test_lists_page_30_by_default_with_link_headers_naming_the_repository_by_id(github: GithubDouble) -> None:
    github.add_comments(REPO, 5, [f"c{n}" for n in range(65)])
    status, first, headers = call(github, "GET", f"/repos/{REPO}/issues/5/comments")
    assert status == 200
    assert [c["body"] for c in first] == [f"c{n}" for n in range(30)]
    assert headers["Link"] == (
        f'<{github.url}/repositories/11/issues/5/comments?per_page=30&page=2>; rel="next", '
        f'<{github.url}/repositories/11/issues/5/comments?per_page=30&page=3>; rel="last"'
    )
    _, third, headers = call(github, "GET", f"{github.url}/repositories/11/issues/5/comments?per_page=30&page=3")
    assert [c["body"] for c in third] == [f"c{n}" for n in range(60, 65)]
    assert 'rel="next"' not in headers["Link"]
    github.add_comments(REPO, 5, [f"d{n}" for n in range(50)])
    _, capped, headers = call(github, "GET", f"/repos/{REPO}/issues/5/comments?per_page=500")
    assert len(capped) == 100  # per_page is at most 100
    assert "per_page=100&page=2" in headers["Link"]


def test_a_new_comment_lags_in_the_list_but_not_by_id(github: GithubDouble) -> None:
    status, created, _ = call(github, "POST", f"/repos/{REPO}/issues/5/comments", {"body": "hello"})
    assert status == 201
    _, listed, _ = call(github, "GET", f"/repos/{REPO}/issues/5/comments")
    assert listed == []
    status, by_id, _ = call(github, "GET", f"/repos/{REPO}/issues/comments/{created['id']}")
    assert (status, by_id["body"]) == (200, "hello")
    time.sleep(github.lag_seconds)
    _, listed, _ = call(github, "GET", f"/repos/{REPO}/issues/5/comments")
    assert [c["body"] for c in listed] == ["hello"]


def test_rate_limit_headers_count_down_and_a_spent_limit_is_403(github: GithubDouble) -> None:
    _, _, first = call(github, "GET", f"/repos/{REPO}/issues/5")
    _, _, second = call(github, "GET", f"/repos/{REPO}/issues/5")
    assert (first["x-ratelimit-limit"], first["x-ratelimit-remaining"], second["x-ratelimit-remaining"]) == (
        "5000",
        "4999",
        "4998",
    )
    _, _, anonymous = call(github, "GET", f"/repos/{REPO}/issues/5", token=None)
    assert anonymous["x-ratelimit-limit"] == "60"
    github.exhaust(reset_in=0.5)
    status, body, headers = call(github, "GET", f"/repos/{REPO}/issues/5")
    assert status == 403
    assert body["message"].startswith("API rate limit exceeded")
    assert headers["x-ratelimit-remaining"] == "0"
    assert int(headers["x-ratelimit-reset"]) >= int(time.time())
    time.sleep(0.6)
    assert call(github, "GET", f"/repos/{REPO}/issues/5")[0] == 200


def test_a_secondary_limit_holds_until_retry_after(github: GithubDouble) -> None:
    github.secondary_limit("GET", "/issues/5", status=429, retry_after=1)
    status, body, headers = call(github, "GET", f"/repos/{REPO}/issues/5")
    assert (status, headers["retry-after"]) == (429, "1")
    assert body["message"].startswith("You have exceeded a secondary rate limit")
    assert call(github, "GET", f"/repos/{REPO}/issues/5")[0] == 429  # too early
    time.sleep(1.05)
    assert call(github, "GET", f"/repos/{REPO}/issues/5")[0] == 200


def test_writes_need_a_token_private_repositories_hide_and_bad_tokens_are_401(github: GithubDouble) -> None:
    assert call(github, "POST", f"/repos/{REPO}/issues/5/comments", {"body": "x"}, token=None)[0] == 401
    github.private.add(REPO)
    assert call(github, "GET", f"/repos/{REPO}/issues/5", token=None)[0] == 404
    github.tokens = {"good"}
    status, body, _ = call(github, "GET", f"/repos/{REPO}/issues/5", token="bad")
    assert (status, body["message"]) == (401, "Bad credentials")


def test_an_empty_or_huge_body_is_422(github: GithubDouble) -> None:
    assert call(github, "POST", f"/repos/{REPO}/issues/5/comments", {"body": ""})[0] == 422
    assert call(github, "POST", f"/repos/{REPO}/issues/5/comments", {"body": "x" * 65537})[0] == 422
    assert github.comments_of(REPO, 5) == []


def test_issues_answer_for_pull_requests_and_pulls_only_for_pull_requests(github: GithubDouble) -> None:
    github.add_issue(REPO, 6, pull=True, state="closed")
    _, issue, _ = call(github, "GET", f"/repos/{REPO}/issues/6")
    assert issue["state"] == "closed"
    assert "pull_request" in issue
    assert call(github, "GET", f"/repos/{REPO}/pulls/5")[0] == 404
    _, pulls, _ = call(github, "GET", f"/repos/{REPO}/pulls?state=all")
    assert [p["number"] for p in pulls] == [6]
