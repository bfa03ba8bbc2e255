"""``codex:adopt``: server-side apply forces ownership only on the up that adopts the old tool's objects."""

from __future__ import annotations

import pytest

from codex_stacks.errors import ConfigError
from codex_stacks.plan.adoption import force_conflicts


@pytest.mark.parametrize(("value", "forced"), [(None, False), ("", False), ("none", False), ("kubectl", True)])
def test_only_the_adopting_up_forces_conflicts(value: str | None, forced: bool) -> None:
    assert force_conflicts(value) is forced


@pytest.mark.parametrize("value", ["true", "yes", "helm", "always"])
def test_anything_else_is_a_config_error_naming_the_key(value: str) -> None:
    with pytest.raises(ConfigError) as failure:
        force_conflicts(value)
    assert str(failure.value).startswith(f"codex:adopt: {value!r} is not an adoption mode")
