"""``github.comment`` against the GitHub API double's harshest modes: a list that lags behind a
POST that committed before a 502, secondary rate limits answered 403 with ``retry-after``, and
a spent primary limit. GitHub documents the rate-limit answers
(docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api: wait for ``retry-after``,
or until ``x-ratelimit-reset``, then retry); the lag is observed behaviour (see
tests/support/github_double.py).
"""

from __future__ import annotations

import time

from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from tests.hooks.test_github_comment import MARKER, REPO, bodies, comment_props
from tests.support.github_double import GithubDouble


def test_a_post_that_failed_after_creating_is_not_posted_again_while_the_list_lags(github: GithubDouble) -> None:
    """The POST landed, the proxy answered 502, and the list does not show the comment yet: posting
    again makes a second comment. The step must end with one comment on the thread."""
    github.fault("POST", "/comments", status=502, after=True)
    GithubCommentProvider().create(comment_props(github.url))
    github.settle()
    assert bodies(github) == [f"Slot 3 is up\n\n{MARKER}"]


def test_a_403_secondary_rate_limit_is_waited_out_and_retried(github: GithubDouble) -> None:
    """GitHub answers a secondary limit with 403 (or 429) and ``retry-after``; the client waits that long."""
    github.secondary_limit("POST", "/comments", status=403, retry_after=1)
    started = time.monotonic()
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    assert time.monotonic() - started >= 1.0
    assert len(bodies(github)) == 1


def test_retry_after_of_a_429_is_honoured(github: GithubDouble) -> None:
    """Retrying before ``retry-after`` has passed only meets the limit again (and risks a ban)."""
    github.secondary_limit("GET", "/comments", status=429, retry_after=1)
    created = GithubCommentProvider().create(comment_props(github.url))
    assert created.outs["result"]["action"] == "created"
    assert [request.status for request in github.calls("GET")] == [429, 200]


def test_a_spent_primary_limit_is_waited_for_until_its_reset(github: GithubDouble) -> None:
    """403 with ``x-ratelimit-remaining: 0``: wait until ``x-ratelimit-reset`` (here about 1 s), then go on."""
    github.exhaust(reset_in=1.0)
    created = GithubCommentProvider().create(comment_props(github.url, timeout=10.0))
    assert created.outs["result"]["action"] == "created"
    assert bodies(github) == [f"Slot 3 is up\n\n{MARKER}"]
    assert REPO in github.calls("POST")[0].path
