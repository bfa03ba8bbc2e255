"""A harsh loopback double of the Kubernetes API server, for every test that talks to a cluster.

The production code talks to it through its real clients (the ``kubernetes`` package, its REST
layer and its WebSocket exec) over real HTTP on 127.0.0.1, with a kubeconfig that points here.
It stores any resource under ``/api/v1/...`` and ``/apis/<group>/<version>/...``, namespaced and
cluster-scoped, and it is unkind the way a real API server is. Each behaviour names where the real
one is defined (kubernetes/kubernetes unless said otherwise):

* **Status bodies** — every failure is a ``kind: Status`` with the reason, code, details and message
  the API server builds (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go: NewNotFound,
  NewAlreadyExists, NewConflict, NewForbidden, NewInvalid, NewBadRequest, NewMethodNotSupported;
  API conventions, community/contributors/devel/sig-architecture/api-conventions.md "Response
  Status Kind").
* **Authentication, then authorization, then admission, then storage** — the order of the
  apiserver's handler chain: an unknown token is 401 before anything else; a request outside
  the caller's RBAC is 403 even when the object does not exist.
* **RBAC** — the default token is an administrator (group ``system:masters``, which the RBAC
  authorizer always allows, as kind's and kubeadm's admin kubeconfig). A test that gives the client
  another identity (:meth:`KubeDouble.add_user`, :meth:`KubeDouble.service_account`) and binds it
  to a Role or ClusterRole (:meth:`KubeDouble.bind`, or Role/RoleBinding objects written through
  the API) gets exactly those rules: ``apiGroups``/``resources`` (``res/sub``, ``*/sub``, ``*``)
  /``verbs``/``resourceNames`` matched as plugin/pkg/auth/authorizer/rbac/rbac.go and
  pkg/apis/rbac/v1/evaluation_helpers.go do, and a 403 whose message is the one of
  staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go (forbiddenMessage).
  Discovery paths (``/version``, ``/api``, ``/apis``) are open to every authenticated user
  (the ``system:discovery`` and ``system:public-info-viewer`` ClusterRoles).
* **Namespace lifecycle admission** (staging/src/k8s.io/apiserver/pkg/admission/plugin/namespace/
  lifecycle/admission.go) — a write into a namespace that does not exist is 404 ``namespaces "x"
  not found``; a create in a Terminating namespace is 403 ``unable to create new content in
  namespace x because it is being terminated``; ``default``, ``kube-system`` and ``kube-public``
  may not be deleted (403 ``this namespace may not be deleted``).
* **Optimistic concurrency** (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go,
  Update) — every write bumps one cluster-wide ``resourceVersion``; a PUT or PATCH that carries a
  stale ``metadata.resourceVersion`` is 409 Conflict ``the object has been modified``; a POST of a
  name that exists is 409 AlreadyExists; a PUT of a missing object is 404, except for resources
  whose strategy allows create-on-update (Leases, pkg/registry/coordination/lease/strategy.go,
  which also refuse an update without a resourceVersion: 422 ``must be specified for an update``).
* **Deletion** (DeleteOptions, staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go; the
  garbage-collection page of kubernetes/website, content/en/docs/concepts/architecture/
  garbage-collection.md) — ``propagationPolicy`` (query or body) Background (the default: the
  owner goes at once, dependents by ``ownerReferences`` uid on the next tick), Foreground (the
  owner stays, with ``deletionTimestamp`` and the ``foregroundDeletion`` finalizer, until its
  dependents are gone) and Orphan (``orphan`` finalizer; dependents lose the owner reference and
  stay); ``preconditions`` (uid, resourceVersion) are 409 when they do not match; an object with
  finalizers only gets a ``deletionTimestamp`` (202) and goes when the last finalizer is removed;
  a pod is Terminating (``deletionTimestamp``, ``deletionGracePeriodSeconds``) for
  ``pod_grace_ticks`` ticks unless ``gracePeriodSeconds: 0``.
* **Namespace finalization** (pkg/registry/core/namespace/storage/storage.go, Delete;
  pkg/controller/namespace/deletion/namespaced_resources_deleter.go) — the first DELETE sets
  ``deletionTimestamp`` and ``status.phase: Terminating`` and answers the namespace; a DELETE while
  ``spec.finalizers`` is not empty is 409 Conflict ``The system is ensuring all content is removed
  from this namespace``; the namespace controller deletes every object in it (each by its own
  rules: pods terminate gracefully, finalizers hold objects), then removes the ``kubernetes``
  finalizer, after which the namespace is gone. A finalizer nobody removes keeps it Terminating.
* **Server-set fields** — ``uid``, ``resourceVersion``, ``creationTimestamp``, ``generation``
  (bumped when anything outside metadata/status changes), ``managedFields``; the main resource
  ignores ``status`` of resources with a status subresource; a Secret's ``stringData`` is merged
  into ``data`` and never stored (pkg/apis/core/v1/conversion.go); a Namespace gets
  ``spec.finalizers: [kubernetes]``, ``status.phase: Active`` and the
  ``kubernetes.io/metadata.name`` label.
* **Lists** — items in key order without ``kind``/``apiVersion`` (as the server encodes them),
  ``labelSelector`` (=, ==, !=, in, notin, exists, !exists), ``fieldSelector`` on
  ``metadata.name``/``metadata.namespace`` (others 400), ``limit`` and an opaque ``continue``
  token with ``remainingItemCount`` (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go, GetList).
* **Exec** — ``pods/<name>/exec`` over WebSocket (``v4.channel.k8s.io``: one channel byte, then
  data; stdout 1, stderr 2, the final Status on 3), authorized as both ``get`` and ``create`` on
  ``pods/exec`` (KEP-4006, AuthorizePodWebsocketUpgradeCreatePermission, on by default since
  1.35); a missing pod is 404, an unknown container 400; a plain HTTP request is 400 ``Upgrade
  request required``. A command either answers scripted chunks (:class:`ExecResult`) or runs for
  real in a container's stand-in filesystem (:class:`ContainerFiles`), streamed as it runs.

Not modelled: watch (400), server-side apply (415), admission webhooks, quota, defaulting of pod
specs, the Deployment/ReplicaSet controllers (a test runs its own through :attr:`controllers`).

Time is counted in **ticks**: every request the server receives advances the clock by one before
it is handled, and pending work (graceful pod termination, the garbage collector, the namespace
controller, the test's :attr:`controllers`) runs then. So a test sees Terminating objects for a
bounded number of requests, deterministically, without sleeping.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import os
import re
import selectors
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

JsonObject = dict[str, Any]

ADMIN_TOKEN = "double-token"
"""The kubeconfig's token by default: user ``kubernetes-admin`` in ``system:masters``."""

IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})
"""admission.go (namespace lifecycle): these namespaces may not be deleted."""

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
"""What every cluster has from the start."""

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class Resource:
    """What the server knows of a resource type (its discovery entry and registry strategy)."""

    group: str
    plural: str
    kind: str
    namespaced: bool = True
    status_subresource: bool = False
    create_on_update: bool = False
    unconditional_update: bool = True

    @property
    def qualified(self) -> str:
        """``schema.GroupResource.String()``: ``secrets``, ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _table() -> dict[tuple[str, str], Resource]:
    rows = [
        Resource("", "namespaces", "Namespace", namespaced=False, status_subresource=True),
        Resource("", "nodes", "Node", namespaced=False, status_subresource=True),
        Resource("", "persistentvolumes", "PersistentVolume", namespaced=False, status_subresource=True),
        Resource("", "pods", "Pod", status_subresource=True),
        Resource("", "secrets", "Secret"),
        Resource("", "configmaps", "ConfigMap"),
        Resource("", "services", "Service", status_subresource=True),
        Resource("", "serviceaccounts", "ServiceAccount"),
        Resource("", "persistentvolumeclaims", "PersistentVolumeClaim", status_subresource=True),
        Resource("", "events", "Event", create_on_update=True),
        Resource("", "endpoints", "Endpoints", create_on_update=True),
        Resource("", "resourcequotas", "ResourceQuota", status_subresource=True),
        Resource("", "limitranges", "LimitRange", create_on_update=True),
        Resource("apps", "deployments", "Deployment", status_subresource=True),
        Resource("apps", "statefulsets", "StatefulSet", status_subresource=True),
        Resource("apps", "daemonsets", "DaemonSet", status_subresource=True),
        Resource("apps", "replicasets", "ReplicaSet", status_subresource=True),
        Resource("batch", "jobs", "Job", status_subresource=True),
        Resource("batch", "cronjobs", "CronJob", status_subresource=True),
        Resource("networking.k8s.io", "ingresses", "Ingress", status_subresource=True),
        Resource("networking.k8s.io", "networkpolicies", "NetworkPolicy"),
        Resource("networking.k8s.io", "ingressclasses", "IngressClass", namespaced=False),
        Resource("policy", "poddisruptionbudgets", "PodDisruptionBudget", status_subresource=True),
        Resource("rbac.authorization.k8s.io", "roles", "Role"),
        Resource("rbac.authorization.k8s.io", "rolebindings", "RoleBinding"),
        Resource("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", namespaced=False),
        Resource("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
        Resource("coordination.k8s.io", "leases", "Lease", create_on_update=True, unconditional_update=False),
        Resource("storage.k8s.io", "storageclasses", "StorageClass", namespaced=False),
        Resource("scheduling.k8s.io", "priorityclasses", "PriorityClass", namespaced=False),
        Resource(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            namespaced=False,
            status_subresource=True,
        ),
        Resource("cert-manager.io", "certificates", "Certificate", status_subresource=True),
        Resource("cert-manager.io", "issuers", "Issuer", status_subresource=True),
        Resource("cert-manager.io", "clusterissuers", "ClusterIssuer", namespaced=False, status_subresource=True),
    ]
    return {(row.group, row.plural): row for row in rows}


RESOURCES = _table()


def _resource(group: str, plural: str, *, namespaced: bool, kind: str | None = None) -> Resource:
    """A built-in resource, or a custom one shaped by the path it was reached on."""
    known = RESOURCES.get((group, plural))
    if known is not None:
        return known
    guessed = kind or plural[:1].upper() + (plural[1:-1] if plural.endswith("s") else plural[1:])
    return Resource(group, plural, guessed, namespaced=namespaced)


def resource_for_kind(api_version: str, kind: str, *, namespaced: bool = True) -> Resource:
    """The resource of a manifest's ``apiVersion``/``kind`` (for seeding objects)."""
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    for row in RESOURCES.values():
        if row.group == group and row.kind == kind:
            return row
    return Resource(group, kind.lower() + "s", kind, namespaced=namespaced)


# --------------------------------------------------------------------------- Status bodies


class ApiError(Exception):
    """An answer of the API server that is a ``Status``."""

    def __init__(self, code: int, reason: str, message: str, details: JsonObject | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details = details
        self.headers: dict[str, str] = {}

    def body(self) -> JsonObject:
        status: JsonObject = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            status["details"] = self.details
        return status


def _details(resource: Resource, name: str) -> JsonObject:
    details: JsonObject = {"name": name, "kind": resource.plural}
    if resource.group:
        details["group"] = resource.group
    return details


def not_found(resource: Resource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource.qualified} "{name}" not found', _details(resource, name))


def already_exists(resource: Resource, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{resource.qualified} "{name}" already exists', _details(resource, name))


def conflict(resource: Resource, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource.qualified} "{name}": {why}',
        _details(resource, name),
    )


def forbidden(resource: Resource, name: str, why: str) -> ApiError:
    prefix = f'{resource.qualified} "{name}"' if name else resource.qualified
    return ApiError(403, "Forbidden", f"{prefix} is forbidden: {why}", _details(resource, name))


def invalid(resource: Resource, name: str, field_path: str, value: Any, detail: str) -> ApiError:
    kind = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
    message = f'{kind} "{name}" is invalid: {field_path}: Invalid value: {json.dumps(value)}: {detail}'
    details = {"name": name, "kind": resource.kind, "causes": [{"reason": "FieldValueInvalid", "field": field_path}]}
    if resource.group:
        details["group"] = resource.group
    return ApiError(422, "Invalid", message, details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


_FAULT_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def fault_status(code: int) -> ApiError:
    """What an injected fault answers: the Status the server gives for that code."""
    reason = _FAULT_REASONS.get(code, "Unknown")
    message = {
        500: "Internal error occurred: injected",
        503: "the server is currently unable to handle the request (injected)",
        429: "Too many requests, please try again later.",
        409: "Operation cannot be fulfilled: the object has been modified (injected)",
    }.get(code, f"injected {code}")
    error = ApiError(code, reason, message)
    if code == 429:
        error.headers["Retry-After"] = "1"
    return error


# --------------------------------------------------------------------------- requests, faults, users


@dataclass
class Fault:
    """Answer ``status`` (or wait ``delay`` seconds first) for the next ``times`` matching requests.

    ``after``: do the work first, then answer ``status`` — a server that committed and then failed
    (an etcd write that landed, a proxy that timed out on the answer)."""

    method: str
    path_contains: str
    status: int | None = None
    delay: float = 0.0
    times: int = 1
    after: bool = False


@dataclass
class Request:
    """One request as the server saw it, and the status it answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    user: str | None = None
    status: int = 0
    at: float = field(default_factory=time.time)
    """When it arrived (wall clock), to order it against what other doubles recorded."""

    @property
    def authorization(self) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == "authorization"), None)


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()


@dataclass
class ExecCall:
    """One exec: the pod, the container and the command (argv) the client asked for."""

    namespace: str
    pod: str
    container: str
    command: list[str]


@dataclass
class ExecResult:
    """What the command does: output chunks ``(channel, text)`` (1 stdout, 2 stderr), then an exit status.

    ``run``, when set, is a command that only starts after the upgrade, as the kubelet starts it
    once the streams are up: it writes ``(channel, bytes)`` through the callback while it runs and
    returns the final result (its ``exit_code``, or ``error`` when the runtime could not start it).
    """

    chunks: list[tuple[int, str]] = field(default_factory=list)
    exit_code: int = 0
    pause: float = 0.0
    """Seconds between chunks (a slow command); the server's shutdown cuts it short."""
    error: str | None = None
    """The runtime could not run the command at all (e.g. the executable is missing from the image)."""
    run: Callable[[Callable[[int, bytes], None]], ExecResult] | None = None


ExecHandler = Callable[[ExecCall], ExecResult]


EXEC_CHUNK = 32 * 1024
"""Bytes read from the command's pipe per frame."""
KILLED_BY_SIGKILL = 137
"""What the container runtime reports for a process ended by SIGKILL (128 + 9)."""
_ABSOLUTE_TAIL = r"(?=/|$|[^\w.-])"


@dataclass
class ContainerFiles:
    """One container's filesystem, for exec that runs the command for real on this machine.

    The real path: the API server proxies ``pods/exec`` to the kubelet, which asks the container
    runtime to start the argv in the container (its image's tools, its volume mounts, the
    container's environment and ``workingDir``) once the streams are up, streams stdout and
    stderr as the process writes them, and ends with the Status of
    staging/src/k8s.io/kubelet/pkg/cri/streaming/remotecommand/exec.go (ServeExec): Success, or
    Failure with reason ``NonZeroExitCode`` and a cause ``ExitCode`` (the constants of
    staging/src/k8s.io/apimachinery/pkg/util/remotecommand/constants.go), or an InternalError
    ``error executing command in container: …`` when the runtime cannot start it (runc's
    ``executable file not found in $PATH``). Frames follow the channel protocol
    (``v4.channel.k8s.io``; staging/src/k8s.io/apiserver/pkg/util/wsstream/conn.go: one channel
    byte, then the data of one write).

    What this stand-in does instead, without privileges for a mount namespace: the argv runs
    under this machine's ``sh``/``tar``/``git`` (standing for the image's), with only ``env``;
    every volume is a host folder (``mounts``: mount path → folder), and a mount path written in
    the argv, the environment or the working folder is rewritten to its folder, so a script that
    builds a path from pieces would miss it; ``root`` stands for the rest of the container's
    filesystem (its ``/`` as working folder, ``$HOME``). A process that outlives ``timeout``
    (the double's own bound; the kubelet only has the idle timeout of
    ``--streaming-connection-idle-timeout``) is killed with its process group and reported as
    the runtime reports SIGKILL, exit 137.
    """

    root: Path
    mounts: dict[str, Path]
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = "/"
    timeout: float = 60.0
    runs: list[list[str]] = field(default_factory=list)
    """Every argv run here (as the container saw it, before any rewriting)."""

    def rooted(self, text: str) -> str:
        """``text`` with each mount path (as an absolute path of its own) pointing at its folder."""
        for mount in sorted(self.mounts, key=len, reverse=True):
            pattern = r"(?<![\w./])" + re.escape(mount.rstrip("/")) + _ABSOLUTE_TAIL
            folder = str(self.mounts[mount])
            text = re.sub(pattern, lambda _, folder=folder: folder, text)  # type: ignore[misc]
        return text

    def folder_of(self, path: str) -> Path:
        rooted = self.rooted(path)
        if rooted != path:
            return Path(rooted)
        return self.root / path.lstrip("/")

    def environment(self) -> dict[str, str]:
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root / "home")}
        return {**base, **{key: self.rooted(value) for key, value in self.env.items()}}

    def __call__(self, call: ExecCall, *, stopping: threading.Event | None = None) -> ExecResult:
        def run(send: Callable[[int, bytes], None]) -> ExecResult:
            return self.run(call.command, send=send, stopping=stopping)

        return ExecResult(run=run)

    def run(
        self, argv: list[str], *, send: Callable[[int, bytes], None], stopping: threading.Event | None = None
    ) -> ExecResult:
        """Run ``argv`` here, streaming its output through ``send``; its exit status or start error."""
        self.runs.append(list(argv))
        (self.root / "home").mkdir(parents=True, exist_ok=True)
        cwd = self.folder_of(self.working_dir)
        cwd.mkdir(parents=True, exist_ok=True)
        if not argv:
            return ExecResult(error="failed to exec in container: no command given")
        try:
            process = subprocess.Popen(
                [self.rooted(arg) for arg in argv],
                cwd=cwd,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError:
            return ExecResult(
                error=(
                    "failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: "
                    f'unable to start container process: exec: "{argv[0]}": executable file not found in $PATH: '
                    "unknown"
                )
            )
        deadline = time.monotonic() + self.timeout
        killed = False
        assert process.stdout is not None
        assert process.stderr is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ, 1)
            selector.register(process.stderr, selectors.EVENT_READ, 2)
            while selector.get_map():
                left = deadline - time.monotonic()
                if left <= 0 or (stopping is not None and stopping.is_set()):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    killed = True
                    break
                for key, _ in selector.select(timeout=min(left, 0.2)):
                    data = os.read(key.fd, EXEC_CHUNK)
                    if not data:
                        selector.unregister(key.fileobj)
                        continue
                    with contextlib.suppress(OSError):
                        send(int(key.data), data)
        process.stdout.close()
        process.stderr.close()
        code = process.wait(timeout=10)
        if killed or code < 0:
            return ExecResult(exit_code=KILLED_BY_SIGKILL if killed else 128 - code)
        return ExecResult(exit_code=code)


