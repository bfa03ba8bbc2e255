"""Secrets audit: canary values for every secret input never show.

Canaries go into every secret input — the environment variables the example's manifests put into
Secrets, the agent's credentials in secret stack config (and their environment fallbacks), and
hook parameters — and must appear nowhere in plain text: not in preview's output or logs, not in
the files it writes (masked as ``[secret]``), not in error messages, and not in registration
inputs, where a canary may only sit inside a Pulumi secret wrapper.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from click.testing import CliRunner

from codex_stacks.cli.app import app
from codex_stacks.offline import runner
from codex_stacks.offline.runner import ProgramRun, RecordingMonitor, Secret

CLI = typer.main.get_command(app)
"""The app as a click command, built once (typer rebuilds it on every invoke: ~0.1 s)."""

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
MASK = "[secret]"
STACK = "ai-slot-3"

SECRET_ENV = {
    "POSTGRES_PASSWORD": "canary-pg-5e1f0a",
    "REDIS_PASSWORD": "canary-redis-9b2c7d",
    "SECRET_KEY": "canary-django-3a8e44",
}
"""Environment variables that the example's deploy/secret.yaml puts into Secrets."""
AGENT_ENV = {
    "OPENAI_API_KEY": "canary-openai-env-71c2",
    "CODEX_GH_PAT": "canary-ghpat-env-0d9e",
    "GITHUB_TOKEN": "canary-ghtoken-env-5a41",
    "CONTEXT7_API_KEY": "canary-context7-env-c3b8",
}
"""Environment fallbacks of the agent's credentials (and the MCP server's bearer token)."""
SECRET_CONFIG = {
    "codex:openaiApiKey": "canary-openai-cfg-8f14",
    "codex:githubToken": "canary-github-cfg-2b77",
    "codex:context7ApiKey": "canary-context7-cfg-6d03",
}
"""The agent's credentials as secret stack config."""
HOOK_ENV = {"MIGRATION_TOKEN": "canary-hook-param-e915"}
"""A credential a ``run:`` hook step receives as a parameter (its ``env``)."""

CANARIES = {**SECRET_ENV, **AGENT_ENV, **SECRET_CONFIG, **HOOK_ENV}

HOOK_STEPS = """\
    - name: preflight
      use: preflight
      with:
        requireConfig: [openaiApiKey, githubToken, context7ApiKey]
        checkCluster: false
    - name: migration-token
      run: test -n "$TOKEN"
      env:
        TOKEN: '{{ env_or("MIGRATION_TOKEN") }}'
"""
AFTER_ALL = """\
  afterAll:
    - name: agent-secrets
      use: codex.ensure-codex-secrets
    - name: announce
      use: github.comment
      with:
        repository: acme/project-example
        number: 7
        body: "slot {{ slot }} is up"
"""


# --- the helper --------------------------------------------------------------------------


def _forms(canary: str) -> tuple[str, ...]:
    """A canary as text and as base64 (how a Secret's ``data`` would carry it)."""
    return canary, base64.b64encode(canary.encode()).decode()


def _is_secret(value: object) -> bool:
    return isinstance(value, Secret) or (isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG)


def walk(value: object, where: str = "") -> Iterator[tuple[str, str, bool]]:
    """Every string inside ``value`` as (key path, text, inside a secret wrapper)."""

    def visit(node: object, path: str, secret: bool) -> Iterator[tuple[str, str, bool]]:
        secret = secret or _is_secret(node)
        if isinstance(node, Secret):
            yield from visit(node.value, path, secret)
        elif isinstance(node, Mapping):
            for key, item in node.items():
                yield f"{path}.{key}", str(key), secret
                yield from visit(item, f"{path}.{key}", secret)
        elif isinstance(node, list | tuple):
            for index, item in enumerate(node):
                yield from visit(item, f"{path}[{index}]", secret)
        elif isinstance(node, bytes):
            yield path, node.decode("utf-8", "replace"), secret
        elif isinstance(node, str):
            yield path, node, secret

    return visit(value, where, False)


def leaks(value: object, canaries: Mapping[str, str] = CANARIES, where: str = "") -> list[str]:
    """``path: NAME`` for every canary found outside a Pulumi secret wrapper."""
    return [
        f"{path}: {name}"
        for path, text, secret in walk(value, where)
        if not secret
        for name, canary in canaries.items()
        if any(form in text for form in _forms(canary))
    ]


