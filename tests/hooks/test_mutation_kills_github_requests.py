"""What ``github.comment`` sends and says: behaviours that the mutation run (tools/mutation.py
hooks, a sample of 2026-11-30) found unguarded."""

from __future__ import annotations

import socket

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
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
