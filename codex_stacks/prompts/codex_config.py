"""The agent's ``config.toml``, rendered from ``codex`` in services.yaml and proven by parsing it back.

Secrets stay out of the file: a stdio server's ``envRef`` becomes a name in ``env_vars`` (codex
forwards that variable from the agent's own environment), an http server's token a name in
``bearer_token_env_var``. Only literal ``value`` entries, already plain text in services.yaml, are
written as values.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from typing import Any

from codex_stacks.config.hooks import parse_duration
from codex_stacks.config.model import CodexSettings, McpServer
from codex_stacks.config.tomlblocks import check_blocks, dumps, merge, parse_block
from codex_stacks.config.tomlblocks import key as _key
from codex_stacks.config.tomlblocks import string as _string
from codex_stacks.errors import ConfigError, Location
from codex_stacks.prompts.context import cluster_url

MCP_TYPES = ("stdio", "http", "cluster")
HEADER = "# Rendered by codexctl from services.yaml (codex); secrets are referenced by variable name only."
_BLOCK_HINT = (
    "set model, reasoning effort and MCP servers with their codex keys; a block may add keys and tables, "
    "not repeat them"
)
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FOREIGN_FIELDS = {
    "stdio": ("url", "service", "port", "bearer_token_env"),
    "http": ("command", "service", "port", "env"),
    "cluster": ("command", "url", "env"),
}
"""Fields that mean nothing for a type: set anyway, they are a mistake worth naming."""
_RENAME_SCRIPT = 'export {assignments}; exec "$0" "$@"'


def _strings(values: Sequence[str]) -> str:
    return "[" + ", ".join(_string(value) for value in values) + "]"


def _check_name(name: str, *, where: str) -> None:
    if not _ENV_NAME_RE.match(name):
        raise ConfigError(
            f"{name!r} is not an environment variable name",
            location=Location(path=where),
            hint="give the NAME of a variable that holds the secret, never the secret itself",
        )


def _check_server(server: McpServer, *, index: int, seen: set[str]) -> None:
    where = f"codex.mcp.servers[{index}]"
    if server.type not in MCP_TYPES:
        raise ConfigError(
            f"MCP server {server.name!r} has unknown type {server.type!r}",
            location=Location(path=f"{where}.type"),
            hint=f"types: {', '.join(MCP_TYPES)}",
        )
    if server.name in seen:
        raise ConfigError(
            f"MCP server name {server.name!r} is used twice",
            location=Location(path=f"{where}.name"),
            hint="each MCP server needs its own name (it is its [mcp_servers.<name>] table)",
        )
    seen.add(server.name)
    for field in _FOREIGN_FIELDS[server.type]:
        if getattr(server, field):
            raise ConfigError(
                f"MCP server {server.name!r} of type {server.type} does not use {field!r}",
                location=Location(path=f"{where}.{field}"),
                hint="stdio: command/args/env; http: url/bearerTokenEnv; cluster: service/port/path/bearerTokenEnv",
            )
    if server.bearer_token_env is not None:
        _check_name(server.bearer_token_env, where=f"{where}.bearerTokenEnv")
    for name, source in server.env.items():
        _check_name(name, where=f"{where}.env.{name}")
        if source.env_ref is not None:
            _check_name(source.env_ref, where=f"{where}.env.{name}.envRef")


def _stdio_lines(server: McpServer) -> list[str]:
    """command/args, plus forwarded variable names; a renamed variable is set by a tiny sh wrapper."""
    command, args = server.command or "", list(server.args)
    forwarded = sorted({source.env_ref for source in server.env.values() if source.env_ref is not None})
    renamed = {
        name: source.env_ref
        for name, source in sorted(server.env.items())
        if source.env_ref is not None and source.env_ref != name
    }
    if renamed:
        assignments = " ".join(f'{name}="${{{ref}}}"' for name, ref in renamed.items())
        command, args = "sh", ["-c", _RENAME_SCRIPT.format(assignments=assignments), command, *args]
    lines = [f"command = {_string(command)}"]
    if args:
        lines.append(f"args = {_strings(args)}")
    if forwarded:
        lines.append(f"env_vars = {_strings(forwarded)}")
    literal = {name: source.value for name, source in sorted(server.env.items()) if source.value is not None}
    if literal:
        pairs = ", ".join(f"{_key(name)} = {_string(value)}" for name, value in literal.items())
        lines.append(f"env = {{ {pairs} }}")
    return lines


def _server_table(server: McpServer, *, namespace: str) -> str:
    if server.type == "stdio":
        lines = _stdio_lines(server)
    else:
        url = cluster_url(server, namespace) if server.type == "cluster" else server.url or ""
        lines = [f"url = {_string(url)}"]
        if server.bearer_token_env:
            lines.append(f"bearer_token_env_var = {_string(server.bearer_token_env)}")
    if server.startup_timeout is not None:
        lines.append(f"startup_timeout_sec = {int(parse_duration(server.startup_timeout))}")
    return "\n".join([f"[mcp_servers.{_key(server.name)}]", *lines])


def _parse(text: str, *, where: str, hint: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the codex config is not valid TOML: {exc}", location=Location(path=where), hint=hint
        ) from None


def render_codex_config(codex: CodexSettings, *, namespace: str) -> str:
    """The whole config.toml; a ConfigError names the server or block that breaks it.

    The blocks are merged as data, so a block's top-level key stays top-level (pasted after the
    ``[mcp_servers.*]`` tables it would become a key of the last one), and written out once.
    """
    seen: set[str] = set()
    for index, server in enumerate(codex.mcp.servers):
        _check_server(server, index=index, seen=seen)
    parts = [
        f"model = {_string(codex.model)}\nmodel_reasoning_effort = {_string(codex.model_reasoning_effort)}",
        *(_server_table(server, namespace=namespace) for server in codex.mcp.servers),
    ]
    config = _parse(
        "\n\n".join(parts) + "\n", where="codex.mcp.servers", hint="this is a bug if services.yaml validated"
    )
    names = [server.name for server in codex.mcp.servers]
    for index, block in enumerate(codex.config_blocks):
        try:
            check_blocks([block], server_names=names)
            merge(config, parse_block(block))
        except ValueError as exc:
            raise ConfigError(
                str(exc),
                location=Location(path=f"codex.configBlocks[{index}]"),
                hint=_BLOCK_HINT,
            ) from None
    text = f"{HEADER}\n{dumps(config)}"
    _parse(text, where="codex.configBlocks", hint="this is a bug: the merged config did not parse back")
    return text