def wrapped(value: object, canaries: Mapping[str, str] = CANARIES) -> set[str]:
    """Names of the canaries found inside secret wrappers (proof that they reached the program)."""
    return {
        name
        for _, text, secret in walk(value)
        if secret
        for name, canary in canaries.items()
        if any(form in text for form in _forms(canary))
    }


def in_text(text: str, canaries: Mapping[str, str] = CANARIES) -> list[str]:
    """Names of the canaries that appear in ``text``."""
    return [name for name, canary in canaries.items() if any(form in text for form in _forms(canary))]


def test_the_helper_sees_through_structures_but_not_into_secrets() -> None:
    """``leaks`` finds canaries in keys, lists and base64; secret wrappers are allowed."""
    canaries = {"X": "canary-x"}
    wrapper = {SIG_KEY: SECRET_SIG, "value": {"k": "canary-x"}}
    assert leaks({"a": [{"b": "pre canary-x post"}]}, canaries) == [".a[0].b: X"]
    assert leaks({"canary-x": 1}, canaries) == [".canary-x: X"]
    assert leaks({"data": base64.b64encode(b"canary-x").decode()}, canaries) == [".data: X"]
    assert leaks({"a": wrapper, "b": Secret("canary-x")}, canaries) == []
    assert wrapped({"a": wrapper}, canaries) == {"X"}
    assert SIG_KEY == runner.SIG_KEY
    assert SECRET_SIG == runner.SECRET_SIG


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def audited(example_copy: Path) -> Path:
    """The example project with hook steps that take secrets (config and a ``run:`` parameter)."""
    services = example_copy / "services.yaml"
    text = services.read_text(encoding="utf-8")
    anchor = "hooks:\n  beforeAll:\n"
    assert anchor in text, "the example's hooks section moved"
    assert "\ninfrastructure:\n" in text, "the example's infrastructure section moved"
    text = text.replace(anchor, anchor + HOOK_STEPS, 1)
    text = text.replace("envVars:\n", "envVars:\n  MIGRATION_TOKEN: {secret: true}\n", 1)
    head, tail = text.split("\ninfrastructure:\n", 1)
    services.write_text(f"{head}\n{AFTER_ALL}\ninfrastructure:\n{tail}", encoding="utf-8")
    return example_copy


@pytest.fixture
def canaries_set(monkeypatch: pytest.MonkeyPatch) -> Mapping[str, str]:
    """Every secret environment variable set to its canary; secret config added to each run."""
    for name, value in {**SECRET_ENV, **AGENT_ENV, **HOOK_ENV}.items():
        monkeypatch.setenv(name, value)
    real = runner.run_program

    def run_program(stack: str, config: Mapping[str, str], **kwargs: Any) -> ProgramRun:
        return real(stack, {**config, **SECRET_CONFIG}, **kwargs)

    monkeypatch.setattr("codex_stacks.cli.preview.run_program", run_program)
    return CANARIES


