"""The Kubernetes API for hook steps: the official client, bounded retries, clear errors.

Built inside provider methods (never pickled): the kubeconfig (``KUBECONFIG``, the stack's
``kubeContext``) or, inside a pod, the service account, read by the official client library.
Requests go through :mod:`.httpcall` (one wall-clock bound per request), raw JSON in and out, so
a hook copies objects field for field.
"""

from __future__ import annotations

import json
from typing import Any

from codex_stacks.components.hooks.providers.base import HookError, StepRun

RETRY_STATUSES = frozenset({409, 429, 500, 502, 503, 504})
"""Retried; 429 (API Priority and Fairness) and 503 wait the ``Retry-After`` the server names."""


class KubeApi:
    """A few verbs on raw paths, each bounded in wall-clock time and retried on 409/429/5xx and
    transport errors. The Kubernetes client library reads the kubeconfig (or the pod's service
    account) and refreshes tokens; the requests themselves go through :mod:`.httpcall`, whose
    bound holds against a server that answers one byte at a time."""

    def __init__(self, run: StepRun) -> None:
        self.run = run
        self.context: str | None = run.props.get("kube_context") or None
        self.request_timeout = float(run.tuning.get("request_timeout", 10.0))
        self.retry_delay = float(run.tuning.get("retry_delay", 1.0))
        self.attempts = max(1, int(run.tuning.get("attempts", 4)))
        self._configuration: Any = None
        self._tls: Any = None

    def configuration(self) -> Any:
        """The client ``Configuration``, from the kubeconfig or the pod's service account."""
        if self._configuration is None:
            import os

            from kubernetes import client, config

            configuration = client.Configuration()
            try:
                # KUBECONFIG read now: the client library reads it once, at its import.
                config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=os.environ.get("KUBECONFIG") or None,
                    context=self.context,
                    client_configuration=configuration,
                )
            except config.ConfigException as kube_error:
                try:
                    config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
                except config.ConfigException:
                    raise HookError(
                        f"no Kubernetes configuration: {kube_error} (set KUBECONFIG or run in a pod)"
                    ) from None
            self._configuration = configuration
        return self._configuration

    def _tls_settings(self, configuration: Any) -> Any:
        """Server verification and client certificate as the kubeconfig says (as the client library
        would set up urllib3: CA file, client cert, insecure-skip-tls-verify, tls-server-name). The
        loaders write a kubeconfig's ``certificate-authority-data`` to a file (``ssl_ca_cert``) and
        never set ``ca_cert_data``."""
        if self._tls is None:
            import ssl

            from codex_stacks.components.hooks.providers.httpcall import Tls

            context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
            if configuration.cert_file:
                context.load_cert_chain(configuration.cert_file, configuration.key_file or None)
            if not configuration.verify_ssl:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            elif configuration.assert_hostname is False:
                context.check_hostname = False
            self._tls = Tls(context=context, server_name=configuration.tls_server_name or None)
        return self._tls

    def request(self, method: str, path: str, *, body: Any = None) -> tuple[int, Any, float | None]:
        """One request: (status, parsed JSON or None, the wait ``Retry-After`` asks). Transport errors raise."""
        from kubernetes.client.rest import should_bypass_proxies

        from codex_stacks.components.hooks.providers.httpcall import retry_after, send

        configuration = self.configuration()
        host = str(configuration.host).rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "codex-stacks"}
        for setting in configuration.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[str(setting["key"])] = str(setting["value"])
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        proxy = configuration.proxy
        if proxy and should_bypass_proxies(host, configuration.no_proxy or ""):
            proxy = None
        try:
            tls = self._tls_settings(configuration) if host.startswith("https:") else None
        except (OSError, ValueError) as error:
            raise HookError(f"the kubeconfig's TLS settings do not load: {_short(error)}") from None
        reply = send(
            method,
            host + path,
            headers=headers,
            body=data,
            timeout=min(self.request_timeout, self.run.remaining()),
            tls=tls,
            proxy=proxy or None,
        )
        parsed: Any = None
        if reply.body.strip():
            try:
                parsed = json.loads(reply.body)
            except ValueError:
                if 200 <= reply.status < 300:
                    raise HookError(f"{method} {path}: answered {reply.status} with a body that is not JSON") from None
        return reply.status, parsed, retry_after(reply)

    def call(self, method: str, path: str, *, body: Any = None, ok: frozenset[int] = frozenset()) -> tuple[int, Any]:
        """``request`` with retries; statuses in ``ok`` (and 2xx) return, others are errors."""
        from codex_stacks.components.hooks.providers.httpcall import TransportError

        for attempt in range(1, self.attempts + 1):
            self.run.check_deadline(f"{method} {path}")
            wait = self.retry_delay * 2 ** (attempt - 1)
            try:
                status, data, asked = self.request(method, path, body=body)
            except TransportError as error:
                last = str(error)
            else:
                if 200 <= status < 300 or status in ok:
                    return status, data
                last = f"HTTP {status}{_status_message(data)}"
                if status not in RETRY_STATUSES:
                    raise HookError(f"{method} {path}: {last}")
                if asked is not None:
                    if asked > self.run.remaining():
                        raise HookError(
                            f"{method} {path}: {last}; the API server asks to wait {asked:.0f}s, more than the "
                            f"{self.run.remaining():.0f}s left of the step's timeout"
                        )
                    wait = asked
            if attempt < self.attempts:
                self.run.sleep(wait)
        raise HookError(f"{method} {path}: {last}; gave up after {self.attempts} attempts")

    def get(self, path: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        status, data = self.call("GET", path, ok=frozenset({404}))
        if status == 404:
            return None
        if not isinstance(data, dict):
            raise HookError(f"GET {path}: the answer is not an object")
        return data

    def put_object(self, collection: str, name: str, body: dict[str, Any]) -> str:
        """Create or replace ``name`` in ``collection``: idempotent, survives a racing writer."""
        for _ in range(self.attempts):
            status, _data = self.call("POST", collection, body=body, ok=frozenset({409}))
            if status != 409:
                return "created"
            status, _ = self.call("PUT", f"{collection}/{name}", body=body, ok=frozenset({404}))
            if status != 404:
                return "replaced"
        raise HookError(f"could not write {collection}/{name}: it vanished between create and replace")

    def close(self) -> None:
        """Nothing is kept open between requests (each has its own connection)."""


def secret_path(namespace: str, name: str | None = None) -> str:
    """``/api/v1/namespaces/<ns>/secrets[/<name>]``."""
    base = f"/api/v1/namespaces/{namespace}/secrets"
    return f"{base}/{name}" if name else base


def object_path(*, api_version: str, plural: str, namespace: str | None, name: str) -> str:
    """The REST path of one object (core group under /api, others under /apis)."""
    prefix = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    scope = f"/namespaces/{namespace}" if namespace else ""
    return f"{prefix}{scope}/{plural}/{name}"


SERVER_SET_METADATA = (
    "namespace",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "managedFields",
    "ownerReferences",
    "selfLink",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
"""Metadata a copy must not carry: the server sets it, or (owner references) it points at the original."""
KEPT_ANNOTATIONS = ("cert-manager.io/",)
"""Annotations a copy keeps: cert-manager compares its ``cert-manager.io/*`` annotations (issuer,
certificate name, names) with the Certificate and re-issues when they are missing; others (such
as ``kubectl.kubernetes.io/last-applied-configuration``) describe the original and are dropped."""


def portable_secret(secret: dict[str, Any], *, namespace: str) -> dict[str, Any]:
    """A Secret as it can be written into ``namespace``: data, labels and cert-manager's
    annotations kept, server-set metadata stripped."""
    metadata = {key: value for key, value in (secret.get("metadata") or {}).items() if key not in SERVER_SET_METADATA}
    annotations = {
        str(key): value
        for key, value in (metadata.pop("annotations", None) or {}).items()
        if str(key).startswith(KEPT_ANNOTATIONS)
    }
    if annotations:
        metadata["annotations"] = annotations
    metadata["namespace"] = namespace
    # apiVersion and kind as read (v1, Secret); a Secret has no status
    copy = {key: value for key, value in secret.items() if key != "metadata"}
    copy["metadata"] = metadata
    return copy


def _status_message(data: Any) -> str:
    from codex_stacks.components.hooks.providers.httpcall import shortened

    if isinstance(data, dict) and data.get("message"):
        return f" ({shortened(str(data['message']))})"
    return ""


def _short(error: Exception) -> str:
    from codex_stacks.components.hooks.providers.httpcall import shortened

    return shortened(str(error))
