"""An environment name starts with a letter or a digit: ``.``, ``..``, ``-x`` or ``_x`` would make a
stack name Pulumi takes but a namespace (``demo-.``) and a key path (``environments...x``) nobody
can read."""

from __future__ import annotations

import pytest

from tests.config.error_messages import problems_of
from tests.config.test_error_messages_loader import ENV_NAME_HINT


@pytest.mark.parametrize(("name", "first"), [(".", "."), ("..", "."), ("-x", "-"), ("_x", "_")])
def test_a_name_that_starts_with_a_sign_is_refused_at_its_line(name: str, first: str) -> None:
    assert problems_of(f"project: demo\nenvironments:\n  dev: {{}}\n  '{name}': {{}}\n") == (
        f"services.yaml:4: environments: environment name '{name}' is not usable: it starts with '{first}'; "
        f"it must start with a letter or a digit\n{ENV_NAME_HINT}"
    )


@pytest.mark.parametrize("name", ["7x", "x-7", "qa2"])
def test_a_name_that_starts_with_a_letter_or_digit_is_usable(name: str) -> None:
    assert problems_of(f"project: demo\nenvironments:\n  dev: {{}}\n  '{name}': {{}}\n") == "no problem"
