"""What ``github.comment`` sends and says: behaviours that the mutation run (tools/mutation.py
hooks, a sample of 2026-11-30) found unguarded."""

from __future__ import annotations

import socket

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider, checked_api_url
from tests.hooks.test_github_comment import comment_props
from tests.support.github_double import GithubDouble


def test_every_request_names_the_rest_api_version_the_step_is_written_for(github: GithubDouble) -> None:
    """GitHub answers in the shape of the version a request names (docs.github.com, "API
    versions"); the step reads the shapes of 2022-11-28, so it asks for that one every time."""
    github.add_comments("acme/alimentor", 42, ["an earlier comment"])
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    versions = [
        {name.lower(): value for name, value in request.headers.items()}.get("x-github-api-version")
        for request in github.calls()
    ]
    assert len(versions) >= 2
    assert set(versions) == {"2022-11-28"}


def test_a_short_transport_error_is_quoted_whole() -> None:
    """Only a reason longer than 200 characters is cut (and then marked with "…")."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HookError) as failure:
        GithubCommentProvider().create(comment_props(f"http://127.0.0.1:{port}"))
    message = str(failure.value)
    assert message.endswith("Connection refused; gave up after 3 attempts"), message
    assert "…" not in message


@pytest.mark.parametrize("api_url", ["https://user@api.github.com", "https://:secret@api.github.com"])
def test_an_api_url_with_only_a_user_name_or_only_a_password_is_refused(
    api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials in the URL would travel beside the token: refused whichever part is given."""
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    with pytest.raises(HookError) as failure:
        checked_api_url(api_url)
    # the user or password is never shown
    assert str(failure.value) == (
        "refusing apiUrl 'https://***@api.github.com': it must be a plain https://host[/path] URL"
    )


def test_an_untrusted_api_host_is_refused_with_the_way_to_trust_github_enterprise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    with pytest.raises(HookError) as failure:
        checked_api_url("https://ghe.example.com/api/v3")
    assert str(failure.value) == (
        "refusing apiUrl 'https://ghe.example.com/api/v3': the token goes only to api.github.com "
        "(set GITHUB_API_URL on the runner for GitHub Enterprise)"
    )
