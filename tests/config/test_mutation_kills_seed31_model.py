"""The agent workspace's repository URL (codex_stacks/config/model.py), where a third sampled
mutation run (tools/mutation.py config --sample 60 --seed 31) found behaviour no in-process test
held: each of the URL's refusals on its own."""

from __future__ import annotations

import pytest

from codex_stacks.errors import CodexError
from tests.config.conftest import load

REFUSAL = "the repository URL must be https://host/owner/name(.git), without credentials"


def _workspace(url: str) -> str:
    return f"project: demo\ncodex:\n  workspace:\n    source: pvc\n    pvc:\n      repositoryUrl: '{url}'\n"


@pytest.mark.parametrize(
    "url",
    [
        "https://user@github.com/owner/name.git",  # credentials, no space
        "https://token:x-oauth@github.com/owner/name",  # user and password, no space
        "https://github.com/owner/na me.git",  # a space, no credentials
        "http://github.com/owner/name.git",  # not https
        "https://github.com/" + "a" * 482,  # 501 characters
    ],
    ids=["user", "user-password", "space", "http", "501-long"],
)
def test_a_repository_url_with_credentials_a_space_or_too_long_is_refused(url: str) -> None:
    with pytest.raises(CodexError) as info:
        load(_workspace(url))
    problems = getattr(info.value, "problems", [info.value])
    assert [(p.message, p.location.path, p.location.line) for p in problems] == [
        (REFUSAL, "codex.workspace.pvc.repositoryUrl", 6)
    ]


def test_a_repository_url_of_500_characters_loads() -> None:
    url = "https://github.com/" + "a" * 481  # 19 + 481 = 500
    assert len(url) == 500
    settings = load(_workspace(url))
    assert settings.codex.workspace.pvc is not None
    assert settings.codex.workspace.pvc.repository_url == url
