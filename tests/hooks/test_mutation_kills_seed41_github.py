"""What a fresh mutation sample of the hook providers (seed 41) found unread in ``github.comment``:
a password holding "@" in a refused apiUrl, an apiUrl written with a trailing "/", and a POST
whose connection broke (no answer) tried again after the step's backoff."""

from __future__ import annotations

import email.message
from typing import Any

import pytest

from codex_stacks.components.hooks.providers import httpcall
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.test_error_messages_base import failure
from tests.hooks.test_error_messages_github_comment import COMMENTS, FAILED, PLAIN, comment


def test_a_password_with_an_at_sign_is_hidden_whole() -> None:
    """``urlsplit`` takes the last "@" as the end of the user part, so the password is all before it."""
    assert failure(GithubCommentProvider(), comment("https://bot:p@ss-word@api.github.com")) == (
        f"{FAILED}refusing apiUrl 'https://***@api.github.com': {PLAIN}"
    )


class Github:
    """GitHub's transport replaced in process (``httpcall.send``, the network boundary): an empty
    thread; the first POST's connection breaks before an answer (``TransportError``, as a reset
    does), the next one creates comment 7."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def send(self, method: str, url: str, **_: Any) -> httpcall.Reply:
        self.requests.append((method, url))
        headers = email.message.Message()
        headers["Content-Type"] = "application/json"
        if method == "POST":
            if sum(1 for seen, _ in self.requests if seen == "POST") == 1:
                raise httpcall.TransportError("ConnectionResetError: [Errno 104] Connection reset by peer")
            return httpcall.Reply(201, "Created", b'{"id": 7}', headers)
        return httpcall.Reply(200, "OK", b"[]", headers)


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Github:
    fake = Github()
    monkeypatch.setattr(httpcall, "send", fake.send)
    return fake


def test_an_api_url_with_a_trailing_slash_gets_no_double_slash(github: Github) -> None:
    created = GithubCommentProvider().create(comment("https://api.github.com/"))
    assert created.outs["result"] == {"comment_id": 7, "action": "created"}
    listed = f"https://api.github.com{COMMENTS}?per_page=100&page=1"
    posted = f"https://api.github.com{COMMENTS}"
    assert set(github.requests) == {("GET", listed), ("POST", posted)}


def test_a_post_without_an_answer_is_tried_again_after_the_backoff(
    github: Github, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No answer: the comment may exist, so the thread is read again first; it does not, so the
    POST is sent again after the step's backoff (retry_delay 0.01 s for the first attempt)."""
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    created = GithubCommentProvider().create(comment("https://api.github.com"))
    assert created.outs["result"] == {"comment_id": 7, "action": "created"}
    methods = [method for method, _ in github.requests]
    assert methods.count("POST") == 2
    assert methods[:2] == ["GET", "POST"]
    assert methods[-1] == "POST"
    assert 0.01 in slept
