"""Slot claims: one ``coordination.k8s.io/v1`` Lease per claimed slot, in the system namespace.

Claiming a slot is *creating* its Lease: the API server creates a name once and answers 409
AlreadyExists to everyone after, on every cluster, whatever Pulumi backend the stacks live in
(self-managed backends only have a list-based lock, and Pulumi Cloud is not required). The Lease
says whose the slot is — ``spec.holderIdentity`` is the binding ``owner/repo#issue-42`` — and its
name and labels carry the repository, so repositories sharing a cluster never share a slot.

A second, short-lived Lease per binding (``…-issue-42``, label ``codex.dev/role: claiming``)
is held while a runner claims for that issue or PR, so two runners for one issue agree on one
slot. docs/operations.md describes the objects; the cluster stack creates the namespace and
gives runners the right to create, list, get and delete Leases there (agents get none).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from codex_stacks import kubeclient
from codex_stacks.ci.errors import ExternalError
from codex_stacks.ci.slots import Binding, parse_time
from codex_stacks.errors import CodexError
from codex_stacks.plan.cluster import SYSTEM_NAMESPACE

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

MANAGED_BY = "codexctl"
LABEL_REPOSITORY = "codex.dev/repository"
LABEL_PROJECT = "codex.dev/project"
LABEL_ROLE = "codex.dev/role"
LABEL_SLOT = "codex.dev/slot"
NOTE_REPOSITORY = "codex.dev/repository"
NOTE_BINDING = "codex.dev/binding"
NOTE_CLAIMED_AT = "codex.dev/claimed-at"
NOTE_PROJECT = "codex.dev/project"
NOTE_STACK = "codex.dev/stack"
Role = Literal["slot", "claiming"]
_UNSAFE = re.compile(r"[^a-z0-9]+")
_RETRIES = 4


def repository_key(repository: str) -> str:
    """A label value (≤ 63, DNS-safe) for ``owner/repo``: a readable slug and a hash of the name."""
    slug = _UNSAFE.sub("-", repository.lower()).strip("-")[:40].strip("-") or "repo"
    digest = hashlib.sha256(repository.encode()).hexdigest()[:8]
    return f"{slug}-{digest}"


def label_value(text: str) -> str:
    value = _UNSAFE.sub("-", text.lower()).strip("-")[:63].strip("-")
    return value or "none"


def slot_lease_name(repository: str, slot: int) -> str:
    return f"{repository_key(repository)}-slot-{slot}"


def binding_lease_name(binding: Binding) -> str:
    return f"{repository_key(binding.repository)}-{binding.kind}-{binding.number}"


def micro_time(moment: datetime) -> str:
    """metav1.MicroTime as the API server writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Claim:
    """One Lease of this repository: a slot's claim, or a binding's claiming lock."""

    name: str
    role: Role
    slot: int | None
    binding: Binding | None
    claimed_at: datetime | None
    project: str
    resource_version: str

    def age(self, now: datetime) -> float:
        return (now - self.claimed_at).total_seconds() if self.claimed_at else float("inf")


def _claim(item: dict[str, Any]) -> Claim | None:
    meta = item.get("metadata") or {}
    labels = meta.get("labels") or {}
    notes = meta.get("annotations") or {}
    role = labels.get(LABEL_ROLE)
    if role not in ("slot", "claiming"):
        return None
    slot_text = labels.get(LABEL_SLOT, "")
    holder = (item.get("spec") or {}).get("holderIdentity") or notes.get(NOTE_BINDING) or ""
    return Claim(
        name=str(meta.get("name", "")),
        role=role,
        slot=int(slot_text) if slot_text.isdigit() else None,
        binding=Binding.parse(holder),
        claimed_at=parse_time(notes.get(NOTE_CLAIMED_AT)),
        project=str(notes.get(NOTE_PROJECT, "")),
        resource_version=str(meta.get("resourceVersion", "")),
    )


