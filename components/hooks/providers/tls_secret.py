"""``codex.reuse-dev-tls-secret``: keep a slot's certificate across slot stacks (rate limits)."""

from __future__ import annotations

from typing import Any

from codex_stacks.components.hooks.providers.base import HookProvider, StepRun
from codex_stacks.components.hooks.providers.kube import KubeApi, portable_secret, secret_path


class ReuseDevTlsSecretProvider(HookProvider):
    """Copy in from the source namespace when the slot has none, wait (bounded) for it here, and
    copy it back when the source has none. Neither copy is ever overwritten: cert-manager owns
    the slot's copy once it is there (renewing it in place), and overwriting it with an older
    one would make cert-manager issue again, the rate limit this step exists to spare."""

    def work(self, run: StepRun) -> dict[str, Any]:
        """Each copy keeps data, labels and ``cert-manager.io/*`` annotations, and strips server-set metadata."""
        import time

        name = str(run.params["secret_name"])
        source = str(run.params["source_namespace"])
        namespace = str(run.params["namespace"])
        wait = float(run.params.get("wait") or 0)
        interval = float(run.params.get("poll_interval") or 2)
        kube = KubeApi(run)
        try:
            copied_in = False
            original = kube.get(secret_path(source, name)) if source != namespace else None
            present = kube.get(secret_path(namespace, name))
            if present is None and original is not None:
                kube.put_object(secret_path(namespace), name, portable_secret(original, namespace=namespace))
                copied_in = True
                present = kube.get(secret_path(namespace, name))
            deadline = time.monotonic() + wait
            while present is None and time.monotonic() < deadline:
                run.sleep(min(interval, max(0.0, deadline - time.monotonic())))
                present = kube.get(secret_path(namespace, name))
            backed_up = False
            if present is None:
                run.warn(f"TLS secret {name} is not in {namespace} after {wait:g}s; not backed up")
            elif run.params.get("backup", True) and source != namespace and original is None:
                kube.put_object(secret_path(source), name, portable_secret(present, namespace=source))
                backed_up = True
        finally:
            kube.close()
        return {"copied_in": copied_in, "present": present is not None, "backed_up": backed_up}
