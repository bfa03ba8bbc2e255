"""``run:`` steps see only what their step declares, the stack's ``CODEX_*`` context and a few
harmless variables: never the runner's Pulumi, cloud, Kubernetes or GitHub credentials."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.shell import ShellStepProvider
from tests.hooks.helpers import step_props

RUNNER_SECRETS = {
    # what a GitHub Actions runner of the reusable workflows has in its environment
    "PULUMI_CONFIG_PASSPHRASE": "canary-passphrase-1f",
    "PULUMI_ACCESS_TOKEN": "canary-pulumi-token-2e",
    "PULUMI_BACKEND_URL": "s3://canary-bucket-3d",
    "AWS_SECRET_ACCESS_KEY": "canary-aws-4c",
    "AWS_ACCESS_KEY_ID": "canary-aws-id-5b",
    "GOOGLE_APPLICATION_CREDENTIALS": "/canary/gcp-6a.json",
    "AZURE_CLIENT_SECRET": "canary-azure-79",
    "KUBECONFIG": "/canary/kubeconfig-88",
    "GITHUB_TOKEN": "canary-github-token-97",
    "GH_TOKEN": "canary-gh-token-a6",
    "ACTIONS_RUNTIME_TOKEN": "canary-actions-runtime-b5",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "canary-oidc-c4",
    "OPENAI_API_KEY": "canary-openai-d3",
    "CODEX_GH_PAT": "canary-codex-pat-e2",
    "CONTEXT7_API_KEY": "canary-context7-f1",
    "DATABASE_PASSWORD": "canary-anything-else-00",
}


@pytest.fixture
def runner_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in RUNNER_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LANG", "C.UTF-8")
    return RUNNER_SECRETS


def run_env(tmp_path: Path, *, declared: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a ``run:`` step's bash sees, as ``env -0`` prints it."""
    out = tmp_path / "env.bin"
    context = {"CODEX_NAMESPACE": "alimentor-dev-3", "CODEX_SLOT": "3", "CODEX_DATA_DIR": "/data/slots/3"}
    props = step_props(
        "run",
        {"script": f'env -0 > "{out}"', "env": context},
        secrets={f"env:{name}": value for name, value in (declared or {}).items()},
    )
    ShellStepProvider().create(props)
    pairs = [item.partition("=") for item in out.read_bytes().decode().split("\0") if item]
    return {name: value for name, _, value in pairs}


def test_no_runner_credential_reaches_a_script(tmp_path: Path, runner_env: dict[str, str]) -> None:
    seen = run_env(tmp_path)
    leaked = {name for name, value in runner_env.items() if name in seen or value in "\n".join(seen.values())}
    assert leaked == set()


def test_a_script_sees_its_declared_env_the_codex_context_and_a_working_path(
    tmp_path: Path, runner_env: dict[str, str]
) -> None:
    seen = run_env(tmp_path, declared={"ISSUE_TITLE": "Fix the login", "KUBECONFIG": "/declared/kubeconfig"})
    assert seen["ISSUE_TITLE"] == "Fix the login"
    assert seen["KUBECONFIG"] == "/declared/kubeconfig"  # declared by the step: reviewable in services.yaml
    assert seen["CODEX_NAMESPACE"] == "alimentor-dev-3"
    assert seen["CODEX_SLOT"] == "3"
    assert seen["PATH"] == os.environ["PATH"]
    assert seen["LANG"] == "C.UTF-8"
    assert runner_env["GITHUB_TOKEN"] not in seen.values()


def test_home_is_an_empty_folder_of_its_own_not_the_runners(
    tmp_path: Path, runner_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner_home = tmp_path / "runner-home"
    (runner_home / ".kube").mkdir(parents=True)
    (runner_home / ".kube" / "config").write_text("canary-kube-config")
    monkeypatch.setenv("HOME", str(runner_home))
    listing, home = tmp_path / "listing.txt", tmp_path / "home.txt"
    script = f'ls -A "$HOME" > "{listing}"; printf %s "$HOME" > "{home}"'
    ShellStepProvider().create(step_props("run", {"script": script, "env": {}}))
    assert listing.read_text() == ""
    assert home.read_text() != str(runner_home)
    assert not Path(home.read_text()).exists()  # removed after the step


def test_a_script_that_prints_its_secret_env_shows_it_nowhere(capfd: pytest.CaptureFixture[str]) -> None:
    token = "canary-hook-token-3c9f"
    props = step_props(
        "run",
        {"script": 'echo "using $TOKEN"; echo "login failed for $TOKEN" >&2; exit 1', "env": {}},
        secrets={"env:TOKEN": token},
    )
    with pytest.raises(HookError) as failure:
        ShellStepProvider().create(props)
    assert "login failed for [secret]" in str(failure.value)
    assert token not in str(failure.value)
    assert token not in capfd.readouterr().err
