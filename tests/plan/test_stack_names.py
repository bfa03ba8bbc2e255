"""Stack names are checked before anything is read (codex_stacks.stackconfig.check_stack_name).

The rule is Pulumi's (``ParseStackName`` in pulumi/pulumi ``sdk/go/common/tokens/stack_name.go``):
1 to 100 characters of ``[A-Za-z0-9_.-]``; ``organization/project/stack`` names a stack too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import ConfigError
from codex_stacks.stackconfig import check_stack_name, program_config, stack_request


@pytest.mark.parametrize(
    "stack",
    ["dev", "ai-slot-3", "ai_staging.v2", "s" * 100, "acme/codex/ai-slot-3", "codex/dev", "..", "_"],
)
def test_names_pulumi_takes(stack: str) -> None:
    assert check_stack_name(stack) == stack


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("", "the stack name (or a part of it) is empty"),
        ("acme//dev", "the stack name (or a part of it) is empty"),
        ("s" * 101, "the stack name is 101 characters long; Pulumi allows at most 100"),
        ("dev slot", "invalid character ' ' at position 4 of the stack name"),
        ("dev\x1b[31m", "invalid character '\\x1b' at position 4 of the stack name"),
        ("dév", "invalid character 'é' at position 2 of the stack name"),
        ("a/b/c/d", "a stack name has at most three parts: organization/project/stack"),
    ],
)
def test_names_pulumi_refuses(stack: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_stack_name(stack)
    assert str(info.value).split("\n")[0] == f"--stack: {message}"


def test_the_name_is_checked_before_any_file_is_read(tmp_path: Path) -> None:
    """A name of 5,000 characters would be a file name too long for the OS (Pulumi.<name>.yaml):
    the stack's settings are never looked up with it."""
    (tmp_path / "Pulumi.yaml").write_text("name: codex\nruntime: python\n", encoding="utf-8")
    for call in (
        lambda: program_config("x" * 5000, program_dir=tmp_path),
        lambda: stack_request("x" * 5000, project_dir=tmp_path, program_dir=tmp_path),
    ):
        with pytest.raises(ConfigError, match="the stack name is 5000 characters long"):
            call()
