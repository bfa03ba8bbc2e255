"""Delete a slot's namespace after its stack is destroyed: the program retains it (and its PVCs and
the secrets hooks made) on delete, and the next issue taking the slot must not inherit them.

The client comes from codex_stacks.kubeclient: the kubeconfig the stack's provider uses (``$KUBECONFIG`` or
``~/.kube/config``, the environment's ``kubeContext``), or the pod's account inside a cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from codex_stacks import kubeclient
from codex_stacks.ci.errors import CiError, ExternalError
from codex_stacks.errors import CodexError
from codex_stacks.plan.cluster import SYSTEM_NAMESPACE

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

PROTECTED = frozenset({"default", "kube-system", "kube-public", "kube-node-lease", SYSTEM_NAMESPACE})
"""Namespaces no cleanup ever deletes, whatever a stack's outputs say: the cluster's own, and the
one every repository's slot claims live in."""

NamespaceState = Literal["deleted", "already gone", "terminating"]


@dataclass(frozen=True, slots=True)
class NamespaceRemoval:
    namespace: str
    state: NamespaceState
    waited: float = 0.0
    earlier: bool = False
    """It was terminating before this run asked (an earlier cleanup's delete, still at work)."""

    def describe(self) -> str:
        since = " (an earlier run deleted it)" if self.earlier else ""
        if self.state == "terminating":
            return f"namespace {self.namespace} still terminating after {self.waited:.0f}s{since}"
        if self.state == "deleted" and self.earlier:
            return f"namespace {self.namespace} gone{since}"
        return f"namespace {self.namespace} {self.state}"


def api_client(*, context: str | None) -> ApiClient:
    """The shared client (``$KUBECONFIG``/``~/.kube/config``, else in-cluster); a kubeconfig that
    cannot be used is a bad-input error that says how to skip this step."""
    try:
        return kubeclient.api_client(context=context)
    except CodexError as exc:
        raise CiError(
            f"no usable kubeconfig to delete the slot's namespace: {exc.message}",
            location=exc.location,
            hint="set KUBECONFIG (the cluster of the stack), or pass --keep-namespace",
        ) from None


def _failure(exc: Exception, *, doing: str) -> ExternalError:
    status = kubeclient.api_status(exc)
    if status is not None:
        return ExternalError(f"{doing}: {status}")
    reason = kubeclient.network_reason(exc) or str(exc).splitlines()[0][:200]
    return ExternalError(f"{doing}: cannot reach the cluster: {reason}")


def _status(exc: Exception) -> int | None:
    from kubernetes.client.exceptions import ApiException

    return exc.status if isinstance(exc, ApiException) else None


def _transient(exc: Exception) -> bool:
    """Worth asking again: no answer at all, or the API server's 5xx/429."""
    status = _status(exc)
    if status is not None:
        return status in (429, 500, 502, 503, 504)
    return kubeclient.network_reason(exc) is not None


def delete_namespace(
    namespace: str,
    *,
    context: str | None,
    timeout: float = 300.0,
    poll: float = 2.0,
    client_factory: Callable[..., ApiClient] = api_client,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> NamespaceRemoval:
    """Delete ``namespace`` and wait up to ``timeout`` seconds for it to go; 404 means already gone.

    A namespace an earlier run deleted and that is still terminating answers a second DELETE with
    409 Conflict (pkg/registry/core/namespace/storage/storage.go, Delete: "The system is ensuring
    all content is removed from this namespace"): that is waited for in the same way, and one that
    turns out not to be terminating is an error. An unreachable API server or its 5xx/429 is asked
    again every ``poll`` seconds within the same ``timeout`` before it counts as an outside
    failure (exit 1)."""
    from kubernetes.client import CoreV1Api

    if namespace in PROTECTED:
        raise CiError(f"refusing to delete namespace {namespace}: it belongs to the cluster, not to a slot")
    with client_factory(context=context) as client:
        core = CoreV1Api(client)
        started = clock()
        earlier = False
        while True:
            try:
                core.delete_namespace(namespace, propagation_policy="Background", _request_timeout=30)
                break
            except Exception as exc:
                if _status(exc) == 404:
                    return NamespaceRemoval(namespace=namespace, state="already gone")
                if _status(exc) == 409:
                    earlier = True  # being deleted already: wait for it below
                    break
                if not _transient(exc) or clock() - started >= timeout:
                    raise _failure(exc, doing=f"deleting namespace {namespace}") from None
                sleep(min(poll, max(0.0, timeout - (clock() - started))))
        while True:
            try:
                found = core.read_namespace(namespace, _request_timeout=30)
            except Exception as exc:
                if _status(exc) == 404:
                    waited = clock() - started
                    return NamespaceRemoval(namespace=namespace, state="deleted", waited=waited, earlier=earlier)
                if not _transient(exc) or clock() - started >= timeout:
                    raise _failure(exc, doing=f"waiting for namespace {namespace} to go") from None
            else:
                if found.metadata is None or found.metadata.deletion_timestamp is None:
                    raise ExternalError(
                        f"deleting namespace {namespace}: the API server refused (409 Conflict) and it is not "
                        "being deleted",
                        hint="delete it by hand (kubectl delete namespace), then run the cleanup again",
                    )
            waited = clock() - started
            if waited >= timeout:
                return NamespaceRemoval(namespace=namespace, state="terminating", waited=waited, earlier=earlier)
            sleep(min(poll, max(0.0, timeout - waited)))
