"""Hook steps of services.yaml and the typed ``with:`` parameters of each built-in."""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, PositiveInt, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from codex_stacks.config.base import Model

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


def _checked_duration(value: str | int) -> str | int:
    """Reject a bad duration where it is written, keeping the text the user wrote."""
    parse_duration(value)
    return value


Duration = Annotated[
    str | int,
    AfterValidator(_checked_duration),
    Field(description="A duration: seconds, or e.g. 30s, 5m, 1h30m."),
]


class WaitParams(Model):
    """``kubectl.wait``: wait for a condition on one object, through the Kubernetes API."""

    kind: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$")
    """Kind of the object (e.g. Deployment)."""
    name: str
    """Name of the object."""
    namespace: str | None = None
    """Its namespace; default: the stack's."""
    api_version: str | None = Field(default=None, description="Default: known for built-in kinds.")
    plural: str | None = Field(default=None, description="Default: the lowercase plural of kind.")
    condition: str = "Available"
    """The status condition that must be True."""
    timeout: Duration = "5m"
    """How long to wait."""
    poll_interval: float = Field(default=2.0, gt=0, le=60)
    """Seconds between two reads of the object."""


class GithubCommentParams(Model):
    """``github.comment``: comment on an issue or PR (the body was rendered with the file)."""

    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    """owner/name of the repository."""
    number: PositiveInt
    """The issue or pull request."""
    body: str = Field(min_length=1)
    """The comment (a template)."""
    api_url: str = Field(
        default="https://api.github.com",
        pattern=r"^(https://|http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$))",
        description="GitHub's API: https only (plain http only to this machine, for tests); the token goes there.",
    )
    update_existing: bool = Field(
        default=True, description="Edit this step's earlier comment instead of adding another one."
    )


class SleepParams(Model):
    """``sleep``: wait a fixed time."""

    seconds: float = Field(ge=0, le=3600)
    """How long to wait (at most an hour)."""


class PreflightParams(Model):
    """``preflight``: the cluster answers and the named credentials are present."""

    require_env: list[str] = Field(default_factory=list)
    """Runner environment variables that must be set."""
    require_config: list[str] = Field(
        default_factory=list, description="Secret stack config keys (e.g. githubToken) that must be set."
    )
    check_cluster: bool = True
    """Check that the cluster's API server answers."""


class EnsureDataDirsParams(Model):
    """``codex.ensure-data-dirs``: host data directories under ``dataPaths.root``."""

    root: str | None = Field(default=None, description="Default: dataPaths.root.")
    dirs: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")]] | None = Field(
        default=None, description="Default: dataPaths.dirs."
    )
    mode: str = Field(default="0777", pattern=r"^0?[0-7]{3}$")
    """Permissions of the folders made (octal)."""
    delete_on_destroy: bool = False
    """Remove the stack's data folders when the stack is destroyed."""


class EnsureCodexSecretsParams(Model):
    """``codex.ensure-codex-secrets``: the agent's credential secrets in the namespace."""

    namespace: str | None = None
    """Where the Secrets go; default: the stack's namespace."""
    openai_secret: str = "openai-secret"
    """Name of the Secret holding OPENAI_API_KEY."""
    github_secret: str = "github-secret"
    """Name of the Secret holding the agent's GitHub token."""
    github_key: str = "CODEX_GH_PAT"
    """The key of the GitHub token in its Secret."""
    context7_secret: str = "context7-secret"
    """Name of the Secret holding CONTEXT7_API_KEY."""


class CheckDevHostPortsParams(Model):
    """``codex.check-dev-host-ports``: best-effort TCP 80/443 and an HTTP probe with Host:."""

    host: str = "127.0.0.1"
    """The address whose ports are checked."""
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(default_factory=lambda: [80, 443])
    """TCP ports that must accept connections."""
    http_host: str | None = Field(default=None, description="Default: the stack's baseDomain.")
    http_port: int = Field(default=80, ge=1, le=65535)
    """Port of the HTTP probe."""
    path: str = Field(default="/", pattern=r"^/")
    """Path of the HTTP probe."""
    timeout: Duration = "5s"
    """Bound of each check."""
    strict: bool = False
    """Fail the step when a check fails (default: a warning)."""


