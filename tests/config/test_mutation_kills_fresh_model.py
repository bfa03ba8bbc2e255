"""The agent's PVC workspace URL (codex_stacks/config/model.py), where a fresh sampled mutation
run (tools/mutation.py config --sample 60 --seed 29) found a bound no in-process test held."""

from __future__ import annotations

import pytest

from codex_stacks.errors import CodexError, CombinedError
from tests.config.conftest import load

PREFIX = "https://github.com/acme/"
SUFFIX = ".git"


def _workspace(url: str) -> str:
    return f"project: demo\ncodex:\n  workspace:\n    source: pvc\n    pvc:\n      repositoryUrl: {url}\n"


def _url(length: int) -> str:
    """An https URL of exactly ``length`` characters."""
    url = PREFIX + "r" * (length - len(PREFIX) - len(SUFFIX)) + SUFFIX
    assert len(url) == length
    return url


def test_a_repository_url_of_500_characters_is_cloned() -> None:
    url = _url(500)
    workspace = load(_workspace(url)).codex.workspace
    assert workspace.pvc is not None
    assert workspace.pvc.repository_url == url


def test_a_repository_url_of_501_characters_is_refused_at_its_key() -> None:
    with pytest.raises(CodexError) as info:
        load(_workspace(_url(501)))
    error = info.value
    (problem,) = error.problems if isinstance(error, CombinedError) else [error]
    assert problem.message == "the repository URL must be https://host/owner/name(.git), without credentials"
    assert (problem.location.path, problem.location.line) == ("codex.workspace.pvc.repositoryUrl", 6)
