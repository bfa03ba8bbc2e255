"""Hook steps planned for one stack: what each step does, with every default filled.

Pure Python: the Pulumi layer turns each :class:`PlannedHook` into one dynamic resource and
only wires dependencies; everything a step needs to know is decided here, so it is tested
without Pulumi and a bad step fails before the first resource registers.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from codex_stacks.config.document import Key
from codex_stacks.config.hooks import (
    CheckDevHostPortsParams,
    EnsureCodexSecretsParams,
    EnsureDataDirsParams,
    GithubCommentParams,
    HookStage,
    HookStep,
    PreflightParams,
    ReuseDevTlsSecretParams,
    SleepParams,
    WaitParams,
    parse_duration,
)
from codex_stacks.config.settings import Settings
from codex_stacks.errors import Location, PlanError
from codex_stacks.plan.objects import KubeObject
from codex_stacks.plan.target import Target, data_path_problem, is_inside

STACK_STAGES: tuple[HookStage, ...] = ("beforeAll", "afterAll")
COMPONENT_STAGES: tuple[HookStage, ...] = ("beforeApply", "afterApply", "beforeDestroy", "afterDestroy")
DESTROY_STAGES = frozenset({"beforeDestroy", "afterDestroy"})
_FIELDS: Mapping[HookStage, str] = {
    "beforeAll": "before_all",
    "afterAll": "after_all",
    "beforeApply": "before_apply",
    "afterApply": "after_apply",
    "beforeDestroy": "before_destroy",
    "afterDestroy": "after_destroy",
}

Action = Literal[
    "kubectl.wait",
    "github.comment",
    "sleep",
    "preflight",
    "codex.ensure-data-dirs",
    "codex.ensure-codex-secrets",
    "codex.check-dev-host-ports",
    "codex.reuse-dev-tls-secret",
    "run",
]

ALWAYS_BY_DEFAULT: frozenset[Action] = frozenset({"codex.ensure-codex-secrets"})
"""Actions that run on every ``up`` unless a step says ``always: false``: their inputs live
outside services.yaml (the runner's credentials), so a changed value would never re-run them."""

CODEX_SECRETS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # (params field naming the Secret, key in the Secret, stack config key, environment fallbacks)
    ("openai_secret", "OPENAI_API_KEY", "openaiApiKey", ("OPENAI_API_KEY",)),
    ("github_secret", "", "githubToken", ("CODEX_GH_PAT", "GITHUB_TOKEN")),
    ("context7_secret", "CONTEXT7_API_KEY", "context7ApiKey", ("CONTEXT7_API_KEY",)),
)
"""The agent's credentials: where each comes from and where it goes."""

GITHUB_TOKEN_CONFIG = "githubToken"

_KNOWN_KINDS: Mapping[str, tuple[str, str]] = {
    "Deployment": ("apps/v1", "deployments"),
    "StatefulSet": ("apps/v1", "statefulsets"),
    "DaemonSet": ("apps/v1", "daemonsets"),
    "ReplicaSet": ("apps/v1", "replicasets"),
    "Job": ("batch/v1", "jobs"),
    "Pod": ("v1", "pods"),
    "Service": ("v1", "services"),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims"),
    "Ingress": ("networking.k8s.io/v1", "ingresses"),
    "Certificate": ("cert-manager.io/v1", "certificates"),
}
"""Kinds ``kubectl.wait`` knows without ``apiVersion``/``plural``."""


@dataclass(frozen=True, slots=True)
class PlannedHook:
    """One enabled hook step, ready to register: its place, its action, its full inputs."""

    stage: HookStage
    component: str | None
    step: str
    action: Action
    params: Mapping[str, Any]
    timeout: float
    continue_on_error: bool
    always: bool
    guard: str
    """Digest of the rendered objects the step guards: a change re-runs the step."""
    secret_config: Mapping[str, str] = field(default_factory=dict)
    """Input name → ``codex:*`` secret config key the Pulumi layer reads into a secret input."""
    secret_values: Mapping[str, str] = field(default_factory=dict)
    """Values known now that still go in the secret input: a ``run:`` step's ``env`` (``env:NAME``),
    which carries credentials and outside text."""
    kube_context: str | None = None
    repair: bool = False
    """A stack step a repair run registers too (``repair: true``)."""
    run: str = ""
    """A token of this run for an ``always`` step: a new one re-runs the step (docs/repair.md: a
    step registered again from a repair store keeps its old token, so it does not run)."""

    @property
    def resource_name(self) -> str:
        """Stable per stack: renaming a step replaces it, moving it between stages too."""
        prefix = f"{self.component}/" if self.component else ""
        return f"{prefix}hook/{self.stage}/{self.step}"

    @property
    def on_destroy(self) -> bool:
        """Whether the work happens when the resource is deleted rather than created."""
        return self.stage in DESTROY_STAGES

    def inputs(self) -> dict[str, Any]:
        """The plain (non-secret) inputs of the step's resource."""
        return {
            "step": self.step,
            "stage": self.stage,
            "component": self.component or "",
            "action": self.action,
            "params": dict(self.params),
            "timeout": self.timeout,
            "continue_on_error": self.continue_on_error,
            "always": self.always,
            "guard": self.guard,
            **({"run": self.run} if self.run else {}),
        }


