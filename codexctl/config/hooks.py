"""Hook steps of services.yaml (SPEC §6) and the typed ``with:`` parameters of each built-in."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, PositiveInt, model_validator

from codexctl.config.base import Model

_DURATION_RE = re.compile(r"^\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")


def parse_duration(value: str | int | float) -> float:
    """Seconds in ``90``, ``"90s"``, ``"5m"``, ``"1h30m"``; ValueError otherwise."""
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    text = value.strip()
    if text.isdigit():
        return float(text)
    match = _DURATION_RE.match(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 5m, 1h30m)")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


Duration = Annotated[str | int, Field(description="A duration: seconds, or e.g. 30s, 5m, 1h30m.")]


class WaitParams(Model):
    """``kubectl.wait``: wait for a condition on one object, through the Kubernetes API."""

    kind: str
    name: str
    namespace: str | None = None
    api_version: str | None = None
    condition: str = "Available"
    timeout: Duration = "5m"


class GithubCommentParams(Model):
    """``github.comment``: comment on an issue or PR (the body was rendered with the file)."""

    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    number: PositiveInt | str
    body: str
    api_url: str = "https://api.github.com"


class SleepParams(Model):
    """``sleep``: wait a fixed time."""

    seconds: float = Field(ge=0, le=3600)


class PreflightParams(Model):
    """``preflight``: the cluster answers and the named credentials are present."""

    require_env: list[str] = Field(default_factory=list)
    check_cluster: bool = True


class EnsureDataDirsParams(Model):
    """``codex.ensure-data-dirs``: host data directories under ``dataPaths.root``."""

    root: str | None = None
    dirs: list[str] | None = None
    mode: str = Field(default="0777", pattern=r"^0?[0-7]{3}$")
    delete_on_destroy: bool = False


class EnsureCodexSecretsParams(Model):
    """``codex.ensure-codex-secrets``: the agent's credential secrets in the namespace."""

    namespace: str | None = None
    openai_secret: str = "openai-secret"
    github_secret: str = "github-secret"
    github_key: str = "CODEX_GH_PAT"
    context7_secret: str = "context7-secret"


class CheckDevHostPortsParams(Model):
    """``codex.check-dev-host-ports``: best-effort TCP 80/443 and an HTTP probe with Host:."""

    host: str = "127.0.0.1"
    ports: list[int] = Field(default_factory=lambda: [80, 443])
    http_host: str | None = None
    path: str = "/"
    timeout: Duration = "5s"
    strict: bool = False


class ReuseDevTlsSecretParams(Model):
    """``codex.reuse-dev-tls-secret``: copy the slot's TLS secret from staging and back."""

    secret_name: str | None = None
    source_namespace: str
    wait: Duration = "4m"


BUILTIN_HOOKS: dict[str, type[Model]] = {
    "kubectl.wait": WaitParams,
    "github.comment": GithubCommentParams,
    "sleep": SleepParams,
    "preflight": PreflightParams,
    "codex.ensure-data-dirs": EnsureDataDirsParams,
    "codex.ensure-codex-secrets": EnsureCodexSecretsParams,
    "codex.check-dev-host-ports": CheckDevHostPortsParams,
    "codex.reuse-dev-tls-secret": ReuseDevTlsSecretParams,
}


class HookStep(Model):
    """One step: a built-in (``use``) or a bash script (``run``), at one stage."""

    name: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", max_length=63)
    use: str | None = None
    run: str | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables for a run: step; the way to pass outside text safely.",
    )
    when: str | bool | None = None
    continue_on_error: bool = False
    timeout: Duration = "10m"
    always: bool = False

    @model_validator(mode="after")
    def _one_action(self) -> HookStep:
        if (self.use is None) == (self.run is None):
            raise ValueError("a hook step needs exactly one of 'use' (a built-in) or 'run' (a bash script)")
        if self.use is not None:
            params_model = BUILTIN_HOOKS.get(self.use)
            if params_model is None:
                raise ValueError(f"unknown hook {self.use!r}; built-ins: {', '.join(sorted(BUILTIN_HOOKS))}")
            params_model.model_validate(self.with_)
        elif self.with_:
            raise ValueError("'with' is for built-ins; a run: step takes its values from 'env'")
        parse_duration(self.timeout)
        return self

    def params(self) -> Model | None:
        """The validated ``with:`` parameters of a built-in."""
        if self.use is None:
            return None
        return BUILTIN_HOOKS[self.use].model_validate(self.with_)


class ComponentHooks(Model):
    """Hook stages of an infrastructure group or a service."""

    before_apply: list[HookStep] = Field(default_factory=list)
    after_apply: list[HookStep] = Field(default_factory=list)
    before_destroy: list[HookStep] = Field(default_factory=list)
    after_destroy: list[HookStep] = Field(default_factory=list)


class StackHooks(Model):
    """Hook stages of the whole stack."""

    before_all: list[HookStep] = Field(default_factory=list)
    after_all: list[HookStep] = Field(default_factory=list)


HookStage = Literal["beforeAll", "afterAll", "beforeApply", "afterApply", "beforeDestroy", "afterDestroy"]
