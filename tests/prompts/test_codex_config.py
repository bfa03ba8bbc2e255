"""config.toml: each MCP server type, extra blocks, parsed back with tomllib; secrets stay names."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.config.model import CodexSettings, Mcp, McpServer
from codex_stacks.errors import CodexError, ConfigError
from codex_stacks.plan import PlanRequest, load_settings
from codex_stacks.prompts import render_codex_config
from tests.prompts.conftest import EXAMPLE, copy_example

NAMESPACE = "project-example-dev-3"


def settings(**codex: Any) -> CodexSettings:
    return CodexSettings.model_validate(codex)


def parsed(codex: CodexSettings) -> dict[str, Any]:
    return tomllib.loads(render_codex_config(codex, namespace=NAMESPACE))


def test_the_example_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXT7_API_KEY", "ctx7-secret-value")
    target, services, _ = load_settings(PlanRequest(stack="ai-slot-3", project_dir=EXAMPLE))
    text = render_codex_config(services.codex, namespace=target.namespace)
    assert "ctx7-secret-value" not in text
    assert tomllib.loads(text) == {
        "model": "gpt-5-codex",
        "model_reasoning_effort": "medium",
        "mcp_servers": {
            "context7": {"url": "https://mcp.context7.com/mcp", "bearer_token_env_var": "CONTEXT7_API_KEY"}
        },
    }


def test_stdio_server_forwards_variable_names_and_writes_only_literal_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret-1")
    monkeypatch.setenv("CODEX_GH_PAT", "ghp-secret-2")
    codex = settings(
        mcp={
            "servers": [
                {
                    "name": "github",
                    "type": "stdio",
                    "command": "npx",
                    "args": ["-y", "@modelcontextprotocol/server-github"],
                    "env": {
                        "GITHUB_TOKEN": {"envRef": "GITHUB_TOKEN"},
                        "LOG_LEVEL": {"value": 'debug "quoted"\n\u0444\x7f'},
                    },
                    "startupTimeout": "1m",
                },
                {
                    "name": "gh-renamed",
                    "type": "stdio",
                    "command": "github-mcp",
                    "args": ["stdio"],
                    "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": {"envRef": "CODEX_GH_PAT"}},
                },
            ]
        },
    )
    text = render_codex_config(codex, namespace=NAMESPACE)
    assert "ghp-secret" not in text
    servers = tomllib.loads(text)["mcp_servers"]
    assert servers["github"] == {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-github"],
        "env_vars": ["GITHUB_TOKEN"],
        "env": {"LOG_LEVEL": 'debug "quoted"\n\u0444\x7f'},
        "startup_timeout_sec": 60,
    }
    renamed = servers["gh-renamed"]
    assert renamed["env_vars"] == ["CODEX_GH_PAT"]
    assert "env" not in renamed
    # the variable is renamed at start-up by sh, which reads it from the environment: no value here
    assert renamed["command"] == "sh"
    assert renamed["args"] == [
        "-c",
        'export GITHUB_PERSONAL_ACCESS_TOKEN="${CODEX_GH_PAT}"; exec "$0" "$@"',
        "github-mcp",
        "stdio",
    ]


def test_http_and_cluster_servers() -> None:
    codex = settings(
        model="o4-mini",
        modelReasoningEffort="high",
        mcp={
            "servers": [
                {"name": "docs", "type": "http", "url": "https://docs.example/mcp", "bearerTokenEnv": "DOCS_TOKEN"},
                {"name": "open", "type": "http", "url": "https://open.example/mcp"},
                {"name": "db-tools", "type": "cluster", "service": "db-mcp", "port": 8080, "path": "sse"},
                {
                    "name": "search",
                    "type": "cluster",
                    "service": "search",
                    "port": 9000,
                    "bearerTokenEnv": "SEARCH_KEY",
                },
            ]
        },
    )
    config = parsed(codex)
    assert config["model"] == "o4-mini"
    assert config["model_reasoning_effort"] == "high"
    assert config["mcp_servers"] == {
        "docs": {"url": "https://docs.example/mcp", "bearer_token_env_var": "DOCS_TOKEN"},
        "open": {"url": "https://open.example/mcp"},
        "db-tools": {"url": f"http://db-mcp.{NAMESPACE}.svc.cluster.local:8080/sse"},
        "search": {
            "url": f"http://search.{NAMESPACE}.svc.cluster.local:9000/mcp",
            "bearer_token_env_var": "SEARCH_KEY",
        },
    }


def test_config_blocks_are_merged_and_checked() -> None:
    codex = settings(configBlocks=['approval_policy = "never"', "[sandbox_workspace_write]\nnetwork_access = true"])
    config = parsed(codex)
    assert config["approval_policy"] == "never"
    assert config["sandbox_workspace_write"] == {"network_access": True}
    assert config["model"] == "gpt-5-codex"


def test_a_blocks_top_level_key_stays_top_level_next_to_mcp_servers() -> None:
    codex = settings(
        mcp={
            "servers": [
                {"name": "docs", "type": "http", "url": "https://docs.example/mcp"},
                {"name": "db", "type": "cluster", "service": "db-mcp", "port": 8080},
            ]
        },
        configBlocks=[
            "[sandbox_workspace_write]\nnetwork_access = true",
            'approval_policy = "never"\n[profiles.fast]\nmodel = "o4-mini"',
            "[mcp_servers.db]\ntool_timeout_sec = 30",
            '[mcp_servers.extra]\ncommand = "extra-mcp"',
        ],
    )
    text = render_codex_config(codex, namespace=NAMESPACE)
    config = tomllib.loads(text)
    assert text.startswith("# Rendered by codexctl")
    assert config["approval_policy"] == "never"
    assert config["model"] == "gpt-5-codex"
    assert config["sandbox_workspace_write"] == {"network_access": True}
    assert config["profiles"] == {"fast": {"model": "o4-mini"}}
    assert config["mcp_servers"] == {
        "docs": {"url": "https://docs.example/mcp"},
        "db": {"url": f"http://db-mcp.{NAMESPACE}.svc.cluster.local:8080/mcp", "tool_timeout_sec": 30},
        "extra": {"command": "extra-mcp"},
    }


def test_merged_blocks_keep_every_toml_value() -> None:
    block = (
        'title = "a \\"quoted\\" name"\nratio = 0.5\nbig = 1e20\nwhen = 1979-05-27T07:32:00-08:00\n'
        "day = 1979-05-27\nflags = [true, false]\npoint = { x = 1, y = [2, 3] }\n"
        '"odd key" = 1\n[[hooks]]\nname = "one"\n[hooks.env]\nA = "1"\n[[hooks]]\nname = "two"\n'
        "[empty]\n"
    )
    config = parsed(settings(configBlocks=[block]))
    assert {name: value for name, value in config.items() if name not in ("model", "model_reasoning_effort")} == (
        tomllib.loads(block)
    )


def test_bad_blocks_are_named_when_rendering() -> None:
    """Blocks are checked when services.yaml loads; rendering checks them again (a model built in code)."""

    def built(*blocks: str) -> CodexSettings:
        return CodexSettings.model_construct(**{**settings().__dict__, "config_blocks": list(blocks)})

    with pytest.raises(ConfigError, match=r"codex.configBlocks\[1\]: not valid TOML on its own: "):
        render_codex_config(built('approval_policy = "never"', "[broken"), namespace=NAMESPACE)
    with pytest.raises(ConfigError, match=r"codex.configBlocks\[0\]: 'model' is set by codex.model") as caught:
        render_codex_config(built('model = "again"'), namespace=NAMESPACE)
    assert "not repeat them" in str(caught.value)
    with pytest.raises(ConfigError, match=r"codex.configBlocks\[1\]: 'a.b' is set twice"):
        render_codex_config(built("[a]\nb = 1", "a.b = 2"), namespace=NAMESPACE)


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        (["[broken"], "configBlocks.0\n  Value error, not valid TOML on its own"),
        (['model_reasoning_effort = "high"'], "set by codex.modelReasoningEffort, not by a block"),
        (["[mcp_servers.docs]\nurl = 'https://elsewhere'"], "'mcp_servers.docs.url' is set by codex.mcp.servers"),
        (["x = 1", "y = 2", "x = 3"], "block [2] repeats an earlier block: 'x' is set twice"),
    ],
)
def test_the_model_rejects_bad_blocks(blocks: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        settings(
            mcp={"servers": [{"name": "docs", "type": "http", "url": "https://docs.example/mcp"}]}, configBlocks=blocks
        )


def test_unknown_type_is_a_clear_error() -> None:
    server = McpServer.model_construct(name="odd", type="grpc", args=[], env={}, path="/mcp")
    codex = CodexSettings.model_construct(**{**settings().__dict__, "mcp": Mcp.model_construct(servers=[server])})
    with pytest.raises(ConfigError) as caught:
        render_codex_config(codex, namespace=NAMESPACE)
    assert str(caught.value).startswith("codex.mcp.servers[0].type: MCP server 'odd' has unknown type 'grpc'")
    assert "types: stdio, http, cluster" in str(caught.value)


def test_duplicate_names_are_a_clear_error() -> None:
    servers = [
        McpServer(name="docs", type="http", url="https://a.example/mcp"),
        McpServer(name="docs", type="stdio", command="docs-mcp"),
    ]
    codex = CodexSettings.model_construct(**{**settings().__dict__, "mcp": Mcp.model_construct(servers=servers)})
    with pytest.raises(ConfigError, match=r"codex.mcp.servers\[1\].name: MCP server name 'docs' is used twice"):
        render_codex_config(codex, namespace=NAMESPACE)


@pytest.mark.parametrize(
    ("mcp_yaml", "message"),
    [
        (
            "  mcp:\n    servers:\n      - name: odd\n        type: grpc\n        url: https://x.example\n",
            "codex.mcp.servers[0].type",
        ),
        (
            "  mcp:\n    servers:\n      - name: a\n        type: http\n        url: https://x.example\n"
            "      - name: a\n        type: http\n        url: https://y.example\n",
            "MCP server names must be unique; repeated: a",
        ),
    ],
)
def test_services_yaml_rejects_unknown_types_and_duplicates(tmp_path: Path, mcp_yaml: str, message: str) -> None:
    project = copy_example(tmp_path, codex_yaml=mcp_yaml)
    settings = load_settings(PlanRequest(stack="ai-slot-3", project_dir=project))[1]
    with pytest.raises(CodexError) as caught:
        _ = settings.codex  # evaluated when first used
    assert message in str(caught.value)
    assert "services.yaml" in str(caught.value)


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"name": "x", "type": "http", "url": "https://x.example", "command": "x"}, "does not use 'command'"),
        ({"name": "x", "type": "stdio", "command": "x", "url": "https://x.example"}, "does not use 'url'"),
        ({"name": "x", "type": "cluster", "service": "x", "port": 80, "url": "https://x"}, "does not use 'url'"),
        (
            {"name": "x", "type": "http", "url": "https://x.example", "bearerTokenEnv": "sk-live-abc123"},
            "'sk-live-abc123' is not an environment variable name",
        ),
        (
            {"name": "x", "type": "stdio", "command": "x", "env": {"TOKEN": {"envRef": "ghp_abc def"}}},
            "codex.mcp.servers[0].env.TOKEN.envRef",
        ),
    ],
)
def test_mistakes_that_could_leak_or_mislead_are_errors(server: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parsed(settings(mcp={"servers": [server]}))
    assert message in str(caught.value)
