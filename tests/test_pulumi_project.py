"""Pulumi.yaml declares every ``codex:*`` key the program reads, in the form the CLI accepts."""

from __future__ import annotations

import re

import yaml

from codex_stacks.plan.hooks import CODEX_SECRETS, GITHUB_TOKEN_CONFIG
from tests.conftest import REPO_ROOT

ALLOWED_TYPES = {"string", "integer", "boolean", "array"}  # the project file schema's simple types
DECLARATION_KEYS = {"type", "items", "description", "secret", "default"}


def project() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_project_file_basics() -> None:
    data = project()
    assert data["name"] == "codex"
    assert data["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert data["stackConfigDir"] == "stacks"
    assert (REPO_ROOT / "stacks" / "Pulumi.dev.yaml").is_file()
    assert (REPO_ROOT / "stacks" / "Pulumi.ai-staging.yaml").is_file()


def test_every_config_key_is_declared_with_type_default_and_description() -> None:
    for key, declaration in project()["config"].items():
        assert key.startswith("codex:"), key
        assert set(declaration) <= DECLARATION_KEYS, key
        assert declaration["type"] in ALLOWED_TYPES, key
        assert declaration["description"], key
        assert "default" in declaration or declaration.get("secret"), key


def test_every_key_the_program_reads_is_declared() -> None:
    declared = {key.removeprefix("codex:") for key in project()["config"]}
    sources = [*(REPO_ROOT / "components").rglob("*.py")]
    read = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"config\.get\w*\(\"(\w+)\"", text))
        read |= set(re.findall(r"\"codex:(\w+)\"", text))
    read |= {config_key for _, _, config_key, _ in CODEX_SECRETS} | {GITHUB_TOKEN_CONFIG}
    assert read, "the program reads its config somewhere"
    assert read <= declared, read - declared
