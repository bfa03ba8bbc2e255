"""Writing codex's config.toml (codex_stacks/config/tomlblocks.py), where a sixth sampled mutation
run (tools/mutation.py config --sample 60 --seed 43 --recheck) found that no test wrote a file
with no top-level keys: it starts with its first table's header, not with a blank line."""

from __future__ import annotations

import tomllib

from codex_stacks.config.tomlblocks import dumps


def test_a_file_of_tables_only_starts_with_the_first_header() -> None:
    """Tables are separated by one blank line; there is none before the first, and the file
    ends with exactly one line break."""
    data = {"model_providers": {"local": {"name": "x"}}, "mcp_servers": {"docs": {"command": "y"}}}
    text = dumps(data)
    assert text == '[model_providers.local]\nname = "x"\n\n[mcp_servers.docs]\ncommand = "y"\n'
    assert tomllib.loads(text) == data
