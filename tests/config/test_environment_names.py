"""An environment's name must work as a Pulumi stack name (a stack picks its environment by name):
an empty or unprintable name is one error at its own line, not a namespace error later."""

from __future__ import annotations

import pytest

from codex_stacks.errors import CombinedError, ConfigError
from tests.config.conftest import load


@pytest.mark.parametrize(
    ("key", "shown", "reason"),
    [
        ('""', "''", "it is empty"),
        ('"dev stage"', "'dev stage'", "invalid character ' ' at position 4"),
        ('"dev\\e[31m"', "'dev\\x1b[31m'", "invalid character '\\x1b' at position 4"),
        ("staging/ai", "'staging/ai'", "invalid character '/' at position 8"),
        ("e" * 101, "'" + "e" * 39 + "…", "it is 101 characters long; a stack name has at most 100"),
    ],
)
def test_an_unusable_environment_name_is_reported_at_its_key(key: str, shown: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(f"project: demo\nenvironments:\n  dev: {{}}\n  {key}: {{}}\n")
    assert info.value.message == f"environment name {shown} is not usable: {reason}"
    assert info.value.location.line == 4
    assert info.value.location.path == "environments"  # the name itself is never echoed as a key path
    assert "\x1b" not in str(info.value)


def test_a_long_name_is_shortened_in_the_message() -> None:
    with pytest.raises(ConfigError) as info:
        load(f"project: demo\nenvironments:\n  {'x' * 5000}: {{}}\n")
    assert len(info.value.message) < 200


def test_each_bad_name_is_its_own_error_and_good_names_still_load() -> None:
    with pytest.raises(CombinedError) as info:
        load('project: demo\nenvironments:\n  "": {}\n  dev: {}\n  " ": {}\n')
    assert [error.location.line for error in info.value.problems] == [3, 5]
    loaded = load("project: demo\nenvironments:\n  dev-2: {}\n  ai: {}\n", stack="dev-2")
    assert loaded.environment("ai") is not None
    assert loaded.environment("dev-2") is not None
