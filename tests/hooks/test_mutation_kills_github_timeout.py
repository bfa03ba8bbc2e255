"""The wall-clock bound of each request of ``github.comment`` (docs/security-workflows.md,
"github.comment": ``min(15 s, the step's time left)``), read off the transport as the step calls
it, so no test waits 15 s to see it. The mutation run found that no test noticed another default."""

from __future__ import annotations

from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.test_github_comment import comment_props
from tests.support.github_double import GithubDouble


def test_each_github_request_is_bounded_by_15_seconds_when_the_step_has_more_time(
    github: GithubDouble, bounds: list[tuple[str, float]]
) -> None:
    """Production tuning (no ``tuning`` input) and a step of ten minutes: every request gets 15 s."""
    created = GithubCommentProvider().create(comment_props(github.url, timeout=600.0, tuning={}))
    assert created.outs["result"]["action"] == "created"
    assert [method for method, _ in bounds] == ["GET", "POST"]
    assert [timeout for _, timeout in bounds] == [15.0, 15.0]


def test_a_github_request_gets_only_the_time_the_step_has_left(
    github: GithubDouble, bounds: list[tuple[str, float]]
) -> None:
    """A step of 4 s: no request may run past it, so the bound is the time left, under 15 s."""
    GithubCommentProvider().create(comment_props(github.url, timeout=4.0, tuning={}))
    assert bounds, "the step sent no request"
    assert all(0.0 < timeout <= 4.0 for _, timeout in bounds), bounds
