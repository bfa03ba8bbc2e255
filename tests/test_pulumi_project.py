"""Every program folder of this repository is a Pulumi project the CLI accepts, with a name of its
own, and no ``codex:*`` key declared in it: Pulumi lets ``Pulumi.yaml`` give a type or a default
only to keys of the project's own namespace (sdk/go/common/workspace/project.go, Project.Validate),
so the defaults of ``codex:*`` are codexctl's, in code, and every key the program reads has one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from codex_stacks.plan.hooks import CODEX_SECRETS, GITHUB_TOKEN_CONFIG
from codex_stacks.stackconfig import CONFIG_KEYS, program_config
from tests.conftest import REPO_ROOT

PROGRAM_FOLDERS = [REPO_ROOT, REPO_ROOT / "examples" / "project-example", REPO_ROOT / "examples" / "alimentor"]
RUNTIME = {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}


def project(folder: Path) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((folder / "Pulumi.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("folder", PROGRAM_FOLDERS, ids=lambda folder: folder.name)
def test_each_program_folder_is_a_project_of_its_own(folder: Path) -> None:
    data = project(folder)
    assert data["runtime"] == RUNTIME
    assert data["stackConfigDir"] == "stacks"
    assert (folder / "stacks").is_dir()
    main = (folder / "__main__.py").read_text(encoding="utf-8")
    assert len(main.splitlines()) <= 5
    assert "from codex_stacks.program import run" in main
    for key, declaration in (data.get("config") or {}).items():
        # Pulumi's rule: a key outside the project's namespace gives only a value (a plain scalar is one)
        assert ":" in key, key
        assert not key.startswith(data["name"] + ":"), key
        assert not isinstance(declaration, dict) or set(declaration) == {"value"}, key


def test_the_projects_have_different_names() -> None:
    """Stacks live per project on a self-managed backend: a shared name would share stacks."""
    names = [project(folder)["name"] for folder in PROGRAM_FOLDERS]
    assert len(set(names)) == len(names)
    assert "codex" not in names  # the old shared name of every repository


@pytest.mark.parametrize("example", ["project-example", "alimentor"])
def test_an_example_is_named_like_its_services_project(example: str) -> None:
    folder = REPO_ROOT / "examples" / example
    services = yaml.safe_load((folder / "services.yaml").read_text(encoding="utf-8"))
    assert project(folder)["name"] == services["project"] == example
    # services.yaml sits next to Pulumi.yaml: the default codex:projectDir reaches it
    assert "codex:projectDir" not in program_config("ai-staging", program_dir=folder)


def test_every_key_the_program_reads_has_a_documented_default_in_code() -> None:
    read = set()
    for path in (REPO_ROOT / "components").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"config\.get\w*\(\"(\w+)\"", text))
        read |= set(re.findall(r"\"codex:(\w+)\"", text))
    read |= {config_key for _, _, config_key, _ in CODEX_SECRETS} | {GITHUB_TOKEN_CONFIG}
    read |= {"projectDir", "servicesFile", "env", "slot", "namespace", "mode", "vars"}  # components/settings.py
    keys = {key.name: key for key in CONFIG_KEYS}
    assert read <= set(keys), read - set(keys)
    for key in CONFIG_KEYS:
        assert key.description, key.name
        assert key.secret or key.default is not None, key.name
    # the README's table names every key
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name in read:
        assert f"codex:{name}" in readme, name
