"""A key YAML reads as null or a boolean (``null:``, ``~:``, ``true:``, ``yes:``) is refused where
it is written: it used to become a name "None" or "True" (an environment called "None", reported
later as an invalid namespace 'demo-None')."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.loader import parse_services
from codex_stacks.errors import CodexError

SOURCE = Path("/project/services.yaml")


@pytest.mark.parametrize(("written", "reads_as"), [("null", "null"), ("~", "null"), ("true", "a boolean")])
def test_an_environment_named_by_a_yaml_value_is_refused_at_its_line(written: str, reads_as: str) -> None:
    text = f"project: demo\nenvironments:\n  dev: {{}}\n  {written}: {{}}\n"
    with pytest.raises(CodexError) as caught:
        parse_services(text, source=SOURCE)
    assert str(caught.value) == (
        f"/project/services.yaml:4: environments: the key '{written}' reads as {reads_as}, not as a name\n"
        f"  hint: quote it to use it as a name: '{written}':"
    )


def test_a_quoted_key_is_a_name() -> None:
    text = "project: demo\nenvironments:\n  dev: {}\n  'true': {}\n"
    document = parse_services(text, source=SOURCE)
    assert sorted(document.environments) == ["dev", "true"]