def _texts(result: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> dict[str, str]:
    captured = capfd.readouterr()
    return {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "logs": caplog.text,
        "fd stdout": captured.out,
        "fd stderr": captured.err,
    }


def _registrations(made: Iterable[RecordingMonitor]) -> list[Any]:
    return [registration for monitor in made for registration in monitor.run.registrations]


# --- the audit ---------------------------------------------------------------------------


@pytest.mark.usefixtures("canaries_set")
def test_preview_output_files_and_inputs_hold_no_canary(
    audited: Path,
    tmp_path: Path,
    monitors: list[RecordingMonitor],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A successful preview: nothing printed, logged, written or registered in plain text."""
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "out"
    result = CliRunner().invoke(CLI, ["preview", "--stack", STACK, "--project-dir", str(audited), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name, text in _texts(result, caplog, capfd).items():
        assert in_text(text) == [], f"canaries in {name}"

    files = sorted(out.iterdir())
    assert files
    for path in files:
        assert in_text(path.read_text(encoding="utf-8")) == [], f"canaries in {path.name}"
    documents = [doc for path in files for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    secrets = {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == "Secret"}
    masked = {key: value for doc in secrets.values() for key, value in (doc.get("stringData") or {}).items()}
    for key in SECRET_ENV:
        assert masked.get(key) == MASK, f"{key} is not masked in the written Secret"

    assert len(monitors) == 1
    run = monitors[0].run
    registrations = _registrations(monitors)
    found = [leak for r in registrations for leak in leaks(r.raw_inputs, where=r.urn)]
    assert found == [], "canaries in plain registration inputs"
    assert leaks(run.outputs, where="outputs") == []
    reached = set().union(*(wrapped(r.raw_inputs) for r in registrations))
    assert set(SECRET_ENV) <= reached, "the Secrets' canaries never reached the program: the audit proves nothing"
    assert {key for key in SECRET_CONFIG if key in reached} == set(SECRET_CONFIG), (
        "the hooks read no secret config: its canaries are not in any (secret) input"
    )


@pytest.mark.usefixtures("canaries_set")
def test_shown_secrets_are_the_canaries(audited: Path, tmp_path: Path) -> None:
    """The control: ``--show-secrets`` writes the Secrets' canaries, so the masking above is real."""
    out = tmp_path / "shown"
    args = ["preview", "--stack", STACK, "--project-dir", str(audited), "--out", str(out), "--show-secrets"]
    result = CliRunner().invoke(CLI, args)
    assert result.exit_code == 0, result.output
    written = "".join(path.read_text(encoding="utf-8") for path in out.iterdir())
    assert set(in_text(written, SECRET_ENV)) == set(SECRET_ENV)


def _break_manifest(project: Path) -> None:
    """A template error in a manifest next to the Secrets."""
    path = project / "deploy" / "redis.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# {{ redis_tuning.maxmemory }}\n", encoding="utf-8")


def _misplace_secret_value(project: Path) -> None:
    """A Secret whose value landed where the schema wants a mapping (a plausible typo)."""
    path = project / "deploy" / "secret.yaml"
    text = path.read_text(encoding="utf-8")
    old = 'stringData:\n  SECRET_KEY: {{ env_or("SECRET_KEY", "") | tojson }}'
    assert old in text, "the example's secret.yaml changed"
    path.write_text(text.replace(old, 'stringData: {{ env_or("SECRET_KEY", "") | tojson }}'), encoding="utf-8")


def _unknown_hook_parameter(project: Path) -> None:
    """A hook step whose parameters do not validate, in a file that passes secrets to hooks."""
    path = project / "services.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("checkCluster: false", "checkCluster: false\n        requireEnvs: [MIGRATION_TOKEN]"))


FAILURES = {
    "preview-template-error": ("preview", _break_manifest, "redis_tuning"),
    "preview-bad-hook-parameter": ("preview", _unknown_hook_parameter, "requireEnvs"),
    "validate-template-error": ("validate", _break_manifest, "redis_tuning"),
    "validate-schema-error-in-a-secret": ("validate", _misplace_secret_value, "stringData"),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.usefixtures("canaries_set")
def test_errors_hold_no_canary(
    failure: str,
    audited: Path,
    tmp_path: Path,
    monitors: list[RecordingMonitor],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A run that fails after every secret is set says what is wrong without any secret."""
    caplog.set_level(logging.DEBUG)
    command, breaks, expected = FAILURES[failure]
    breaks(audited)
    out = tmp_path / "out"
    args = [command, "--stack", STACK, "--project-dir", str(audited)]
    result = CliRunner().invoke(CLI, [*args, "--out", str(out)] if command == "preview" else args)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr, result.stderr
    for name, text in _texts(result, caplog, capfd).items():
        assert in_text(text) == [], f"canaries in {name}: {text}"
    assert not out.exists()
    assert _registrations(monitors) == []


@pytest.mark.usefixtures("canaries_set")
def test_agent_config_names_secrets_without_their_values(audited: Path) -> None:
    """``codexctl prompt config`` shows the variable that holds the MCP token, never the token."""
    result = CliRunner().invoke(CLI, ["prompt", "config", "--stack", STACK, "--project-dir", str(audited)])
    assert result.exit_code == 0, result.output
    assert "CONTEXT7_API_KEY" in result.stdout
    assert in_text(result.stdout + result.stderr) == []