Controller = Callable[["KubeDouble"], None]


@dataclass
class _Parsed:
    resource: Resource
    namespace: str | None
    name: str | None
    subresource: str | None
    version: str


# --------------------------------------------------------------------------- the double


class KubeDouble:
    """The server and its state. Use as a context manager, or ``start()``/``stop()``.

    ``pod_grace_ticks``: ticks a gracefully deleted pod stays Terminating.
    ``namespace_finalize_ticks``: ticks the namespace controller needs, after a namespace's content
    is gone, before it removes the ``kubernetes`` finalizer (and the namespace goes).
    """

    def __init__(
        self,
        *,
        tls: ssl.SSLContext | None = None,
        pod_grace_ticks: int = 2,
        namespace_finalize_ticks: int = 3,
        namespaces: tuple[str, ...] = (),
    ) -> None:
        self.lock = threading.RLock()
        self.store: dict[tuple[str, str, str, str], JsonObject] = {}
        """(group, plural, namespace or "", name) → object, as stored."""
        self.resource_version = 1
        self.clock = 0
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.tokens: dict[str, User] = {ADMIN_TOKEN: User("kubernetes-admin", ("system:masters",))}
        self.controllers: list[Controller] = []
        """Run at every tick (under the lock): a test's stand-in for the controllers not modelled."""
        self.exec_handler: ExecHandler = self._exec_in_files
        self.execs: list[ExecCall] = []
        self.container_files: dict[tuple[str, str, str], ContainerFiles] = {}
        """(namespace, pod, container) → the filesystem exec runs commands in (see :meth:`serve_files`)."""
        self.pod_grace_ticks = pod_grace_ticks
        self.namespace_finalize_ticks = namespace_finalize_ticks
        self._due: dict[tuple[str, str, str, str], int] = {}
        """Terminating pods and finalizing namespaces → the tick they are done."""
        self._gc: list[tuple[str, str]] = []
        """(owner uid, policy) the garbage collector still has to act on."""
        self.stopping = threading.Event()
        for name in (*SYSTEM_NAMESPACES, *namespaces):
            self.create_namespace(name)
        self.tls = tls
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.double = self
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # ------------------------------------------------------------------ life cycle

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"

    def start(self) -> KubeDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> KubeDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kubeconfig(self, path: Path, *, token: str = ADMIN_TOKEN, context: str = "double") -> Path:
        """A kubeconfig whose current context points here with ``token`` (TLS: insecure-skip-tls-verify)."""
        return write_kubeconfig(path, self.url, token=token, context=context, insecure=self.tls is not None)

    # ------------------------------------------------------------------ identities and RBAC

    def add_user(self, token: str, name: str, groups: tuple[str, ...] = ()) -> str:
        """A bearer token that authenticates as ``name`` (plus ``system:authenticated``)."""
        with self.lock:
            self.tokens[token] = User(name, (*groups, "system:authenticated"))
        return token

    def service_account(self, namespace: str, name: str, token: str | None = None) -> str:
        """A token of ServiceAccount ``namespace/name`` (user ``system:serviceaccount:<ns>:<name>``)."""
        token = token or f"sa-{namespace}-{name}"
        return self.add_user(
            token,
            f"system:serviceaccount:{namespace}:{name}",
            ("system:serviceaccounts", f"system:serviceaccounts:{namespace}"),
        )

    def bind(
        self,
        subject: str,
        rules: list[JsonObject],
        *,
        namespace: str | None = None,
        name: str | None = None,
    ) -> None:
        """Give user ``subject`` a Role (in ``namespace``) or a ClusterRole (cluster-wide) with ``rules``,
        stored as real RBAC objects (visible through the API, as on a cluster)."""
        name = name or f"test-{len(self.store)}"
        binding_subject = {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": subject}
        if subject.startswith("system:serviceaccount:"):
            _, _, sa_namespace, sa_name = subject.split(":", 3)
            binding_subject = {"kind": "ServiceAccount", "name": sa_name, "namespace": sa_namespace}
        api = "rbac.authorization.k8s.io/v1"
        role_kind = "Role" if namespace else "ClusterRole"
        meta: JsonObject = {"name": name, **({"namespace": namespace} if namespace else {})}
        self.seed({"apiVersion": api, "kind": role_kind, "metadata": dict(meta), "rules": rules})
        self.seed(
            {
                "apiVersion": api,
                "kind": f"{role_kind}Binding",
                "metadata": dict(meta),
                "subjects": [binding_subject],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            }
        )

    def _authorize(self, user: User, verb: str, parsed: _Parsed) -> None:
        if "system:masters" in user.groups:
            return
        resource = parsed.resource.plural + (f"/{parsed.subresource}" if parsed.subresource else "")
        for rules in self._rules_for(user, parsed.namespace):
            for rule in rules:
                if _rule_allows(rule, verb, parsed.resource.group, resource, parsed.subresource, parsed.name):
                    return
        scope = f'in the namespace "{parsed.namespace}"' if parsed.namespace else "at the cluster scope"
        why = f'User "{user.name}" cannot {verb} resource "{resource}" in API group "{parsed.resource.group}" {scope}'
        raise forbidden(parsed.resource, parsed.name or "", why)

    def _rules_for(self, user: User, namespace: str | None) -> Iterator[list[JsonObject]]:
        rbac = "rbac.authorization.k8s.io"
        bindings = [obj for (g, p, _, _), obj in self.store.items() if g == rbac and p == "clusterrolebindings"]
        if namespace:
            bindings += [
                obj
                for (g, p, ns, _), obj in self.store.items()
                if g == rbac and p == "rolebindings" and ns == namespace
            ]
        for binding in bindings:
            if not any(_subject_matches(subject, user) for subject in binding.get("subjects") or []):
                continue
            ref = binding.get("roleRef") or {}
            scope = binding["metadata"].get("namespace") or ""
            if ref.get("kind") == "Role":
                role = self.store.get((rbac, "roles", scope, str(ref.get("name"))))
            else:
                role = self.store.get((rbac, "clusterroles", "", str(ref.get("name"))))
            if role is not None:
                yield list(role.get("rules") or [])

    # ------------------------------------------------------------------ state, for tests

    def serve_files(self, namespace: str, pod: str, container: str, files: ContainerFiles) -> None:
        """Exec into this container runs commands for real in ``files`` (the default exec handler)."""
        with self.lock:
            self.container_files[(namespace, pod, container)] = files

    def _exec_in_files(self, call: ExecCall) -> ExecResult:
        """The default exec: in the container's files when a test gave them, else a silent success."""
        files = self.container_files.get((call.namespace, call.pod, call.container))
        if files is None:
            return ExecResult()
        return files(call, stopping=self.stopping)

    def create_namespace(self, name: str, **labels: str) -> JsonObject:
        """An Active namespace, as ``kubectl create namespace`` leaves it."""
        meta: JsonObject = {"name": name}
        if labels:
            meta["labels"] = labels
        return self.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})

    def seed(self, obj: JsonObject) -> JsonObject:
        """Store ``obj`` as the server would after a create by an administrator (status kept, so a test
        can set up a ready Deployment or a Running pod). The namespace must exist, as on a cluster."""
        with self.lock:
            api_version, kind = str(obj.get("apiVersion") or "v1"), str(obj["kind"])
            namespace = (obj.get("metadata") or {}).get("namespace")
            resource = resource_for_kind(api_version, kind, namespaced=bool(namespace))
            if resource.namespaced and not namespace:
                raise AssertionError(f"seed: {kind} {obj['metadata'].get('name')} needs metadata.namespace")
            if resource.namespaced and self._namespace(str(namespace)) is None:
                raise AssertionError(f"seed: namespace {namespace} does not exist (create_namespace first)")
            stored = self._prepare_create(resource, copy.deepcopy(obj), namespace if resource.namespaced else None)
            stored["status"] = copy.deepcopy(obj.get("status", stored.get("status")))
            if stored["status"] is None:
                del stored["status"]
            self.store[self._key(resource, stored)] = stored
            return stored

    def update_status(self, path: str, status: JsonObject) -> None:
        """Set an object's ``status`` (what a controller or the kubelet does), bumping its resourceVersion."""
        with self.lock:
            key = self._key_of_path(path)
            self.store[key]["status"] = copy.deepcopy(status)
            self.store[key]["metadata"]["resourceVersion"] = self._next_version()

    def object(self, path: str) -> JsonObject | None:
        """The stored object at a REST path (any version of its group), or None."""
        with self.lock:
            found = self.store.get(self._key_of_path(path))
            return copy.deepcopy(found) if found is not None else None

    @property
    def objects(self) -> dict[str, JsonObject]:
        """Every stored object by its REST path (namespaces excluded: see :meth:`namespaces`)."""
        with self.lock:
            return {
                self._path_of(key, obj): copy.deepcopy(obj)
                for key, obj in self.store.items()
                if key[1] != "namespaces" and not key[0].startswith("rbac.")
            }

    def namespaces(self) -> dict[str, str]:
        """Namespace → phase, system namespaces included."""
        with self.lock:
            return {
                key[3]: str((obj.get("status") or {}).get("phase", "Active"))
                for key, obj in self.store.items()
                if key[:2] == ("", "namespaces")
            }

    def fault(
        self,
        method: str,
        path_contains: str,
        *,
        status: int | None = None,
        delay: float = 0.0,
        times: int = 1,
        after: bool = False,
    ) -> None:
        with self.lock:
            self.faults.append(Fault(method, path_contains, status, delay, times, after))

    def count(self, method: str, path_contains: str = "") -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.method == method and path_contains in r.path)

    def calls(self, method: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if method is None or r.method == method]

    def settle(self, ticks: int = 50) -> None:
        """Advance the clock as if ``ticks`` requests had come (pending deletions finish)."""
        with self.lock:
            for _ in range(ticks):
                self._tick()

    # ------------------------------------------------------------------ internals: keys and paths

    def _key(self, resource: Resource, obj: JsonObject) -> tuple[str, str, str, str]:
        meta = obj["metadata"]
        return (resource.group, resource.plural, str(meta.get("namespace") or ""), str(meta["name"]))

    def _key_of_path(self, path: str) -> tuple[str, str, str, str]:
        parsed = _parse(urlsplit(path).path)
        if parsed is None or parsed.name is None:
            raise AssertionError(f"not an object path: {path}")
        return (parsed.resource.group, parsed.resource.plural, parsed.namespace or "", parsed.name)

    def _path_of(self, key: tuple[str, str, str, str], obj: JsonObject) -> str:
        group, plural, namespace, name = key
        version = str(obj.get("apiVersion") or "v1").rsplit("/", 1)[-1]
        prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        scope = f"/namespaces/{namespace}" if namespace else ""
        return f"{prefix}{scope}/{plural}/{name}"

    def _namespace(self, name: str) -> JsonObject | None:
        return self.store.get(("", "namespaces", "", name))

    def _next_version(self) -> str:
        self.resource_version += 1
        return str(self.resource_version)

    # ------------------------------------------------------------------ internals: time

    def _tick(self) -> None:
        self.clock += 1
        for key, due in list(self._due.items()):
            if due <= self.clock and key in self.store:
                obj = self.store[key]
                if key[:2] == ("", "namespaces"):
                    if self._namespace_empty(key[3]):
                        spec = obj.setdefault("spec", {})
                        spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != "kubernetes"]
                        del self._due[key]
                        self._maybe_gone(key)
                    continue
                del self._due[key]
                self._maybe_gone(key)
        for key, obj in list(self.store.items()):
            if key[:2] == ("", "namespaces") and obj["metadata"].get("deletionTimestamp"):
                self._delete_content(key[3])
        pending, self._gc = self._gc, []
        for owner_uid, policy in pending:
            self._collect(owner_uid, policy)
        for controller in list(self.controllers):
            controller(self)

    def _namespace_empty(self, namespace: str) -> bool:
        return not any(key[2] == namespace for key in self.store)

    def _delete_content(self, namespace: str) -> None:
        """The namespace controller: delete every object in it, each by its own rules."""
        for key in [k for k in self.store if k[2] == namespace]:
            obj = self.store[key]
            if not obj["metadata"].get("deletionTimestamp"):
                resource = _resource(key[0], key[1], namespaced=True, kind=obj.get("kind"))
                self._delete_object(resource, key, options={}, policy="Background")

    def _collect(self, owner_uid: str, policy: str) -> None:
        """The garbage collector, for one owner that is gone (Background) or being deleted
        (Foreground: dependents first, then the owner; Orphan: dependents keep living, unowned)."""
        dependents = [
            (key, obj)
            for key, obj in self.store.items()
            if any(ref.get("uid") == owner_uid for ref in obj["metadata"].get("ownerReferences") or [])
        ]
        for key, obj in dependents:
            if policy == "Orphan":
                refs = obj["metadata"]["ownerReferences"]
                obj["metadata"]["ownerReferences"] = [ref for ref in refs if ref.get("uid") != owner_uid]
                obj["metadata"]["resourceVersion"] = self._next_version()
            elif not obj["metadata"].get("deletionTimestamp"):
                resource = _resource(key[0], key[1], namespaced=bool(key[2]), kind=obj.get("kind"))
                self._delete_object(resource, key, options={}, policy=policy)
        owner = next(((key, obj) for key, obj in self.store.items() if obj["metadata"].get("uid") == owner_uid), None)
        if owner is None:
            return
        key, obj = owner
        finalizer = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}.get(policy)
        if finalizer is None or finalizer not in (obj["metadata"].get("finalizers") or []):
            return
        if policy == "Foreground" and any(
            ref.get("uid") == owner_uid
            for other in self.store.values()
            for ref in other["metadata"].get("ownerReferences") or []
        ):
            self._gc.append((owner_uid, policy))  # dependents still terminating: look again at the next tick
            return
        obj["metadata"]["finalizers"] = [f for f in obj["metadata"]["finalizers"] if f != finalizer]
        if not obj["metadata"]["finalizers"]:
            del obj["metadata"]["finalizers"]
        self._maybe_gone(key)

    def _remove(self, key: tuple[str, str, str, str]) -> None:
        obj = self.store.pop(key, None)
        self._due.pop(key, None)
        if obj is not None and obj["metadata"].get("uid"):
            self._gc.append((str(obj["metadata"]["uid"]), "Background"))

    def _maybe_gone(self, key: tuple[str, str, str, str]) -> None:
        """An object being deleted goes when its last finalizer (and a namespace's spec finalizer) is gone."""
        obj = self.store.get(key)
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return
        if obj["metadata"].get("finalizers"):
            return
        if key[:2] == ("", "namespaces") and (obj.get("spec") or {}).get("finalizers"):
            return
        if key in self._due:
            return
        self._remove(key)

    # ------------------------------------------------------------------ internals: writes

    def _prepare_create(self, resource: Resource, obj: JsonObject, namespace: str | None) -> JsonObject:
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
        name = meta.get("name")
        if not name:
            raise invalid(resource, "", "metadata.name", "", "name or generateName is required")
        pattern = _LABEL if resource.plural == "namespaces" else _NAME
        if not isinstance(name, str) or len(name) > 253 or not pattern.match(name):
            raise invalid(
                resource,
                str(name),
                "metadata.name",
                name,
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
            )
        if namespace is not None:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        for server_set in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "selfLink"):
            meta.pop(server_set, None)
        meta["uid"] = str(uuid.uuid4())
        meta["resourceVersion"] = self._next_version()
        meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        meta["generation"] = 1
        meta["managedFields"] = [
            {"manager": "codex-double", "operation": "Update", "apiVersion": obj.get("apiVersion")}
        ]
        if resource.status_subresource:
            obj.pop("status", None)
        if resource.kind == "Secret":
            _merge_string_data(obj)
            obj.setdefault("type", "Opaque")
        if resource.kind == "Namespace":
            obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
            obj["status"] = {"phase": "Active"}
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        if resource.kind == "Pod":
            obj["status"] = {"phase": "Pending"}
        return obj

    def _admit(self, resource: Resource, namespace: str | None, *, creating: bool) -> None:
        """Namespace lifecycle admission, for writes other than delete."""
        if not resource.namespaced or namespace is None:
            return
        found = self._namespace(namespace)
        if found is None:
            raise not_found(RESOURCES[("", "namespaces")], namespace)
        if creating and (found.get("status") or {}).get("phase") == "Terminating":
            error = forbidden(
                resource,
                "",
                f"unable to create new content in namespace {namespace} because it is being terminated",
            )
            assert error.details is not None
            error.details["causes"] = [
                {
                    "type": "NamespaceTerminating",
                    "message": f"namespace {namespace} is being terminated",
                    "field": "metadata.namespace",
                }
            ]
            raise error

    def _create(self, parsed: _Parsed, body: Any, dry_run: bool) -> tuple[int, JsonObject]:
        resource = parsed.resource
        obj = _object_body(body, resource)
        body_ns = (obj.get("metadata") or {}).get("namespace")
        if resource.namespaced and body_ns and body_ns != parsed.namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        self._admit(resource, parsed.namespace, creating=True)
        stored = self._prepare_create(resource, obj, parsed.namespace if resource.namespaced else None)
        key = self._key(resource, stored)
        if key in self.store:
            raise already_exists(resource, key[3])
        if not dry_run:
            self.store[key] = stored
        else:
            self.resource_version -= 1
        return 201, stored

    def _update(self, parsed: _Parsed, new: JsonObject, dry_run: bool, *, patching: bool = False) -> tuple[int, Any]:
        resource, name = parsed.resource, str(parsed.name)
        key = (resource.group, resource.plural, parsed.namespace or "", name)
        current = self.store.get(key)
        meta = new.setdefault("metadata", {})
        if meta.get("name") not in (None, name):
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        if resource.namespaced and meta.get("namespace") not in (None, parsed.namespace):
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        meta["name"] = name
        self._admit(resource, parsed.namespace, creating=current is None)
        if current is None:
            if patching or not resource.create_on_update or parsed.subresource:
                raise not_found(resource, name)
            return self._create(parsed, new, dry_run)
        wanted = meta.get("resourceVersion")
        if wanted and str(wanted) != current["metadata"]["resourceVersion"]:
            why = "the object has been modified; please apply your changes to the latest version and try again"
            raise conflict(resource, name, why)
        if not wanted and not patching and not resource.unconditional_update:
            raise invalid(resource, name, "metadata.resourceVersion", 0, "must be specified for an update")
        stored = copy.deepcopy(current)
        if parsed.subresource == "status":
            stored["status"] = copy.deepcopy(new.get("status"))
        elif parsed.subresource == "finalize":
            stored.setdefault("spec", {})["finalizers"] = list((new.get("spec") or {}).get("finalizers") or [])
        else:
            stored = {k: copy.deepcopy(v) for k, v in new.items() if k != "status"}
            stored["metadata"] = copy.deepcopy(new["metadata"])
            for server_set in SERVER_SET:
                if server_set in current["metadata"]:
                    stored["metadata"][server_set] = copy.deepcopy(current["metadata"][server_set])
                else:
                    stored["metadata"].pop(server_set, None)
            if resource.status_subresource or resource.kind == "Namespace":
                if "status" in current:
                    stored["status"] = copy.deepcopy(current["status"])
            elif "status" in new:
                stored["status"] = copy.deepcopy(new["status"])
            if resource.kind == "Namespace":  # spec.finalizers change only through /finalize
                stored.setdefault("spec", {})["finalizers"] = list((current.get("spec") or {}).get("finalizers") or [])
            if resource.namespaced:
                stored["metadata"]["namespace"] = parsed.namespace
            if resource.kind == "Secret":
                _merge_string_data(stored)
            if _body(stored) != _body(current):
                stored["metadata"]["generation"] = int(current["metadata"].get("generation") or 1) + 1
        if stored == current:
            return 200, copy.deepcopy(stored)  # a no-op write keeps its resourceVersion, as on a real server
        stored["metadata"]["resourceVersion"] = self._next_version()
        if dry_run:
            self.resource_version -= 1
            return 200, stored
        self.store[key] = stored
        self._maybe_gone(key)  # the last finalizer of an object being deleted was removed
        return 200, copy.deepcopy(stored)

    def _patch(self, parsed: _Parsed, body: Any, content_type: str, dry_run: bool) -> tuple[int, Any]:
        resource, name = parsed.resource, str(parsed.name)
        current = self.store.get((resource.group, resource.plural, parsed.namespace or "", name))
        if current is None:
            self._admit(resource, parsed.namespace, creating=False)
            raise not_found(resource, name)
        kind = content_type.split(";")[0].strip()
        if kind == "application/json-patch+json":
            patched = _json_patch(copy.deepcopy(current), body)
        elif kind in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            if not isinstance(body, dict):
                raise bad_request("the patch is not a JSON object")
            patched = _merge_patch(copy.deepcopy(current), body)
        else:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: "
                f"application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json "
                f"({kind})",
            )
        if not (isinstance(body, dict) and (body.get("metadata") or {}).get("resourceVersion")):
            patched.setdefault("metadata", {}).pop("resourceVersion", None)  # no precondition in the patch
        return self._update(parsed, patched, dry_run, patching=True)

    def _delete(self, parsed: _Parsed, options: JsonObject, dry_run: bool) -> tuple[int, Any]:
        resource, name = parsed.resource, str(parsed.name)
        key = (resource.group, resource.plural, parsed.namespace or "", name)
        if resource.kind == "Namespace" and name in IMMORTAL_NAMESPACES:
            raise forbidden(resource, name, "this namespace may not be deleted")
        current = self.store.get(key)
        if current is None:
            raise not_found(resource, name)
        preconditions = options.get("preconditions") or {}
        if preconditions.get("uid") and preconditions["uid"] != current["metadata"]["uid"]:
            why = (
                f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                f"UID in object meta: {current['metadata']['uid']}"
            )
            raise conflict(resource, name, why)
        wanted = preconditions.get("resourceVersion")
        if wanted and str(wanted) != current["metadata"]["resourceVersion"]:
            why = (
                f"Precondition failed: ResourceVersion in precondition: {wanted}, "
                f"ResourceVersion in object meta: {current['metadata']['resourceVersion']}"
            )
            raise conflict(resource, name, why)
        policy = str(options.get("propagationPolicy") or "")
        if options.get("orphanDependents") is True:
            policy = "Orphan"
        if policy not in ("", "Background", "Foreground", "Orphan"):
            raise invalid(
                resource, name, "propagationPolicy", policy, 'supported values: "Background", "Foreground", "Orphan"'
            )
        if dry_run:
            return 200, current
        if resource.kind == "Namespace":
            if current["metadata"].get("deletionTimestamp"):
                if (current.get("spec") or {}).get("finalizers"):
                    raise conflict(
                        resource,
                        name,
                        "The system is ensuring all content is removed from this namespace.  "
                        "Upon completion, this namespace will automatically be purged by the system.",
                    )
            else:
                current["metadata"]["deletionTimestamp"] = _now()
                current["status"] = {"phase": "Terminating"}
                current["metadata"]["resourceVersion"] = self._next_version()
                self._due[key] = self.clock + self.namespace_finalize_ticks
                self._delete_content(name)
            return 200, copy.deepcopy(current)
        return self._delete_object(resource, key, options=options, policy=policy or "Background")

    def _delete_object(
        self, resource: Resource, key: tuple[str, str, str, str], *, options: JsonObject, policy: str
    ) -> tuple[int, Any]:
        current = self.store[key]
        meta = current["metadata"]
        if meta.get("deletionTimestamp"):
            return 202, copy.deepcopy(current)
        uid = str(meta["uid"])
        finalizers = list(meta.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        grace = options.get("gracePeriodSeconds")
        graceful = resource.kind == "Pod" and grace != 0
        if not finalizers and not graceful:
            self._remove(key)
            details = {"name": key[3], "kind": resource.plural, "uid": uid}
            if resource.group:
                details["group"] = resource.group
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
        meta["finalizers"] = finalizers
        meta["deletionTimestamp"] = _now()
        if graceful:
            seconds = (
                grace
                if isinstance(grace, int)
                else (current.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
            )
            meta["deletionGracePeriodSeconds"] = seconds
            self._due[key] = self.clock + self.pod_grace_ticks
        meta["resourceVersion"] = self._next_version()
        if policy in ("Foreground", "Orphan"):
            self._gc.append((uid, policy))
        if not meta["finalizers"]:
            del meta["finalizers"]
        return 202, copy.deepcopy(current)

    # ------------------------------------------------------------------ internals: reads

    def _get(self, parsed: _Parsed) -> JsonObject:
        key = (parsed.resource.group, parsed.resource.plural, parsed.namespace or "", str(parsed.name))
        found = self.store.get(key)
        if found is None:
            raise not_found(parsed.resource, str(parsed.name))
        return copy.deepcopy(found)

    def _list(self, parsed: _Parsed, query: dict[str, list[str]]) -> JsonObject:
        resource = parsed.resource
        if query.get("watch", [""])[0] in ("1", "true"):
            raise bad_request("watch is not modelled by this test double")
        labels = _label_selector(query.get("labelSelector", [""])[0])
        fields = _field_selector(query.get("fieldSelector", [""])[0])
        items = sorted(
            (
                (key, obj)
                for key, obj in self.store.items()
                if key[:2] == (resource.group, resource.plural)
                and (parsed.namespace is None or key[2] == parsed.namespace)
                and all(term.matches(obj["metadata"].get("labels") or {}) for term in labels)
                and all(term.matches(obj["metadata"]) for term in fields)
            ),
            key=lambda pair: (pair[0][2], pair[0][3]),
        )
        start = ""
        list_version = str(self.resource_version)
        if query.get("continue", [""])[0]:
            try:
                token = json.loads(base64.b64decode(query["continue"][0]))
                start, list_version = str(token["start"]), str(token["rv"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("continue key is not valid: illegal base64 data") from None
            items = [(key, obj) for key, obj in items if f"{key[2]}/{key[3]}" > start]
        meta: JsonObject = {"resourceVersion": list_version}
        limit = int(query.get("limit", ["0"])[0] or 0)
        if limit > 0 and len(items) > limit:
            last = items[limit - 1][0]
            meta["continue"] = base64.b64encode(
                json.dumps({"rv": list_version, "start": f"{last[2]}/{last[3]}"}).encode()
            ).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        out = []
        for _, obj in items:
            item = copy.deepcopy(obj)
            item.pop("kind", None)
            item.pop("apiVersion", None)
            out.append(item)
        version = f"{resource.group}/{parsed.version}" if resource.group else parsed.version
        return {"kind": f"{resource.kind}List", "apiVersion": version, "metadata": meta, "items": out}

    # ------------------------------------------------------------------ the request path

    def _authenticate(self, record: Request) -> User:
        self._tick()
        auth = record.authorization or ""
        user = self.tokens.get(auth[7:] if auth.startswith("Bearer ") else "")
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        record.user = user.name
        return user

    def handle(self, record: Request, raw_path: str) -> tuple[int, Any, dict[str, str]]:
        """One request: (status, JSON body, extra headers). Called with the lock held."""
        method, headers, body = record.method, record.headers, record.body
        url = urlsplit(raw_path)
        query = parse_qs(url.query)
        user = self._authenticate(record)
        if url.path in ("/version", "/version/"):
            return 200, {"major": "1", "minor": "35", "gitVersion": "v1.35.0", "platform": "linux/amd64"}, {}
        if url.path in ("/api", "/apis", "/healthz", "/readyz", "/livez"):
            return 200, {"kind": "APIVersions" if url.path == "/api" else "Status", "versions": ["v1"]}, {}
        parsed = _parse(url.path)
        if parsed is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        verb = _verb(method, parsed, query)
        self._authorize(user, verb, parsed)
        dry_run = "All" in query.get("dryRun", [])
        if parsed.subresource == "exec":
            raise bad_request("Upgrade request required")
        if parsed.subresource not in (None, "status", "finalize"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if parsed.subresource == "finalize" and parsed.resource.kind != "Namespace":
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if parsed.resource.namespaced and parsed.namespace is None and method != "GET":
            raise ApiError(
                405, "MethodNotAllowed", f"{method} is not supported on {parsed.resource.qualified} across namespaces"
            )
        if parsed.name is None:
            if method == "GET":
                return 200, self._list(parsed, query), {}
            if method == "POST":
                return (*self._create(parsed, body, dry_run), {})
            raise ApiError(
                405,
                "MethodNotAllowed",
                f'{method} is not supported on resources of kind "{parsed.resource.qualified}"',
                {"kind": parsed.resource.plural, **({"group": parsed.resource.group} if parsed.resource.group else {})},
            )
        if method == "GET":
            return 200, self._get(parsed), {}
        if method == "PUT":
            new = _object_body(body, parsed.resource)
            return (*self._update(parsed, new, dry_run), {})
        if method == "PATCH":
            content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
            return (*self._patch(parsed, body, content_type, dry_run), {})
        if method == "DELETE":
            options = dict(body) if isinstance(body, dict) else {}
            for name in ("propagationPolicy", "gracePeriodSeconds", "orphanDependents"):
                if name in query:
                    value: Any = query[name][0]
                    if name == "gracePeriodSeconds":
                        value = int(value)
                    if name == "orphanDependents":
                        value = value == "true"
                    options[name] = value
            return (*self._delete(parsed, options, dry_run), {})
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")

    def authorize_exec(self, record: Request, path: str) -> tuple[_Parsed, JsonObject]:
        """The checks before an exec upgrade: user, RBAC (get and create on pods/exec), pod and container."""
        user = self._authenticate(record)
        parsed = _parse(urlsplit(path).path)
        if parsed is None or parsed.resource.kind != "Pod" or parsed.subresource != "exec" or parsed.name is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self._authorize(user, "get", parsed)
        self._authorize(user, "create", parsed)
        pod = self._get(parsed)
        return parsed, pod


# --------------------------------------------------------------------------- helpers (pure)

SERVER_SET = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
)
"""Metadata a write cannot change (the server keeps its own values)."""


def _body(obj: JsonObject) -> JsonObject:
    """What counts for ``generation``: everything but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _object_body(body: Any, resource: Resource) -> JsonObject:
    if not isinstance(body, dict):
        raise bad_request(f"the body of the request is not a {resource.kind} object")
    kind = body.get("kind")
    if kind and kind != resource.kind and resource.kind and (resource.group, resource.plural) in RESOURCES:
        raise bad_request(f"the kind of the object ({kind}) does not match the resource of the URL ({resource.plural})")
    obj = copy.deepcopy(body)
    obj.setdefault("kind", resource.kind)
    return obj


def _merge_string_data(secret: JsonObject) -> None:
    """stringData is write-only: merged into data (base64), never stored (core/v1 conversion)."""
    plain = secret.pop("stringData", None) or {}
    if plain:
        data = secret.setdefault("data", {}) or {}
        for key, value in plain.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        secret["data"] = data


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (strategic merge is treated the same: lists are replaced)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _json_patch(doc: JsonObject, operations: Any) -> JsonObject:
    """RFC 6902: add, remove, replace, test (what clients send)."""
    if not isinstance(operations, list):
        raise bad_request("json patch is not a list of operations")
    for op in operations:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op.get("path", "")).split("/")[1:]]
        parent: Any = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1] if parts else ""
        kind = op.get("op")
        try:
            if kind == "test":
                current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
                if current != op.get("value"):
                    raise ApiError(
                        422,
                        "Invalid",
                        f"the server rejected our request: testing value {op.get('path')} failed",
                    )
            elif kind in ("add", "replace"):
                if isinstance(parent, list):
                    index = len(parent) if last == "-" else int(last)
                    if kind == "add":
                        parent.insert(index, op.get("value"))
                    else:
                        parent[index] = op.get("value")
                else:
                    if kind == "replace" and last not in parent:
                        raise ApiError(
                            422,
                            "Invalid",
                            f"the server rejected our request: replace operation does not apply: "
                            f"doc is missing key: {op.get('path')}",
                        )
                    parent[last] = op.get("value")
            elif kind == "remove":
                if isinstance(parent, list):
                    del parent[int(last)]
                else:
                    del parent[last]
            else:
                raise bad_request(f"unsupported json patch operation {kind!r}")
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(
                422, "Invalid", f"the server rejected our request: {kind} operation does not apply: {op.get('path')}"
            ) from None
    return doc


@dataclass(frozen=True)
class _Requirement:
    """One term of a label or field selector: ``key op values``."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, found: dict[str, Any]) -> bool:
        value = found.get(self.key)
        if self.op == "exists":
            return self.key in found
        if self.op == "!exists":
            return self.key not in found
        if self.op in ("=", "==", "in"):
            return value is not None and str(value) in self.values
        return value is None or str(value) not in self.values  # !=, notin


def _label_selector(text: str) -> list[_Requirement]:
    """labels.Parse: ``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``."""
    requirements = []
    for raw in re.findall(r"[^,(]+(?:\([^)]*\))?", text):
        term = raw.strip()
        if not term:
            continue
        if match := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", term):
            values = frozenset(v.strip() for v in match.group(3).split(","))
            requirements.append(_Requirement(match.group(1), match.group(2), values))
        elif match := re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)", term):
            requirements.append(_Requirement(match.group(1), match.group(2), frozenset({match.group(3)})))
        elif match := re.fullmatch(r"!([\w./-]+)", term):
            requirements.append(_Requirement(match.group(1), "!exists"))
        elif re.fullmatch(r"[\w./-]+", term):
            requirements.append(_Requirement(term, "exists"))
        else:
            raise bad_request(f"unable to parse requirement: {term!r}")
    return requirements


def _field_selector(text: str) -> list[_Requirement]:
    """fields.Parse, for the fields every resource supports: ``metadata.name``, ``metadata.namespace``."""
    requirements = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        match = re.fullmatch(r"(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(.*)", term)
        if match is None:
            label = term.split("=")[0].rstrip("!")
            raise bad_request(f'"{label}" is not a known field selector: only "metadata.name", "metadata.namespace"')
        requirements.append(_Requirement(match.group(1).split(".")[1], match.group(2), frozenset({match.group(3)})))
    return requirements


def _parse(path: str) -> _Parsed | None:
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (group == "" and len(rest) == 3 and rest[2] in ("status", "finalize"))
    ):
        namespace, rest = rest[1], rest[2:]
        resource = _resource(group, rest[0], namespaced=True)
        if not resource.namespaced:
            return None
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        return _Parsed(resource, namespace, name, sub, version) if len(rest) <= 3 else None
    resource = _resource(group, rest[0], namespaced=False)
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if len(rest) > 3 or (resource.namespaced and name is not None):
        return None
    return _Parsed(resource, None, name, sub, version)


def _verb(method: str, parsed: _Parsed, query: dict[str, list[str]]) -> str:
    if method == "GET":
        if parsed.name is None:
            return "watch" if query.get("watch", [""])[0] in ("1", "true") else "list"
        return "get"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if parsed.name else "deletecollection"
    return method.lower()


def _subject_matches(subject: JsonObject, user: User) -> bool:
    kind = subject.get("kind")
    if kind == "User":
        return bool(subject.get("name") == user.name)
    if kind == "Group":
        return subject.get("name") in user.groups
    if kind == "ServiceAccount":
        return user.name == f"system:serviceaccount:{subject.get('namespace')}:{subject.get('name')}"
    return False


def _rule_allows(
    rule: JsonObject, verb: str, group: str, resource: str, subresource: str | None, name: str | None
) -> bool:
    """rbac/v1 evaluation_helpers.go: VerbMatches, APIGroupMatches, ResourceMatches, ResourceNameMatches."""
    verbs = rule.get("verbs") or []
    if "*" not in verbs and verb not in verbs:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and group not in groups:
        return False
    resources = rule.get("resources") or []
    matched = False
    for allowed in resources:
        if allowed in ("*", resource) or (subresource and allowed == f"*/{subresource}"):
            matched = True
    if not matched:
        return False
    names = rule.get("resourceNames") or []
    return not names or (name is not None and name in names)


# --------------------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    double: KubeDouble


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as the API server speaks it."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``requests``."""

    def _serve(self) -> None:
        double = self.server.double
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        url = urlsplit(self.path)
        record = Request(self.command, url.path, parse_qs(url.query), headers, body)
        with double.lock:
            double.requests.append(record)
            fault = next(
                (f for f in double.faults if f.method == self.command and f.path_contains in self.path and f.times > 0),
                None,
            )
            if fault is not None:
                fault.times -= 1
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if self.headers.get("Upgrade", "").lower() == "websocket" and url.path.endswith("/exec"):
            self._exec(record)
            return
        extra: dict[str, str] = {}
        with double.lock:
            try:
                status, payload, extra = double.handle(record, self.path)
            except ApiError as error:
                status, payload, extra = error.code, error.body(), error.headers
            if fault is not None and fault.status is not None:
                injected = fault_status(fault.status)
                status, payload, extra = injected.code, injected.body(), injected.headers
            record.status = status
        self._answer(status, payload, extra)

    def _answer(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Audit-Id", str(uuid.uuid4()))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    # ------------------------------------------------------------------ exec over WebSocket

    def _frame(self, channel: int, data: bytes) -> None:
        payload = bytes([channel]) + data
        header = bytes([0x82])
        if len(payload) < 126:
            header += bytes([len(payload)])
        elif len(payload) < 65536:
            header += bytes([126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([127]) + struct.pack("!Q", len(payload))
        self.wfile.write(header + payload)

    def _exec(self, record: Request) -> None:
        double = self.server.double
        query = record.query
        with double.lock:
            try:
                parsed, pod = double.authorize_exec(record, self.path)
                containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
                container = query.get("container", [containers[0] if len(containers) == 1 else ""])[0]
                if container not in containers:
                    raise bad_request(f"container {container} is not valid for pod {parsed.name}")
                if (pod.get("status") or {}).get("phase") != "Running":
                    raise bad_request(
                        f"pod {parsed.name} is not running (phase {(pod.get('status') or {}).get('phase')})"
                    )
            except ApiError as error:
                record.status = error.code
                self._answer(error.code, error.body())
                return
            call = ExecCall(str(parsed.namespace), str(parsed.name), container, list(query.get("command", [])))
            double.execs.append(call)
            record.status = 101
            handler = double.exec_handler
        result = handler(call)
        accept = base64.b64encode(hashlib.sha1((self.headers["Sec-WebSocket-Key"] + _WS_GUID).encode()).digest())
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.send_header("Sec-WebSocket-Protocol", "v4.channel.k8s.io")
        self.end_headers()
        for channel, text in result.chunks:
            self._frame(channel, text.encode())
            if result.pause and double.stopping.wait(result.pause):
                break
        if result.run is not None:
            result = result.run(self._frame)
        status: JsonObject = {"metadata": {}, "status": "Success"}
        if result.error is not None:
            # apierrors.NewInternalError, as ServeExec writes it when the runtime cannot start the command
            message = f"error executing command in container: {result.error}"
            status = {
                "metadata": {},
                "status": "Failure",
                "message": f"Internal error occurred: {message}",
                "reason": "InternalError",
                "details": {"causes": [{"message": message}]},
                "code": 500,
            }
        elif result.exit_code:
            status = {
                "metadata": {},
                "status": "Failure",
                "message": f"command terminated with non-zero exit code: exit status {result.exit_code}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(result.exit_code)}]},
            }
        with contextlib.suppress(OSError):
            self._frame(3, json.dumps(status).encode())
            self.wfile.write(bytes([0x88, 0x00]))
            self.connection.settimeout(2)
            self.connection.recv(64)  # the client's close frame: only then hang up
        self.close_connection = True


# --------------------------------------------------------------------------- small helpers for tests


def write_kubeconfig(
    path: Path, server: str, *, token: str = ADMIN_TOKEN, context: str = "double", insecure: bool = False
) -> Path:
    """A kubeconfig with one context, ``context``, pointing at ``server`` with a bearer token."""
    cluster: JsonObject = {"server": server}
    if insecure:
        cluster["insecure-skip-tls-verify"] = True
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "double", "cluster": cluster}],
        "users": [{"name": "double", "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": "double", "user": "double"}}],
        "current-context": context,
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def free_port() -> int:
    """A port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_context(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a throwaway self-signed certificate (made by the openssl CLI)."""
    cert, key = folder / "double.crt", folder / "double.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def secret(namespace: str, name: str, data: dict[str, str], **extra: Any) -> JsonObject:
    """A Secret manifest with ``data`` given in plain text (base64-encoded here, as the API stores it)."""
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, **extra.pop("metadata", {})},
        "data": encoded,
        **extra,
    }
