"""What a ``run:`` step says when its script fails or runs too long (providers/shell.py), whole:
the exit code and the end of what the script printed, with the step's ``env`` values masked."""

from __future__ import annotations

import pytest

from codex_stacks.components.hooks.providers.shell import ShellStepProvider
from tests.hooks.test_error_messages_base import failure, shell

FAILED = "hook codex/afterApply/step failed: "
TOKEN = {"env:TOKEN": "s3cr"}
"""Four characters: the shortest value that is masked."""


@pytest.mark.parametrize(
    ("script", "secrets", "timeout", "expected"),
    [
        pytest.param("echo out; echo boom >&2; exit 3", None, 5.0, "script exited with 3: boom", id="stderr-first"),
        pytest.param("echo only out; exit 1", None, 5.0, "script exited with 1: only out", id="else-stdout"),
        pytest.param("exit 7", None, 5.0, "script exited with 7: (no output)", id="silent"),
        pytest.param(
            "printf 'x%.0s' $(seq 1) >&2; printf 'y%.0s' $(seq 1999) >&2; exit 1",
            None,
            5.0,
            "script exited with 1: x" + "y" * 1999,
            id="2000-characters-of-stderr-whole",
        ),
        pytest.param(
            "printf 'x' >&2; printf 'y%.0s' $(seq 2000) >&2; exit 1",
            None,
            5.0,
            "script exited with 1: " + "y" * 2000,
            id="2001-characters-keep-the-last-2000",
        ),
        pytest.param(
            "printf 'x' ; printf 'y%.0s' $(seq 2000); exit 1",
            None,
            5.0,
            "script exited with 1: " + "y" * 2000,
            id="stdout-keeps-the-last-2000-too",
        ),
        pytest.param(
            'echo "token=$TOKEN" >&2; exit 1', TOKEN, 5.0, "script exited with 1: token=[secret]", id="env-value-masked"
        ),
        pytest.param(
            'echo "token=$TOKEN" >&2; exit 1',
            {"env:TOKEN": "abc"},
            5.0,
            "script exited with 1: token=abc",
            id="three-characters-not-masked",
        ),
        pytest.param("sleep 5", None, 0.3, "script timed out after 0.3s and was killed", id="timeout"),
    ],
)
def test_a_failed_script_says(script: str, secrets: dict[str, str] | None, timeout: float, expected: str) -> None:
    assert failure(ShellStepProvider(), shell(script, secrets=secrets, timeout=timeout)) == FAILED + expected


def test_what_a_script_prints_goes_to_the_log_masked(capfd: pytest.CaptureFixture[str]) -> None:
    ShellStepProvider().create(shell('echo "logged in as $TOKEN"', secrets=TOKEN))
    assert capfd.readouterr().err == "logged in as [secret]\n"
