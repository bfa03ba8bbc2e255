"""``preflight``: fail early, and clearly, when the cluster or a credential is missing."""

from __future__ import annotations

from typing import Any

from codex_stacks.components.hooks.providers.base import HookError, HookProvider, StepRun
from codex_stacks.components.hooks.providers.kube import KubeApi


class PreflightProvider(HookProvider):
    """Environment variables and secret config present; the API server answers ``/version``."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """Collect every problem first, so one run names them all."""
        import os

        problems = [
            f"environment variable {name} is not set"
            for name in run.params.get("require_env") or []
            if not os.environ.get(name)
        ]
        problems += [
            f"secret config codex:{key.split(':', 1)[1]} is not set"
            for key in sorted(run.props.get("secret_keys") or [])
            if not run.secrets.get(key)
        ]
        version = None
        if run.params.get("check_cluster", True):
            kube = KubeApi(run)
            try:
                data = kube.get("/version")
                version = (data or {}).get("gitVersion")
            except HookError as error:
                problems.append(f"Kubernetes API not reachable: {error}")
            finally:
                kube.close()
        if problems:
            raise HookError("; ".join(problems))
        return {"kubernetes": version}
