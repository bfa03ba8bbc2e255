"""``codex.ensure-codex-secrets``: the agent's credentials as Secrets, never an empty one."""

from __future__ import annotations

from typing import Any

from codex_stacks.components.hooks.providers.base import HookProvider, StepRun
from codex_stacks.components.hooks.providers.kube import KubeApi, secret_path

MANAGED_BY = {"app.kubernetes.io/managed-by": "codex-stacks"}


class EnsureCodexSecretsProvider(HookProvider):
    """Write each secret whose value is known (stack config, else environment); warn otherwise."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """Create or replace the Secrets; the values never reach outputs in plain text."""
        import base64
        import os

        namespace = str(run.params["namespace"])
        written: list[str] = []
        skipped: list[str] = []
        kube = KubeApi(run)
        try:
            for item in run.params.get("secrets") or []:
                name = str(item["name"])
                value = run.secrets.get(name) or next(
                    (os.environ[env] for env in item.get("env") or [] if os.environ.get(env)), ""
                )
                if not value:
                    sources = ", ".join([f"codex:{item['config']}", *item.get("env", [])])
                    run.warn(f"no value for Secret {name} (set {sources}); not created")
                    skipped.append(name)
                    continue
                body = {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    # no type (the API server makes it Opaque) and no metadata.namespace (it takes the URL's)
                    "metadata": {"name": name, "labels": dict(MANAGED_BY)},
                    "data": {str(item["key"]): base64.b64encode(str(value).encode()).decode()},
                }
                kube.put_object(secret_path(namespace), name, body)
                written.append(name)
        finally:
            kube.close()
        return {"namespace": namespace, "written": written, "skipped": skipped}
