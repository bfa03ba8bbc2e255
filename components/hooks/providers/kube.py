"""The Kubernetes API for hook steps: the official client, bounded retries, clear errors.

Built inside provider methods (never pickled): the kubeconfig (``KUBECONFIG``, the stack's
``kubeContext``) or, inside a pod, the service account. Requests go through the client's own
REST layer, raw JSON in and out, so a hook copies objects field for field.
"""

from __future__ import annotations

import json
from typing import Any

from codex_stacks.components.hooks.providers.base import HookError, StepRun

RETRY_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


class KubeApi:
    """A few verbs on raw paths, each retried on 409/429/5xx and connection errors."""

    def __init__(self, run: StepRun) -> None:
        self.run = run
        self.context: str | None = run.props.get("kube_context") or None
        self.request_timeout = float(run.tuning.get("request_timeout", 10.0))
        self.retry_delay = float(run.tuning.get("retry_delay", 1.0))
        self.attempts = int(run.tuning.get("attempts", 4))
        self._client: Any = None

    def client(self) -> Any:
        """The ApiClient, from the kubeconfig or the pod's service account; no urllib3 retries."""
        if self._client is None:
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
            configuration.retries = False  # retries are ours, bounded and visible
            self._client = client.ApiClient(configuration)
        return self._client

    def request(self, method: str, path: str, *, body: Any = None) -> tuple[int, Any]:
        """One request: (status, parsed JSON or None). Transport errors raise."""
        api = self.client()
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        _method, url, header_params, serialized, _post = api.param_serialize(
            method=method, resource_path=path, header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        timeout = max(0.05, min(self.request_timeout, self.run.remaining() or 0.05))
        response = api.call_api(method, url, header_params=header_params, body=serialized, _request_timeout=timeout)
        response.read()
        data = response.data
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return int(response.status), parsed

    def call(self, method: str, path: str, *, body: Any = None, ok: frozenset[int] = frozenset()) -> tuple[int, Any]:
        """``request`` with retries; statuses in ``ok`` (and 2xx) return, others are errors."""
        last = ""
        for attempt in range(1, self.attempts + 1):
            self.run.check_deadline(f"{method} {path}")
            try:
                status, data = self.request(method, path, body=body)
            except HookError:
                raise
            except Exception as error:  # urllib3 timeouts, refused connections, protocol errors
                last = f"{type(error).__name__}: {_short(error)}"
            else:
                if 200 <= status < 300 or status in ok:
                    return status, data
                last = f"HTTP {status}{_status_message(data)}"
                if status not in RETRY_STATUSES:
                    raise HookError(f"{method} {path}: {last}")
            if attempt < self.attempts:
                self.run.sleep(self.retry_delay * 2 ** (attempt - 1))
        raise HookError(f"{method} {path}: {last}; gave up after {self.attempts} attempts")

    def get(self, path: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        status, data = self.call("GET", path, ok=frozenset({404}))
        return None if status == 404 else data

    def put_object(self, collection: str, name: str, body: dict[str, Any]) -> str:
        """Create or replace ``name`` in ``collection``: idempotent, survives a racing writer."""
        last = ""
        for _ in range(self.attempts):
            status, _data = self.call("POST", collection, body=body, ok=frozenset({409}))
            if status != 409:
                return "created"
            status, _ = self.call("PUT", f"{collection}/{name}", body=body, ok=frozenset({404}))
            if status != 404:
                return "replaced"
            last = "it vanished between create and replace"
        raise HookError(f"could not write {collection}/{name}: {last}")

    def close(self) -> None:
        """Release the connection pool."""
        if self._client is not None:
            self._client.close()


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
    "annotations",
)
"""Metadata a copy must not carry: the server sets it, or (annotations) it points at the original."""


def portable_secret(secret: dict[str, Any], *, namespace: str) -> dict[str, Any]:
    """A Secret as it can be written into ``namespace``: data kept, server-set metadata stripped."""
    metadata = {key: value for key, value in (secret.get("metadata") or {}).items() if key not in SERVER_SET_METADATA}
    metadata["namespace"] = namespace
    copy = {key: value for key, value in secret.items() if key not in ("metadata", "status")}
    copy["apiVersion"] = "v1"
    copy["kind"] = "Secret"
    copy["metadata"] = metadata
    return copy


def _status_message(data: Any) -> str:
    if isinstance(data, dict) and data.get("message"):
        return f" ({str(data['message'])[:200]})"
    return ""


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 200 else text[:200] + "…"
