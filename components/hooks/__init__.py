"""Hook steps as Pulumi dynamic resources: one resource per step, one type per action.

Type tokens are ``pulumi-python:dynamic/codex-hooks:<Action>``: the engine routes a dynamic
resource to the Python provider host by its ``pulumi-python`` package, so the ``codex:hooks``
name lives in the module part. Ordering is the caller's job (see ``codex_stacks.components.groups``); this
module only turns a :class:`PlannedHook` into a resource, with secret config as secret inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

from codex_stacks.components.hooks.providers.base import HookProvider
from codex_stacks.components.hooks.providers.codex_secrets import EnsureCodexSecretsProvider
from codex_stacks.components.hooks.providers.data_dirs import EnsureDataDirsProvider
from codex_stacks.components.hooks.providers.github_comment import GithubCommentProvider
from codex_stacks.components.hooks.providers.host_ports import CheckDevHostPortsProvider
from codex_stacks.components.hooks.providers.kubectl_wait import KubectlWaitProvider
from codex_stacks.components.hooks.providers.preflight import PreflightProvider
from codex_stacks.components.hooks.providers.shell import ShellStepProvider
from codex_stacks.components.hooks.providers.sleep import SleepProvider
from codex_stacks.components.hooks.providers.tls_secret import ReuseDevTlsSecretProvider
from codex_stacks.plan.hooks import PlannedHook

TYPE_PREFIX = "pulumi-python:dynamic/codex-hooks:"
SECRET_OUTPUTS = ["secrets"]


class HookStepResource(Resource):
    """Base of the step resources: the provider class and the inputs every step has."""

    provider_class: ClassVar[type[HookProvider]] = HookProvider
    result: pulumi.Output[Any]
    warnings: pulumi.Output[list[str]]

    def __init__(
        self,
        hook: PlannedHook,
        *,
        secrets: pulumi.Input[dict[str, str]] | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            **hook.inputs(),
            "kube_context": hook.kube_context or "",
            "secret_keys": sorted(hook.secret_config),  # names only, so a step can say what is missing
            "secrets": pulumi.Output.secret(secrets) if secrets is not None else {},
            "result": None,
            "warnings": None,
        }
        provider: ResourceProvider = self.provider_class()
        options = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))
        super().__init__(provider, hook.resource_name, props, options)


class KubectlWait(HookStepResource, module="codex-hooks", name="KubectlWait"):
    """``kubectl.wait``."""

    provider_class = KubectlWaitProvider


class GithubComment(HookStepResource, module="codex-hooks", name="GithubComment"):
    """``github.comment``."""

    provider_class = GithubCommentProvider


class Sleep(HookStepResource, module="codex-hooks", name="Sleep"):
    """``sleep``."""

    provider_class = SleepProvider


class Preflight(HookStepResource, module="codex-hooks", name="Preflight"):
    """``preflight``."""

    provider_class = PreflightProvider


class EnsureDataDirs(HookStepResource, module="codex-hooks", name="EnsureDataDirs"):
    """``codex.ensure-data-dirs``."""

    provider_class = EnsureDataDirsProvider


class EnsureCodexSecrets(HookStepResource, module="codex-hooks", name="EnsureCodexSecrets"):
    """``codex.ensure-codex-secrets``."""

    provider_class = EnsureCodexSecretsProvider


class CheckDevHostPorts(HookStepResource, module="codex-hooks", name="CheckDevHostPorts"):
    """``codex.check-dev-host-ports``."""

    provider_class = CheckDevHostPortsProvider


class ReuseDevTlsSecret(HookStepResource, module="codex-hooks", name="ReuseDevTlsSecret"):
    """``codex.reuse-dev-tls-secret``."""

    provider_class = ReuseDevTlsSecretProvider


class ShellStep(HookStepResource, module="codex-hooks", name="ShellStep"):
    """A ``run:`` step."""

    provider_class = ShellStepProvider


STEP_CLASSES: dict[str, type[HookStepResource]] = {
    "kubectl.wait": KubectlWait,
    "github.comment": GithubComment,
    "sleep": Sleep,
    "preflight": Preflight,
    "codex.ensure-data-dirs": EnsureDataDirs,
    "codex.ensure-codex-secrets": EnsureCodexSecrets,
    "codex.check-dev-host-ports": CheckDevHostPorts,
    "codex.reuse-dev-tls-secret": ReuseDevTlsSecret,
    "run": ShellStep,
}


def secret_inputs(hook: PlannedHook, config: pulumi.Config | None = None) -> pulumi.Output[dict[str, str]] | None:
    """The step's secret stack config (``codex:openaiApiKey`` …) and secret values (a ``run:``
    step's ``env``) as one secret input. Absent config keys are left out, so the provider falls
    back to its environment and never writes an empty value."""
    found: dict[str, pulumi.Input[str]] = dict(hook.secret_values)
    if not hook.secret_config and not found:
        return None
    config = config or pulumi.Config("codex")
    for name, key in hook.secret_config.items():
        value = config.get_secret(key)
        if value is not None:
            found[name] = value
    if not found:
        return None
    return pulumi.Output.secret(pulumi.Output.all(**found))


def register_steps(
    hooks: Sequence[PlannedHook],
    *,
    depends_on: Sequence[pulumi.Resource],
    parent: pulumi.Resource | None = None,
) -> list[pulumi.Resource]:
    """Register steps of one stage as a chain in file order; the first waits for ``depends_on``."""
    registered: list[pulumi.Resource] = []
    previous: list[pulumi.Resource] = list(depends_on)
    for hook in hooks:
        cls = STEP_CLASSES[hook.action]
        step = cls(
            hook,
            secrets=secret_inputs(hook),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=previous),
        )
        registered.append(step)
        previous = [step]
    return registered
