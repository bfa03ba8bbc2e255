"""Writing codex's config.toml (codex_stacks/config/tomlblocks.py), where a fifth sampled mutation
run (tools/mutation.py config --sample 60 --seed 41 --recheck) found that no test read the error
for a value TOML cannot hold: it names the value's type."""

from __future__ import annotations

import pytest

from codex_stacks.config.tomlblocks import dumps


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        pytest.param({1, 2}, "set", id="a-set"),
        pytest.param(b"x", "bytes", id="bytes"),
        pytest.param([1, None], "NoneType", id="a-null-inside-a-list"),
    ],
)
def test_a_value_toml_cannot_hold_is_named_by_its_type(value: object, kind: str) -> None:
    with pytest.raises(TypeError) as caught:
        dumps({"mcp_servers": {"docs": {"args": value}}})
    assert str(caught.value) == f"cannot write {kind} as TOML"


def test_the_values_toml_can_hold_are_written() -> None:
    """Plain keys first, a table holding only tables gets no header of its own, and a table
    inside a list that is not all tables is written inline."""
    data = {"a": [1, 2.5, True, "x", {"n": 1}], "t": {"k": {"n": 1}}}
    assert dumps(data) == 'a = [1, 2.5, true, "x", { n = 1 }]\n\n[t.k]\nn = 1\n'
