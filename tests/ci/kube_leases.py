"""``coordination.k8s.io/v1`` Leases for the loopback Kubernetes double (tests/ci/kube_api.py): the
slot claims. What the API server does and the claims rely on, modelled on its documented behaviour
(https://kubernetes.io/docs/reference/using-api/api-concepts/):

* create (POST) is atomic: a second create of the same name answers 409 ``AlreadyExists``;
* a create into a namespace that does not exist answers 404 ``NotFound``;
* update (PUT) with a stale ``metadata.resourceVersion`` answers 409 ``Conflict``;
* delete with ``preconditions.resourceVersion`` that no longer matches answers 409 ``Conflict``;
* list filters by ``labelSelector`` (equality terms, comma-separated) and pages with
  ``limit``/``continue`` (the double pages at ``page_size`` items whatever the client asks).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/apis/coordination.k8s.io/v1/namespaces/"


@dataclass
class Leases:
    """The Leases of the double, and faults to switch on."""

    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    page_size: int = 5
    forbidden: set[str] = field(default_factory=set)
    """HTTP methods answered 403 (an account without RBAC in the system namespace)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    versions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def names(self, namespace: str) -> list[str]:
        return sorted(name for ns, name in self.items if ns == namespace)


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


def _selected(lease: dict[str, Any], selector: str) -> bool:
    labels = lease["metadata"].get("labels") or {}
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key.rstrip("=")) != value.lstrip("="):
            return False
    return True


def handle(handler: Any, leases: Leases, present: set[str], method: str) -> None:
    """Answer one request under PREFIX; ``handler`` is the double's JsonHandler."""
    url = urlsplit(handler.path)
    length = int(handler.headers.get("Content-Length") or 0)
    body = json.loads(handler.rfile.read(length) or b"{}") if length else {}
    parts = url.path[len(PREFIX) :].split("/")
    namespace, name = parts[0], (parts[2] if len(parts) > 2 else None)
    query = parse_qs(url.query)
    if method in leases.forbidden:
        handler._json(403, status(403, "Forbidden", f"leases.coordination.k8s.io is forbidden in {namespace}"))
        return
    with leases.lock:
        key = (namespace, name or "")
        if method == "GET" and name is None:
            found = [leases.items[(namespace, n)] for n in leases.names(namespace)]
            found = [item for item in found if _selected(item, query.get("labelSelector", [""])[0])]
            start = int(query.get("continue", ["0"])[0] or 0)
            page = found[start : start + leases.page_size]
            rest = str(start + leases.page_size) if start + leases.page_size < len(found) else None
            meta: dict[str, Any] = {"resourceVersion": str(next(leases.versions))}
            if rest:
                meta["continue"] = rest
            listing = {"kind": "LeaseList", "apiVersion": "coordination.k8s.io/v1", "metadata": meta, "items": page}
            handler._json(200, listing)
            return
        if method == "POST":
            name = body.get("metadata", {}).get("name", "")
            key = (namespace, name)
            if namespace not in present:
                handler._json(404, status(404, "NotFound", f'namespaces "{namespace}" not found'))
                return
            if key in leases.items:
                message = f'leases.coordination.k8s.io "{name}" already exists'
                handler._json(409, status(409, "AlreadyExists", message))
                return
            lease = json.loads(json.dumps(body))
            lease["metadata"].update(
                namespace=namespace,
                resourceVersion=str(next(leases.versions)),
                uid=f"uid-{name}",
                creationTimestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            lease.update(kind="Lease", apiVersion="coordination.k8s.io/v1")
            leases.items[key] = lease
            handler._json(201, lease)
            return
        current = leases.items.get(key)
        if current is None:
            handler._json(404, status(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found'))
            return
        if method == "GET":
            handler._json(200, current)
        elif method == "PUT":
            if body.get("metadata", {}).get("resourceVersion") != current["metadata"]["resourceVersion"]:
                handler._json(409, status(409, "Conflict", f'Operation cannot be fulfilled on leases "{name}"'))
                return
            body["metadata"]["resourceVersion"] = str(next(leases.versions))
            leases.items[key] = body
            handler._json(200, body)
        elif method == "DELETE":
            wanted = (body.get("preconditions") or {}).get("resourceVersion")
            if wanted is not None and wanted != current["metadata"]["resourceVersion"]:
                handler._json(409, status(409, "Conflict", f'Precondition failed on leases "{name}"'))
                return
            del leases.items[key]
            handler._json(200, status(200, "Success", "deleted") | {"status": "Success"})
        else:
            handler._json(405, status(405, "MethodNotAllowed", method))
