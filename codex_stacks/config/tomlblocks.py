"""TOML for codex's config.toml: parse extra blocks, merge them without repeats, write the result.

The blocks of ``codex.configBlocks`` are parsed and merged as data, never pasted as text: pasted
after a table header, a block's top-level key would silently become a key of that table. tomllib
(stdlib) reads; :func:`dumps` writes the small subset tomllib returns.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

RESERVED_TOP_LEVEL = ("model", "model_reasoning_effort")
"""Keys codexctl writes itself from ``codex.model`` and ``codex.modelReasoningEffort``."""
RENDERED_SERVER_KEYS = frozenset(
    {"command", "args", "env_vars", "env", "url", "bearer_token_env_var", "startup_timeout_sec"}
)
"""Keys codexctl writes into ``[mcp_servers.<name>]`` of a server in ``codex.mcp.servers``; a block
may add other keys to such a table (``tool_timeout_sec``, say), not these."""
_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def parse_block(text: str) -> dict[str, Any]:
    """One block as data; ValueError (one line, with TOML's own line and column) if it is not TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML on its own: {exc}") from None


def dotted(path: Sequence[str]) -> str:
    return ".".join(key(part) for part in path)


def merge(into: dict[str, Any], extra: Mapping[str, Any], *, path: tuple[str, ...] = ()) -> None:
    """Add ``extra`` to ``into``: tables merge, arrays of tables append, anything else set twice is a
    ValueError naming the key."""
    for name, value in extra.items():
        here = (*path, name)
        if name not in into:
            into[name] = copy.deepcopy(value)
        elif isinstance(into[name], dict) and isinstance(value, dict):
            merge(into[name], value, path=here)
        elif _array_of_tables(into[name]) and _array_of_tables(value):
            into[name] = [*into[name], *copy.deepcopy(value)]
        else:
            raise ValueError(f"{dotted(here)!r} is set twice")


class BlockError(ValueError):
    """What is wrong with one block, and which one (its index in ``codex.configBlocks``)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


def check_blocks(blocks: Sequence[str], *, server_names: Sequence[str] = ()) -> None:
    """Each block is TOML, no two blocks set the same key, and none sets a key codexctl writes."""
    merged: dict[str, Any] = {}
    for index, block in enumerate(blocks):
        try:
            data = parse_block(block)
            for name in RESERVED_TOP_LEVEL:
                if name in data:
                    raise ValueError(f"{name!r} is set by codex.{_camel(name)}, not by a block")
            servers = data.get("mcp_servers")
            if isinstance(servers, dict):
                for server in server_names:
                    table = servers.get(server)
                    taken = sorted(RENDERED_SERVER_KEYS & set(table)) if isinstance(table, dict) else []
                    if taken:
                        raise ValueError(
                            f"'mcp_servers.{key(server)}.{taken[0]}' is set by codex.mcp.servers ({server}), "
                            "not by a block"
                        )
            merge(merged, data)
        except ValueError as exc:
            raise BlockError(index, str(exc)) from None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def key(name: str) -> str:
    return name if _BARE_KEY_RE.match(name) else string(name)


def string(value: str) -> str:
    """A TOML basic string (JSON's escapes are a subset TOML accepts)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _array_of_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key(name)} = {_value(item)}" for name, item in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any], *, header: str | None) -> None:
    plain = [(name, value) for name, value in table.items() if not _nested(value)]
    if header is not None:
        lines.extend(["", header])
    for name, value in plain:
        lines.append(f"{key(name)} = {_value(value)}")
    for name, value in table.items():
        here = (*path, name)
        if isinstance(value, dict):
            # a table with only sub-tables needs no header of its own
            own = any(not _nested(item) for item in value.values()) or not value
            _table(lines, here, value, header=f"[{dotted(here)}]" if own else None)
        elif _array_of_tables(value):
            for item in value:
                _table(lines, here, item, header=f"[[{dotted(here)}]]")


def _nested(value: Any) -> bool:
    return isinstance(value, dict) or _array_of_tables(value)


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text for what tomllib returns: top-level keys first, then each table under its header."""
    lines: list[str] = []
    _table(lines, (), data, header=None)
    return "\n".join(lines).lstrip("\n") + "\n"