def digest(objects: Iterable[KubeObject]) -> str:
    """A short, stable fingerprint of rendered objects (key order does not matter)."""
    payload = json.dumps([obj.manifest for obj in objects], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def hooks_at(hooks: Iterable[PlannedHook], stage: HookStage, component: str | None = None) -> list[PlannedHook]:
    """The steps of one stage (of one component, or of the stack), in file order."""
    return [hook for hook in hooks if hook.stage == stage and hook.component == component]


def safe_data_dirs(*, root: str, env_dir: str, dirs: Sequence[str], where: Location) -> list[str]:
    """The data directories to create, or a PlanError if any would be ``/``, the root or outside it
    (``with.root`` may differ from ``dataPaths.root``, so the load-time check is repeated here)."""
    root = posixpath.normpath(root)
    env_dir = posixpath.normpath(env_dir)
    problem = data_path_problem(root, env_dir)
    if problem is not None:
        _, message, hint = problem
        raise PlanError(message, location=where, hint=hint)
    paths = [posixpath.normpath(posixpath.join(env_dir, name)) for name in dirs]
    for path in paths:
        if not is_inside(path, env_dir):
            raise PlanError(
                f"data folder {path!r} leaves {env_dir!r}",
                location=where,
                hint="dirs are plain names such as postgres or redis",
            )
    return paths


def run_context_env(target: Target) -> dict[str, str]:
    """What every ``run:`` script can read: where it runs (``CODEX_*``)."""
    return {
        "CODEX_PROJECT": target.project,
        "CODEX_ENV": target.env,
        "CODEX_SLOT": str(target.slot or ""),
        "CODEX_NAMESPACE": target.namespace,
        "CODEX_BASE_DOMAIN": target.base_domain,
        "CODEX_DATA_ROOT": target.storage.root,
        "CODEX_DATA_DIR": target.storage.env_dir,
    }


def _params(
    step: HookStep, *, target: Target, where: Location, with_at: Location
) -> tuple[Action, dict[str, Any], dict[str, str]]:
    """The action, its parameters with the stack's defaults, and its secret config inputs."""
    if step.run is not None:
        # step.env goes to the secret input (PlannedHook.secret_values), not here
        return "run", {"script": step.run, "env": run_context_env(target)}, {}
    params = step.params()
    if isinstance(params, WaitParams):
        known = _KNOWN_KINDS.get(params.kind)
        api_version = params.api_version or (known[0] if known else None)
        plural = params.plural or (known[1] if known else None)
        if api_version is None or plural is None:
            raise PlanError(
                f"kubectl.wait does not know kind {params.kind!r}",
                location=with_at,
                hint="give apiVersion and plural for it",
            )
        return (
            "kubectl.wait",
            {
                "api_version": api_version,
                "plural": plural,
                "kind": params.kind,
                "name": params.name,
                "namespace": params.namespace or target.namespace,
                "condition": params.condition,
                "wait": parse_duration(params.timeout),
                "poll_interval": params.poll_interval,
            },
            {},
        )
    if isinstance(params, GithubCommentParams):
        return (
            "github.comment",
            {
                "repository": params.repository,
                "number": params.number,
                "body": params.body,
                "api_url": params.api_url.rstrip("/"),
                "update_existing": params.update_existing,
                "marker": f"<!-- codex-stacks:{target.stack}:{step.name} -->",
            },
            {"token": GITHUB_TOKEN_CONFIG},
        )
    if isinstance(params, SleepParams):
        return "sleep", {"seconds": params.seconds}, {}
    if isinstance(params, PreflightParams):
        secret = {f"config:{key}": key for key in params.require_config}
        return (
            "preflight",
            {"require_env": list(params.require_env), "check_cluster": params.check_cluster},
            secret,
        )
    if isinstance(params, EnsureDataDirsParams):
        root = (params.root or target.storage.root).rstrip("/") or "/"
        if params.root is None:
            env_dir = target.storage.env_dir
        else:
            env_dir = f"{root}/slots/{target.slot}" if target.slot is not None else f"{root}/{target.env}"
        dirs = params.dirs if params.dirs is not None else list(target.storage.dirs)
        paths = safe_data_dirs(root=root, env_dir=env_dir, dirs=dirs, where=with_at)
        return (
            "codex.ensure-data-dirs",
            {
                "root": posixpath.normpath(root),
                "env_dir": posixpath.normpath(env_dir),
                "paths": paths,
                "mode": params.mode,
                "delete_on_destroy": params.delete_on_destroy,
            },
            {},
        )
    if isinstance(params, EnsureCodexSecretsParams):
        secrets = []
        for field_name, key, config_key, env_names in CODEX_SECRETS:
            secrets.append(
                {
                    "name": getattr(params, field_name),
                    "key": key or params.github_key,
                    "config": config_key,
                    "env": list(env_names),
                }
            )
        return (
            "codex.ensure-codex-secrets",
            {"namespace": params.namespace or target.namespace, "secrets": secrets},
            {item["name"]: item["config"] for item in secrets},
        )
    if isinstance(params, CheckDevHostPortsParams):
        return (
            "codex.check-dev-host-ports",
            {
                "host": params.host,
                "ports": list(params.ports),
                "http_host": params.http_host or target.base_domain,
                "http_port": params.http_port,
                "path": params.path,
                "probe_timeout": parse_duration(params.timeout),
                "strict": params.strict,
            },
            {},
        )
    if isinstance(params, ReuseDevTlsSecretParams):
        if params.secret_name is None and target.slot is None:
            raise PlanError(
                "codex.reuse-dev-tls-secret needs a slot to name the secret",
                location=with_at,
                hint="set secretName, or use the step only in slot stacks (when: \"{{ env == 'ai' }}\")",
            )
        return (
            "codex.reuse-dev-tls-secret",
            {
                "secret_name": params.secret_name or f"{target.project}-dev-{target.slot}-tls",
                "source_namespace": params.source_namespace,
                "namespace": params.namespace or target.namespace,
                "wait": parse_duration(params.wait),
                "poll_interval": params.poll_interval,
                "backup": params.backup,
            },
            {},
        )
    raise PlanError(f"hook {step.use!r} has no planner", location=where)


def _plan_steps(
    steps: Iterable[tuple[int, HookStep]],
    *,
    stage: HookStage,
    component: str | None,
    guard: str,
    target: Target,
    settings: Settings,
    path: Sequence[Key],
) -> list[PlannedHook]:
    """``path`` is the key path of the ``hooks`` mapping the steps are in (errors name their line)."""
    planned: list[PlannedHook] = []
    seen: set[str] = set()
    for index, step in steps:
        where = settings.document.location([*path, stage, index])
        if step.name in seen:
            raise PlanError(
                f"hook step name {step.name!r} is used twice in {stage}",
                location=where,
                hint="step names name resources: make them unique within a stage",
            )
        seen.add(step.name)
        with_at = settings.document.location([*path, stage, index, "with"])
        action, params, secret_config = _params(step, target=target, where=where, with_at=with_at)
        always = step.always if step.always is not None else action in ALWAYS_BY_DEFAULT
        planned.append(
            PlannedHook(
                stage=stage,
                component=component,
                step=step.name,
                action=action,
                params=params,
                timeout=parse_duration(step.timeout),
                continue_on_error=step.continue_on_error,
                always=always,
                guard=guard,
                secret_config=secret_config,
                secret_values={f"env:{name}": value for name, value in step.env.items()},
                kube_context=target.environment.kube_context,
                repair=step.repair,
                run=uuid.uuid4().hex if always and stage not in DESTROY_STAGES else "",
            )
        )
    return planned


def plan_hooks(
    *,
    settings: Settings,
    target: Target,
    components: Mapping[str, Sequence[KubeObject]],
) -> tuple[PlannedHook, ...]:
    """Every enabled step of the stack and of the selected components, in stage and file order.

    ``components`` maps each deployed component to its rendered objects; items the stack does
    not deploy have no steps (and their steps are never evaluated). Stack stages guard every
    object of the stack.
    """
    everything = [obj for objects in components.values() for obj in objects]
    planned: list[PlannedHook] = []
    stack_hooks = settings.document.raw("hooks")
    for stage in STACK_STAGES:
        steps = settings.stage(stack_hooks, stage, ["hooks"], repair_only=target.mode == "repair")
        planned += _plan_steps(
            steps,
            stage=stage,
            component=None,
            guard=digest(everything),
            target=target,
            settings=settings,
            path=["hooks"],
        )
    for ref in settings.document.items:
        if ref.name not in components:
            continue
        guard = digest(components[ref.name])
        for stage in COMPONENT_STAGES:
            steps = settings.stage(ref.raw.get("hooks"), stage, [*ref.path, "hooks"])
            planned += _plan_steps(
                steps,
                stage=stage,
                component=ref.name,
                guard=guard,
                target=target,
                settings=settings,
                path=[*ref.path, "hooks"],
            )
    return tuple(planned)
