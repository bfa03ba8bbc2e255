"""What a ``github.comment`` step says when it may not, cannot or did not post (providers/github_comment.py),
whole: the token, the API URL it refuses, GitHub's answers (status, reason, GitHub's ``message``),
rate limits past the step's time, retries, paging and the POST's answer.

GitHub's answers come from a scripted loopback server (tests/hooks/test_http_bounds.py), as
GitHub documents them ("Rate limits for the REST API": 403/429, ``retry-after``; "Using
pagination": the ``Link`` header).
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Iterator
from typing import Any

import pytest

from codex_stacks.components.hooks.providers import httpcall
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.helpers import step_props
from tests.hooks.test_error_messages_base import failure
from tests.hooks.test_http_bounds import JSON, Answer, ScriptedApi
from tests.support.kube_double import free_port

FAILED = "hook codex/afterApply/announce failed: "
COMMENTS = "/repos/acme/alimentor/issues/42/comments"
LIST = f"{COMMENTS}?per_page=100&page=1"
TOKEN = "ghp-errmsg-canary-0b57"
HTML = {"Content-Type": "text/html"}


def comment(api_url: str, *, token: str | None = TOKEN, timeout: float = 5.0, **tuning: Any) -> dict[str, Any]:
    params = {
        "repository": "acme/alimentor",
        "number": 42,
        "body": "Slot 3 is up",
        "api_url": api_url,
        "update_existing": True,
        "marker": "<!-- codex-stacks:ai-slot-3:announce -->",
    }
    return step_props(
        "github.comment",
        params,
        step="announce",
        secrets={"token": token} if token else None,
        timeout=timeout,
        tuning={"request_timeout": 2.0, "retry_delay": 0.01, "attempts": 3, **tuning},
    )


def message(text: str) -> bytes:
    return json.dumps({"message": text, "documentation_url": "https://docs.github.com/rest"}).encode()


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedApi]:
    """One server for the file (stopping one takes half a second)."""
    api = ScriptedApi({"GET": Answer(200, b"[]", JSON), "POST": Answer(201, b'{"id": 7}', JSON)})
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def gh(server: ScriptedApi) -> ScriptedApi:
    """An empty thread; a POST creates comment 7; nothing queued or seen from the test before."""
    server.script.clear()
    server.seen.clear()
    return server


@pytest.fixture
def no_token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("CODEX_GH_PAT", "")
    monkeypatch.delenv("GITHUB_API_URL", raising=False)


@pytest.mark.usefixtures("no_token_env")
def test_no_token_says_where_to_set_one(gh: ScriptedApi) -> None:
    assert failure(GithubCommentProvider(), comment(gh.url, token=None)) == (
        f"{FAILED}no GitHub token: set secret config codex:githubToken, GITHUB_TOKEN or CODEX_GH_PAT"
    )
    assert gh.seen == []


PLAIN = "it must be a plain https://host[/path] URL"
HTTPS_ONLY = "the token goes over https only (plain http only to a loopback address)"


@pytest.mark.usefixtures("no_token_env")
@pytest.mark.parametrize(
    ("api_url", "runner_api", "expected"),
    [
        pytest.param(
            "https://x:ghp-in-url@api.github.com/",
            "",
            f"refusing apiUrl 'https://***@api.github.com': {PLAIN}",
            id="a-password-is-never-shown",
        ),
        pytest.param(
            "https://bot@api.github.com",
            "",
            f"refusing apiUrl 'https://***@api.github.com': {PLAIN}",
            id="a-user-is-never-shown",
        ),
        pytest.param(
            "https://api.github.com?per_page=1",
            "",
            f"refusing apiUrl 'https://api.github.com?per_page=1': {PLAIN}",
            id="a-query",
        ),
        pytest.param(
            "https://api.github.com/#top",
            "",
            f"refusing apiUrl 'https://api.github.com/#top': {PLAIN}",
            id="a-fragment",
        ),
        pytest.param(
            "http://api.github.com", "", f"refusing apiUrl 'http://api.github.com': {HTTPS_ONLY}", id="plain-http"
        ),
        pytest.param("ftp://127.0.0.1/", "", f"refusing apiUrl 'ftp://127.0.0.1': {HTTPS_ONLY}", id="not-http-at-all"),
        pytest.param(
            "https://github.example/api/v3",
            "",
            "refusing apiUrl 'https://github.example/api/v3': the token goes only to api.github.com "
            "(set GITHUB_API_URL on the runner for GitHub Enterprise)",
            id="another-host",
        ),
        pytest.param(
            "https://github.example/api/v3",
            "https://GHE.corp.example/api/v3",
            "refusing apiUrl 'https://github.example/api/v3': the token goes only to api.github.com or "
            "ghe.corp.example (set GITHUB_API_URL on the runner for GitHub Enterprise)",
            id="another-host-than-the-runners",
        ),
    ],
)
def test_an_api_url_the_token_may_not_go_to_is_refused(
    monkeypatch: pytest.MonkeyPatch, api_url: str, runner_api: str, expected: str
) -> None:
    if runner_api:
        monkeypatch.setenv("GITHUB_API_URL", runner_api)
    text = failure(GithubCommentProvider(), comment(api_url))
    assert text == FAILED + expected
    assert "ghp-in-url" not in text


SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
LONG = "m" * 200

# (method answered, answers, expected after "GitHub ")
ANSWERS = [
    pytest.param(
        "GET",
        [Answer(404, message("Not Found"), JSON)],
        f"GET {LIST}: HTTP 404 Not Found (Not Found)",
        id="404-at-once",
    ),
    pytest.param(
        "GET",
        [Answer(403, message("Resource not accessible by integration"), JSON)],
        f"GET {LIST}: HTTP 403 Forbidden (Resource not accessible by integration)",
        id="a-403-that-is-a-permission",
    ),
    pytest.param(
        "GET",
        [Answer(401, b"<html>Unauthorized</html>", HTML)],
        f"GET {LIST}: HTTP 401 Unauthorized",
        id="an-answer-without-a-message",
    ),
    pytest.param(
        "GET",
        [Answer(422, message(LONG), JSON)],
        f"GET {LIST}: HTTP 422 Unprocessable Entity ({LONG})",
        id="a-200-character-message-whole",
    ),
    pytest.param(
        "GET",
        [Answer(422, message(LONG + "X"), JSON)],
        f"GET {LIST}: HTTP 422 Unprocessable Entity ({LONG}…)",
        id="a-201-character-message-cut",
    ),
    pytest.param(
        "GET",
        [Answer(502, b"", JSON)] * 3,
        f"GET {LIST}: HTTP 502 Bad Gateway; gave up after 3 attempts",
        id="502-three-times",
    ),
    pytest.param(
        "GET",
        [Answer(409, message("Conflict"), JSON)] * 3,
        f"GET {LIST}: HTTP 409 Conflict (Conflict); gave up after 3 attempts",
        id="409-three-times",
    ),
    pytest.param(
        "GET",
        [Answer(429, b"{}", {**JSON, "Retry-After": "30"})],
        f"GET {LIST}: rate limited (HTTP 429 Too Many Requests); GitHub asks to wait 30s, more than the 5s "
        "left of the step's timeout",
        id="a-retry-after-past-the-timeout",
    ),
    pytest.param(
        "GET",
        [Answer(403, message(SECONDARY), JSON)],
        f"GET {LIST}: rate limited (HTTP 403 Forbidden ({SECONDARY})); GitHub asks to wait 60s, more than "
        "the 5s left of the step's timeout",
        id="a-secondary-limit-without-a-wait-is-a-minute",
    ),
    pytest.param(
        "GET",
        [Answer(200, b"<html>captive portal</html>", HTML)],
        f"GET {LIST}: answered 200 with a body that is not JSON",
        id="a-200-that-is-not-json",
    ),
    pytest.param(
        "GET",
        [Answer(200, b'{"comments": []}', JSON)],
        f"GET {COMMENTS}: the answer is not a list of comments",
        id="an-object-for-a-list",
    ),
    pytest.param(
        "POST",
        [Answer(201, b'{"id": "7"}', JSON)],
        f"POST {COMMENTS}: the answer names no comment id",
        id="an-id-that-is-not-a-number",
    ),
    pytest.param(
        "POST",
        [Answer(201, b"[]", JSON)],
        f"POST {COMMENTS}: the answer names no comment id",
        id="a-list-for-the-comment",
    ),
    pytest.param("POST", [Answer(204)], f"POST {COMMENTS}: the answer names no comment id", id="an-empty-answer"),
    pytest.param(
        "POST",
        [Answer(422, message("Validation Failed"), JSON)],
        f"POST {COMMENTS}: HTTP 422 Unprocessable Entity (Validation Failed)",
        id="a-refused-post",
    ),
    pytest.param(
        "POST",
        [Answer(429, b"{}", {**JSON, "Retry-After": "0"})] * 3,
        f"POST {COMMENTS}: HTTP 429 Too Many Requests; gave up after 3 attempts",
        id="a-post-refused-by-rate-limits-every-time",
    ),
]


@pytest.mark.parametrize(("method", "answers", "expected"), ANSWERS)
def test_an_answer_from_github_says(gh: ScriptedApi, method: str, answers: list[Answer], expected: str) -> None:
    gh.then(method, *answers)
    text = failure(GithubCommentProvider(), comment(gh.url))
    assert text == f"{FAILED}GitHub {expected}"
    assert TOKEN not in text


def test_a_post_that_fails_every_time_and_left_no_comment_gives_up(gh: ScriptedApi) -> None:
    """With less than a second left the step looks once for a comment the failed POST may have made."""
    gh.then("POST", *[Answer(502, message("Server Error"), JSON)] * 3)
    assert failure(GithubCommentProvider(), comment(gh.url, timeout=0.9)) == (
        f"{FAILED}GitHub POST {COMMENTS}: HTTP 502 Bad Gateway (Server Error); gave up after 3 attempts"
    )


def test_an_edit_github_refuses_says_which_comment(gh: ScriptedApi) -> None:
    mine = {"id": 5, "body": "Slot 3 was up\n\n<!-- codex-stacks:ai-slot-3:announce -->"}
    gh.then("GET", Answer(200, json.dumps([mine]).encode(), JSON))
    gh.then("PATCH", Answer(403, message("Must have admin rights to Repository."), JSON))
    assert failure(GithubCommentProvider(), comment(gh.url)) == (
        f"{FAILED}GitHub PATCH /repos/acme/alimentor/issues/comments/5: HTTP 403 Forbidden "
        "(Must have admin rights to Repository.)"
    )


def test_a_next_page_elsewhere_is_refused_naming_it(gh: ScriptedApi) -> None:
    link = '<https://api.elsewhere.example/repositories/7/issues/42/comments?page=2>; rel="next"'
    gh.then("GET", Answer(200, b"[]", {**JSON, "Link": link}))
    assert failure(GithubCommentProvider(), comment(gh.url)) == (
        f"{FAILED}GitHub GET {COMMENTS}: the next page "
        f"(https://api.elsewhere.example/repositories/7/issues/42/comments?page=2) is not under {gh.url}"
    )


def test_a_refused_connection_says_so_after_every_attempt() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert failure(GithubCommentProvider(), comment(url)) == (
        f"{FAILED}GitHub GET {LIST}: ConnectionRefusedError: [Errno 111] Connection refused; gave up after 3 attempts"
    )


def test_the_steps_timeout_ends_the_retries(gh: ScriptedApi) -> None:
    gh.then("GET", *[Answer(503, b"{}", JSON)] * 3)
    assert failure(GithubCommentProvider(), comment(gh.url, timeout=0.2, retry_delay=0.5)) == (
        f"{FAILED}GitHub GET {LIST}: timed out after 0.2s (the step's timeout)"
    )


class EndlessThread:
    """GitHub's transport replaced in process (``httpcall.send``, the network boundary): every
    list page is empty and links a next one, ``pages`` times; then a page without a link."""

    def __init__(self, api_url: str, pages: int) -> None:
        self.api_url = api_url
        self.pages = pages
        self.gets = 0

    def send(self, method: str, url: str, **_: Any) -> httpcall.Reply:
        headers = email.message.Message()
        headers["Content-Type"] = "application/json"
        if method == "POST":
            return httpcall.Reply(201, "Created", b'{"id": 7}', headers)
        self.gets += 1
        if self.gets < self.pages:
            headers["Link"] = f'<{self.api_url}{COMMENTS}?per_page=100&page={self.gets + 1}>; rel="next"'
        return httpcall.Reply(200, "OK", b"[]", headers)


def test_a_thread_of_1000_pages_is_read_to_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = EndlessThread("https://api.github.com", pages=1000)
    monkeypatch.setattr(httpcall, "send", thread.send)
    created = GithubCommentProvider().create(comment("https://api.github.com"))
    assert created.outs["result"] == {"comment_id": 7, "action": "created"}
    assert thread.gets == 1000


def test_a_thread_that_links_a_1001st_page_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = EndlessThread("https://api.github.com", pages=1001)
    monkeypatch.setattr(httpcall, "send", thread.send)
    assert failure(GithubCommentProvider(), comment("https://api.github.com")) == (
        f"{FAILED}GitHub GET {COMMENTS}: more than 1000 pages"
    )
    assert thread.gets == 1000
