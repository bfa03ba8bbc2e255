"""Every error of codex's extra config.toml blocks (codex_stacks/config/tomlblocks.py) printed
whole, as ``codexctl validate`` shows it for ``codex.configBlocks``: a block that is not TOML, one
that sets what codexctl writes, and two blocks that set the same key."""

from __future__ import annotations

import pytest

from tests.config.error_messages import problems_of

HEAD = "project: demo\nenvironments:\n  dev: {}\ncodex:\n"
"""``codex:`` is line 4; ``configBlocks:`` line 5 (or 8 after an MCP server), its blocks below."""
SERVER = "  mcp:\n    servers:\n      - {name: docs, type: http, url: 'https://docs.example'}\n"


def blocks(*texts: str, server: bool = False) -> str:
    listed = "".join(
        "    - |\n" + "".join(f"      {line}\n" for line in text.splitlines()) if "\n" in text else f"    - {text!r}\n"
        for text in texts
    )
    return HEAD + (SERVER if server else "") + "  configBlocks:\n" + listed


CASES = [
    pytest.param(
        blocks("x = "),
        "services.yaml:6: codex.configBlocks[0]: not valid TOML on its own: Invalid value (at end of document)",
        id="not-toml",
    ),
    pytest.param(
        blocks("a = 1", "a = 1\na = 2"),
        "services.yaml:7: codex.configBlocks[1]: not valid TOML on its own: Cannot overwrite a value "
        "(at line 2, column 6)",
        id="key-twice-in-one-block",
    ),
    pytest.param(
        blocks("model = 'o3'"),
        "services.yaml:6: codex.configBlocks[0]: 'model' is set by codex.model, not by a block",
        id="model",
    ),
    pytest.param(
        blocks("model_reasoning_effort = 'high'"),
        "services.yaml:6: codex.configBlocks[0]: 'model_reasoning_effort' is set by codex.modelReasoningEffort, "
        "not by a block",
        id="reasoning-effort",
    ),
    pytest.param(
        blocks("[mcp_servers.docs]\nurl = 'https://elsewhere'", server=True),
        "services.yaml:9: codex.configBlocks[0]: 'mcp_servers.docs.url' is set by codex.mcp.servers (docs), "
        "not by a block",
        id="server-key-written-by-codexctl",
    ),
    pytest.param(
        blocks("[mcp_servers.docs]\ntool_timeout_sec = 60", "[mcp_servers.other]\nurl = 'u'", server=True),
        "no problem",
        id="server-keys-codexctl-leaves",
    ),
    pytest.param(
        blocks("a = 1", "b = 1", "a = 2"),
        "services.yaml:5: codex.configBlocks: block [2] repeats an earlier block: 'a' is set twice",
        id="two-blocks-one-key",
    ),
    pytest.param(
        blocks("[t]\nx = 1", "[t]\ny = 1", "[t]\nx = 2"),
        "services.yaml:5: codex.configBlocks: block [2] repeats an earlier block: 't.x' is set twice",
        id="two-blocks-one-table-key",
    ),
    pytest.param(
        blocks('"a b" = 1', '"a b" = 2'),
        "services.yaml:5: codex.configBlocks: block [1] repeats an earlier block: '\"a b\"' is set twice",
        id="quoted-key",
    ),
    pytest.param(
        blocks("t = 1", "[t]\nx = 1"),
        "services.yaml:5: codex.configBlocks: block [1] repeats an earlier block: 't' is set twice",
        id="value-then-table",
    ),
    pytest.param(blocks("[[hooks]]\na = 1", "[[hooks]]\na = 2"), "no problem", id="arrays-of-tables-append"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_what_validate_prints(text: str, expected: str) -> None:
    assert problems_of(text) == expected