class ReuseDevTlsSecretParams(Model):
    """``codex.reuse-dev-tls-secret``: copy the slot's TLS secret from staging and back."""

    secret_name: str | None = Field(default=None, description="Default: <project>-dev-<slot>-tls.")
    source_namespace: str
    """The namespace that holds the certificate (e.g. staging's)."""
    namespace: str | None = Field(default=None, description="Default: the stack's namespace.")
    wait: Duration = "4m"
    """How long to wait for the Secret in the slot's namespace."""
    poll_interval: float = Field(default=2.0, gt=0, le=60)
    """Seconds between two reads."""
    backup: bool = True
    """Copy the slot's Secret back to the source namespace when that has none."""


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


def _with_problem(error: ErrorDetails, params_model: type[Model]) -> str:
    """One problem of a ``with:`` mapping; an unknown key gets the nearest real one (camelCase)."""
    if not error["loc"]:
        return f"with: {error['msg']}"
    message = error["msg"].removeprefix("Value error, ")  # pydantic's prefix for a validator's own words
    text = f"with.{'.'.join(str(part) for part in error['loc'])}: {message}"
    if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
        key = str(error["loc"][0])
        known = [field.alias or name for name, field in params_model.model_fields.items()]
        close = [to_camel(key)] if to_camel(key) in known else difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if close:
            text += f" (did you mean {close[0]!r}?)"
    return text


class HookStep(Model):
    """One step: a built-in (``use``) or a bash script (``run``), at one stage."""

    name: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", max_length=63)
    """The step's name (a DNS label, unique in its stage; written out)."""
    use: str | None = None
    """A built-in step (codex.ensure-data-dirs, kubectl.wait, github.comment, …); exclusive with run."""
    run: str | None = None
    """A bash script (not a template: outside text reaches it through env); exclusive with use."""
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    """The built-in's parameters (typed, checked when services.yaml loads)."""
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables for a run: step; the way to pass outside text safely.",
    )
    when: str | bool | None = None
    """Whether the step runs: a template evaluated first; false, empty, 0 or no skip it."""
    continue_on_error: bool = False
    """A failure of the step is a warning, not the stack's failure."""
    timeout: Duration = "10m"
    """How long the step may take."""
    always: bool | None = Field(
        default=None,
        description="Run on every up, changed or not. Default: false, except for codex.ensure-codex-secrets, "
        "whose values come from the runner and change between runs (a job's github.token expires with it).",
    )
    repair: bool = Field(
        default=False,
        description="A stack step (beforeAll/afterAll) that repair mode runs too; without it a repair run leaves "
        "the step out, so nothing but the repair set can keep the agent from starting.",
    )

    @model_validator(mode="after")
    def _one_action(self) -> HookStep:
        if (self.use is None) == (self.run is None):
            raise ValueError("a hook step needs exactly one of 'use' (a built-in) or 'run' (a bash script)")
        if self.use is not None:
            params_model = BUILTIN_HOOKS.get(self.use)
            if params_model is None:
                raise ValueError(f"unknown hook {self.use!r}; built-ins: {', '.join(sorted(BUILTIN_HOOKS))}")
            try:
                params_model.model_validate(self.with_, by_alias=True, by_name=False)
            except ValidationError as exc:
                problems = "; ".join(_with_problem(error, params_model) for error in exc.errors())
                raise ValueError(f"bad parameters for {self.use}: {problems}") from None
        elif self.with_:
            raise ValueError("'with' is for built-ins; a run: step takes its values from 'env'")
        if parse_duration(self.timeout) == 0:
            raise ValueError("a step's timeout must be longer than 0 (e.g. 30s, 5m)")
        return self

    def params(self) -> Model | None:
        """The validated ``with:`` parameters of a built-in."""
        if self.use is None:
            return None
        return BUILTIN_HOOKS[self.use].model_validate(self.with_, by_alias=True, by_name=False)


class ComponentHooks(Model):
    """Hook stages of an infrastructure group or a service."""

    before_apply: list[HookStep] = Field(default_factory=list)
    """Steps before the item's objects are created or changed."""
    after_apply: list[HookStep] = Field(default_factory=list)
    """Steps after its objects are created and ready."""
    before_destroy: list[HookStep] = Field(default_factory=list)
    """Steps on destroy, before its objects are deleted."""
    after_destroy: list[HookStep] = Field(default_factory=list)
    """Steps on destroy, after its objects are gone."""


class StackHooks(Model):
    """Hook stages of the whole stack."""

    before_all: list[HookStep] = Field(default_factory=list)
    """Steps before any item of the stack."""
    after_all: list[HookStep] = Field(default_factory=list)
    """Steps after every item of the stack."""


HookStage = Literal["beforeAll", "afterAll", "beforeApply", "afterApply", "beforeDestroy", "afterDestroy"]
