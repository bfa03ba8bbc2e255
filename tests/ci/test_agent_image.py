"""The example's agent image: what its Dockerfile installs, pins and runs as, read with
dockerfile-parse (no container engine here), and that services.yaml builds the agent from it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "project-example"
DOCKERFILE = EXAMPLE / "deploy" / "codex" / "Dockerfile"
SECRETISH = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|_PAT\b|CREDENTIAL|PASSPHRASE", re.I)


def _parsed() -> DockerfileParser:
    return DockerfileParser(fileobj=io.BytesIO(DOCKERFILE.read_bytes()))


def _instructions(name: str) -> list[str]:
    return [item["value"] for item in _parsed().structure if item["instruction"] == name]


def _args() -> dict[str, str]:
    """Every ARG with its default, before and after FROM."""
    found: dict[str, str] = {}
    for value in _instructions("ARG"):
        key, _, default = value.partition("=")
        found[key.strip()] = default.strip().strip('"')
    return found


def test_the_tools_are_installed_at_pinned_versions_and_checked() -> None:
    args = _args()
    for name in ("NODE_IMAGE_VERSION", "KUBECTL_VERSION", "GH_VERSION", "CODEX_CLI_VERSION", "CODEX_STACKS_REF"):
        assert args[name], f"{name} has a default"
        assert args[name] != "latest"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", args["KUBECTL_VERSION"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", args["CODEX_CLI_VERSION"])
    runs = _instructions("RUN")
    apt = next(run for run in runs if "apt-get install" in run)
    assert re.search(r"\bgit\b", apt)
    assert "python3-venv" in apt
    kubectl = next(run for run in runs if "dl.k8s.io" in run)
    assert "${KUBECTL_VERSION}" in kubectl
    assert "sha256sum --check" in kubectl
    assert kubectl.index("sha256sum --check") < kubectl.index("install -m 0755 /tmp/kubectl")
    gh = next(run for run in runs if "cli/cli/releases" in run)
    assert "${GH_VERSION}" in gh
    assert "sha256sum --check" in gh
    codex = next(run for run in runs if "@openai/codex" in run)
    assert '"@openai/codex@${CODEX_CLI_VERSION}"' in codex
    codexctl = next(run for run in runs if "codex-stacks @ git+" in run)
    assert "@${CODEX_STACKS_REF}" in codexctl
    assert "--constraint" in codexctl  # its requirements.txt pins every dependency
    assert "codexctl --help" in codexctl


def test_the_agent_runs_as_its_own_unprivileged_user_in_the_workspace() -> None:
    parser = _parsed()
    assert _instructions("FROM") == ["docker.io/library/node:${NODE_IMAGE_VERSION}"]
    assert parser.baseimage == f"docker.io/library/node:{_args()['NODE_IMAGE_VERSION']}"  # the ARG's default
    users = _instructions("USER")
    assert users, "a USER instruction"
    last = users[-1]
    assert last.split(":")[0] not in ("0", "root")
    assert last == "${CODEX_UID}:${CODEX_GID}"
    assert _args()["CODEX_UID"] not in ("0", "")
    assert _instructions("WORKDIR")[-1] == "/workspace"
    assert parser.envs["CODEX_HOME"].startswith(parser.envs["HOME"])


def test_no_credential_is_baked_in() -> None:
    for name in _args():
        assert not SECRETISH.search(name) or name == "KUBECTL_SHA256", f"ARG {name}"
    for name in _parsed().envs:
        assert not SECRETISH.search(name), f"ENV {name}"
    text = DOCKERFILE.read_text()
    for leak in ("OPENAI_API_KEY=", "CODEX_GH_PAT=", "GITHUB_TOKEN", "PULUMI_", "gh auth login", "--mount=type=secret"):
        assert leak not in text


def test_services_yaml_builds_the_agent_from_this_dockerfile() -> None:
    services = yaml.safe_load((EXAMPLE / "services.yaml").read_text())
    image = services["images"]["codex"]
    assert image["type"] == "build"
    assert (EXAMPLE / image.get("context", ".") / image["dockerfile"]).resolve() == DOCKERFILE
    [codex] = [service for service in services["services"] if service["name"] == "codex"]
    assert codex["image"]["repository"] == image["repository"]
    args = _args()
    versions = services["versions"]
    for name, value in image["buildArgs"].items():
        assert name in args, f"buildArgs.{name} is an ARG of the Dockerfile"
        for key in re.findall(r"versions\['([^']+)'\]", value):
            assert str(versions[key]).strip(), f"versions.{key} pins buildArgs.{name}"
    for name in ("KUBECTL_VERSION", "GH_VERSION", "CODEX_CLI_VERSION", "CODEX_STACKS_REF"):
        assert name in image["buildArgs"], f"services.yaml pins {name}"
