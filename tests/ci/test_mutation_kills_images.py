"""The line ``ci images`` quotes from a failed docker command (codex_stacks/ci/images.py): docker's
own ``Error response from daemon: …`` wins over an earlier line that merely names a problem."""

from __future__ import annotations

from codex_stacks.ci.images import telling_line


def test_the_daemons_error_is_quoted_not_an_earlier_warning() -> None:
    output = (
        "Using default tag: 7-bookworm\n"
        "cannot read credentials store: no such helper, using none\n"
        "Error response from daemon: pull access denied for localhost:32000/library/redis\n"
    )

    assert telling_line(output, code=1) == (
        "Error response from daemon: pull access denied for localhost:32000/library/redis"
    )