class ClaimStore:
    """The Leases of one repository and Pulumi project in the system namespace."""

    def __init__(
        self,
        *,
        client: ApiClient,
        repository: str,
        project: str,
        namespace: str = SYSTEM_NAMESPACE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from kubernetes.client import CoordinationV1Api

        self.api = CoordinationV1Api(client)
        self.server = str(client.configuration.host)
        self.repository = repository
        self.project = project
        self.namespace = namespace
        self.sleep = sleep

    # -- requests, with retries on what passes (network, 5xx, 429) -----------------------------
    def _call(self, doing: str, request: Callable[[], Any], *, allow: tuple[int, ...] = ()) -> tuple[int, Any]:
        from kubernetes.client.exceptions import ApiException

        for attempt in range(_RETRIES + 1):
            try:
                response = request()
                return 200, json.loads(response.data or b"{}")
            except ApiException as exc:
                if exc.status in allow:
                    return int(exc.status), None
                transient = exc.status in (429, 500, 502, 503, 504)
                if not transient or attempt == _RETRIES:
                    raise self._error(exc, doing) from None
            except Exception as exc:
                if kubeclient.network_reason(exc) is None or attempt == _RETRIES:
                    raise self._error(exc, doing) from None
            self.sleep(min(8.0, 0.5 * 2**attempt))
        raise AssertionError("unreachable")

    def _error(self, exc: Exception, doing: str) -> ExternalError:
        status = kubeclient.api_status(exc)
        if status is None:
            reason = kubeclient.network_reason(exc) or str(exc).splitlines()[0][:200]
            return ExternalError(
                f"{doing}: cannot reach the cluster at {self.server} ({reason})",
                hint="slot claims live in the cluster: check that it runs and that KUBECONFIG points at it",
            )
        hint = None
        if status.startswith("HTTP 403"):
            hint = (
                f"the runner's account needs create/get/list/delete on leases in namespace {self.namespace}: "
                "the cluster stack's Role codex-slot-claims-<project> gives them to security.runners "
                "(docs/security.md)"
            )
        elif status.startswith("HTTP 404") and "namespaces" in status:
            hint = f"namespace {self.namespace} is made by the cluster stack (docs/operations.md): deploy it first"
        return ExternalError(f"{doing}: {status}", hint=hint)

    # -- reading --------------------------------------------------------------------------------
    def _list(self, selector: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:

            def page(token: str | None = token) -> Any:
                return self.api.list_namespaced_lease(
                    self.namespace,
                    label_selector=selector,
                    limit=200,
                    _continue=token,
                    _preload_content=False,
                    _request_timeout=30,
                )

            _, data = self._call(f"listing slot claims in namespace {self.namespace}", page)
            items.extend(data.get("items") or [])
            token = (data.get("metadata") or {}).get("continue")
            if not token:
                return items

    def claims(self) -> list[Claim]:
        """Every Lease of this repository (slots and claiming locks), slots by number."""
        selector = f"{LABEL_REPOSITORY}={repository_key(self.repository)},app.kubernetes.io/managed-by={MANAGED_BY}"
        found = [claim for claim in (_claim(item) for item in self._list(selector)) if claim is not None]
        return sorted(found, key=lambda c: (c.role, c.slot or 0, c.name))

    def slots(self) -> list[Claim]:
        return [claim for claim in self.claims() if claim.role == "slot" and claim.slot is not None]

    def other_repositories(self) -> set[str]:
        """Repositories whose claims name the same Pulumi project: their ``ai-slot-N`` would be
        this repository's stacks on a shared backend."""
        selector = f"{LABEL_PROJECT}={label_value(self.project)},app.kubernetes.io/managed-by={MANAGED_BY}"
        others = set()
        for item in self._list(selector):
            notes = (item.get("metadata") or {}).get("annotations") or {}
            if notes.get(NOTE_PROJECT) == self.project and notes.get(NOTE_REPOSITORY) != self.repository:
                others.add(str(notes.get(NOTE_REPOSITORY)))
        return others

    # -- writing --------------------------------------------------------------------------------
    def _body(self, *, name: str, role: Role, binding: Binding, slot: int | None, now: datetime) -> dict[str, Any]:
        labels = {
            "app.kubernetes.io/managed-by": MANAGED_BY,
            LABEL_REPOSITORY: repository_key(self.repository),
            LABEL_PROJECT: label_value(self.project),
            LABEL_ROLE: role,
        }
        notes = {
            NOTE_REPOSITORY: self.repository,
            NOTE_BINDING: str(binding),
            NOTE_CLAIMED_AT: now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            NOTE_PROJECT: self.project,
        }
        if slot is not None:
            labels[LABEL_SLOT] = str(slot)
            notes[NOTE_STACK] = f"ai-slot-{slot}"
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": self.namespace, "labels": labels, "annotations": notes},
            "spec": {"holderIdentity": str(binding), "acquireTime": micro_time(now), "renewTime": micro_time(now)},
        }

    def _create(self, body: dict[str, Any], doing: str) -> Claim | None:
        def create() -> Any:
            lease = cast(Any, body)  # the client serializes a plain dict as it is
            return self.api.create_namespaced_lease(self.namespace, lease, _preload_content=False, _request_timeout=30)

        code, data = self._call(doing, create, allow=(409,))
        if code == 409:
            return None
        return _claim(data)

    def claim_slot(self, slot: int, binding: Binding, *, now: datetime) -> Claim | None:
        """Create slot ``slot``'s Lease for ``binding``; None when it is taken (409)."""
        name = slot_lease_name(self.repository, slot)
        body = self._body(name=name, role="slot", binding=binding, slot=slot, now=now)
        return self._create(body, f"claiming slot {slot}")

    def lock_binding(self, binding: Binding, *, now: datetime) -> Claim | None:
        """Create ``binding``'s claiming lock; None when another run holds it."""
        name = binding_lease_name(binding)
        body = self._body(name=name, role="claiming", binding=binding, slot=None, now=now)
        return self._create(body, f"locking the claim of {binding}")

    def release(self, claim: Claim) -> bool:
        """Delete ``claim`` if it is still the object we read (resourceVersion precondition);
        False when it was gone already or changed meanwhile."""

        def delete() -> Any:
            body = {"preconditions": {"resourceVersion": claim.resource_version}} if claim.resource_version else {}
            return self.api.delete_namespaced_lease(
                claim.name, self.namespace, body=cast(Any, body), _preload_content=False, _request_timeout=30
            )

        code, _ = self._call(f"releasing {claim.name}", delete, allow=(404, 409))
        return code == 200


def claim_store(*, repository: str, project: str, context: str | None) -> ClaimStore:
    """A store on the slots' cluster; no usable kubeconfig is an outside failure (exit 1)."""
    try:
        client = kubeclient.api_client(context=context)
    except CodexError as exc:
        raise ExternalError(
            f"no cluster to keep slot claims in: {exc.message}",
            location=exc.location,
            hint="slot claims are Leases in the cluster: set KUBECONFIG (or the environment's kubeContext)",
        ) from None
    return ClaimStore(client=client, repository=repository, project=project)
