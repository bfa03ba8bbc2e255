"""``kubectl.wait``: wait for a condition on one object, through the Kubernetes API."""

from __future__ import annotations

from typing import Any

from codex_stacks.components.hooks.providers.base import HookError, HookProvider, StepRun
from codex_stacks.components.hooks.providers.kube import KubeApi, object_path


def condition_status(obj: dict[str, Any] | None, condition: str) -> str | None:
    """``True``/``False``/``Unknown`` of ``status.conditions[type=condition]``, None if absent."""
    for item in ((obj or {}).get("status") or {}).get("conditions") or []:
        if isinstance(item, dict) and item.get("type") == condition:
            return str(item.get("status"))
    return None


class KubectlWaitProvider(HookProvider):
    """Poll the object until its condition is True, within the step's ``wait``."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """A missing object counts as not ready yet; the wait is bounded."""
        import time

        params = run.params
        path = object_path(
            api_version=str(params["api_version"]),
            plural=str(params["plural"]),
            namespace=params.get("namespace") or None,
            name=str(params["name"]),
        )
        condition = str(params.get("condition") or "Available")
        wait = float(params.get("wait") or 0)
        interval = float(params.get("poll_interval") or 2)
        deadline = time.monotonic() + wait
        kube = KubeApi(run)
        try:
            while True:
                status = condition_status(kube.get(path), condition)
                if status == "True":
                    return {"condition": condition, "status": status}
                if time.monotonic() >= deadline:
                    seen = status or "absent"
                    raise HookError(f"{params['kind']}/{params['name']}: {condition} is {seen} after {wait:g}s")
                run.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        finally:
            kube.close()
