"""Drive Pulumi dynamic providers the way ``pulumi up`` does, without the CLI.

Two halves, used together (see TESTING.md, layer 4):

* :func:`capture_dynamic_registration` runs a program fragment under Pulumi mocks and keeps
  the raw ``RegisterResourceRequest`` of every dynamic resource, so a test gets the exact
  pickled ``__provider`` and inputs the engine would receive, secrets still marked.
* :class:`ProviderHost` starts the SDK's own provider host (``python -u -m pulumi.dynamic``,
  what the engine's ``pulumi-resource-pulumi-python`` shim runs) from the project root and
  calls ``Check``/``Diff``/``Create``/``Read``/``Update``/``Delete`` over gRPC, so unpickling,
  import paths and (de)serialization are the real ones.

Pulumi keeps its runtime state (settings, root stack, config) in ContextVars; each capture
runs in a copy of the caller's context so nothing leaks into the next program or test.
"""

from __future__ import annotations

import contextvars
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import grpc  # type: ignore[import-untyped,unused-ignore]
from google.protobuf import (  # type: ignore[import-untyped,unused-ignore]
    json_format,
    struct_pb2,
)
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

__all__ = [
    "PROVIDER_KEY",
    "REPO_ROOT",
    "SECRET_SIG",
    "SIG_KEY",
    "CheckFailure",
    "DynamicRegistration",
    "HostCheckResult",
    "HostCreateResult",
    "HostDiffResult",
    "HostReadResult",
    "ProviderHost",
    "ProviderHostError",
    "capture_dynamic_registration",
    "is_secret",
    "unwrap_secrets",
]

#: The property that carries the base64 dill pickle of the provider.
PROVIDER_KEY = "__provider"
#: Key and value that mark a wrapped value in Pulumi's wire format.
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
#: The project root (holds ``tests/``); the engine starts provider hosts there.
REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_CALL_TIMEOUT = 15.0
DEFAULT_STARTUP_TIMEOUT = 30.0


# --------------------------------------------------------------------------- wire values


def is_secret(value: object) -> bool:
    """Tell whether ``value`` is a secret as it travels on the wire (``{sig: SECRET_SIG}``)."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def unwrap_secrets(value: Any) -> Any:
    """Drop every secret wrapper, recursively: what a provider without secret support gets."""
    if is_secret(value):
        return unwrap_secrets(value["value"])
    if isinstance(value, dict):
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [unwrap_secrets(item) for item in value]
    return value


def _to_struct(properties: Mapping[str, Any]) -> Any:
    """Plain dict to ``Struct``; numbers become floats, exactly as on the real wire."""
    struct = struct_pb2.Struct()
    struct.update(dict(properties))
    return struct


def _from_struct(struct: Any) -> dict[str, Any]:
    """``Struct`` to a plain dict, markers (secrets, unknowns) left as they are."""
    result: dict[str, Any] = json_format.MessageToDict(struct)
    return result


# --------------------------------------------------------------------------- registration


@dataclass(frozen=True)
class DynamicRegistration:
    """One dynamic resource as the engine would have received it from the program."""

    type: str
    name: str
    urn: str
    parent: str
    dependencies: tuple[str, ...]
    property_dependencies: Mapping[str, tuple[str, ...]]
    #: The serialized ``object`` of the request as a plain dict, before the SDK deserializes
    #: it: includes ``__provider`` and keeps secrets wrapped (see :func:`is_secret`).
    raw_inputs: dict[str, Any]
    #: The SDK's deserialization of the same object with every secret unwrapped.
    inputs: dict[str, Any]

    @property
    def provider(self) -> str:
        """The base64 dill pickle of the provider (unwrapped if it was sent as a secret)."""
        blob = unwrap_secrets(self.raw_inputs[PROVIDER_KEY])
        if not isinstance(blob, str):
            raise TypeError(f"{self.urn}: {PROVIDER_KEY} is not a string")
        return blob

    def is_secret(self, key: str) -> bool:
        """Tell whether the top-level input ``key`` was registered as a secret."""
        return is_secret(self.raw_inputs.get(key))


class _Mocks(pulumi_mocks.Mocks):
    """Echo inputs back as state: the registration itself is what the tests look at."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that records the RegisterResourceRequest of each dynamic resource.

    The SDK calls the monitor from a thread pool, so records go through a lock and each call
    works only on its own request object.
    """

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self._lock = threading.Lock()
        self._records: list[DynamicRegistration] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """Build URNs like the engine does: the full parent type chain, minus the root stack.

        The SDK's MockMonitor keeps ``pulumi:pulumi:Stack$`` and only the last parent type.
        """
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != ROOT_STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        stack, project = pulumi_settings.get_stack(), pulumi_settings.get_project()
        return f"urn:pulumi:{stack}::{project}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        raw = _from_struct(request.object)
        if PROVIDER_KEY in raw:
            # Deserialize like the SDK does (the base class ensured this thread has a loop).
            plain = unwrap_secrets(rpc.deserialize_properties(request.object))
            record = DynamicRegistration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                dependencies=tuple(request.dependencies),
                property_dependencies={key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()},
                raw_inputs=raw,
                inputs=plain,
            )
            with self._lock:
                self._records.append(record)
        return response

    def records(self) -> list[DynamicRegistration]:
        """The registrations so far, by URN: the SDK registers concurrently."""
        with self._lock:
            return sorted(self._records, key=lambda record: record.urn)


def _restore_sdk_defaults() -> None:
    """Undo the one leak a copied context cannot confine.

    Each Settings attribute is a ``ContextProperty`` whose setter, when the current value is
    ``None``, also makes the new value the *default* seen by every context that never set it
    (fresh threads). ``set_mocks`` therefore turns our mock monitor into that default.
    Resetting twice puts the import-time values back: the first call makes the fields
    ``None``, the second stores the defaults again.
    """
    for _ in range(2):
        pulumi_settings.reset_options(
            project="project",
            stack="stack",
            root_directory="root_directory",
            organization="organization",
        )


def capture_dynamic_registration(
    build: Callable[[], None],
    *,
    stack: str = "test",
    project: str = "codex",
    config: Mapping[str, str] | None = None,
    secret_config_keys: Iterable[str] = (),
    preview: bool = False,
    mocks: pulumi_mocks.Mocks | None = None,
) -> list[DynamicRegistration]:
    """Run ``build`` as a Pulumi program under mocks; return its dynamic registrations.

    Registrations are sorted by URN (the SDK registers concurrently). ``config`` keys are
    namespaced (``"codex:mode"``). Pass ``mocks`` to control the state other resources
    resolve to. Exceptions from ``build`` or from a registration (e.g. a provider that cannot
    be pickled) propagate after all outstanding RPCs have finished.
    """

    def run() -> list[DynamicRegistration]:
        # A fresh Settings object and no root stack; otherwise resources of a previous
        # program stay parented to its stack and its RPC manager keeps old tasks.
        pulumi_settings.reset_options(project=project, stack=stack, preview=preview)
        set_all_config(dict(config or {}), list(secret_config_keys))
        actual_mocks = mocks if mocks is not None else _Mocks()
        monitor = _RecordingMonitor(actual_mocks)
        pulumi_mocks.set_mocks(actual_mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        try:
            # run_pulumi_func waits for every RPC and output, then re-raises build's error.
            _sync_await(run_pulumi_func(build))
        finally:
            _restore_sdk_defaults()
        return monitor.records()

    # Settings, the root stack and config are ContextVars: a copied context confines them.
    return contextvars.copy_context().run(run)


# --------------------------------------------------------------------------- provider host


class ProviderHostError(RuntimeError):
    """A provider host call failed; carries the gRPC status, its details and host stderr."""

    def __init__(
        self,
        method: str,
        message: str,
        *,
        code: Any = None,
        stderr: str = "",
    ) -> None:
        self.method = method
        self.code = code
        self.details = message
        self.stderr = stderr
        status = getattr(code, "name", None) or "no status"
        text = f"{method} failed ({status}): {message}"
        if stderr.strip():
            text += f"\n--- provider host stderr ---\n{stderr.rstrip()}"
        super().__init__(text)


@dataclass(frozen=True)
class CheckFailure:
    """One input the provider rejected in ``check``."""

    property: str
    reason: str


@dataclass(frozen=True)
class HostCheckResult:
    """What ``Check`` returned: the inputs the engine would go on with, and failures."""

    inputs: dict[str, Any]
    failures: tuple[CheckFailure, ...] = ()


@dataclass(frozen=True)
class HostCreateResult:
    """What ``Create`` returned: the new id and the outputs (including ``__provider``)."""

    id: str
    outputs: dict[str, Any]


@dataclass(frozen=True)
class HostReadResult:
    """What ``Read`` returned; ``inputs`` is set only if the provider returned inputs."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None = None


DiffChanges = Literal["unknown", "none", "some"]


@dataclass(frozen=True)
class HostDiffResult:
    """What ``Diff`` returned, reduced to what the dynamic host can express."""

    changes: DiffChanges
    replaces: tuple[str, ...] = ()
    delete_before_replace: bool = False
    stables: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        """Whether the engine would update or replace (unknown counts as a change)."""
        return self.changes != "none"


_DIFF_CHANGES: dict[int, DiffChanges] = {
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "unknown",
    provider_pb2.DiffResponse.DIFF_NONE: "none",
    provider_pb2.DiffResponse.DIFF_SOME: "some",
}


def _split_urn(urn: str) -> tuple[str, str]:
    """``urn:pulumi:stack::project::parent$type::name`` to (type, name), for the requests."""
    parts = urn.split("::")
    if len(parts) < 4:
        return "", ""
    return parts[2].split("$")[-1], parts[-1]


class ProviderHost:
    """The SDK's dynamic provider host in a subprocess, and a typed client for it.

    Started like the engine starts it: same interpreter, cwd = project root, with the project
    root on ``PYTHONPATH`` (providers pickled by reference are imported from there) and the
    stack config in ``PULUMI_CONFIG``; then ``Configure`` is called once. The engine's
    provider does not accept secrets (``acceptSecrets: false``), so, like the engine, the
    client strips secret wrappers from everything it sends. Every call has a deadline; the
    process is killed on exit.
    """

    def __init__(
        self,
        *,
        cwd: str | os.PathLike[str] | None = None,
        project: str = "codex",
        stack: str = "test",
        config: Mapping[str, str] | None = None,
        secret_config_keys: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_CALL_TIMEOUT,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        python: str = sys.executable,
    ) -> None:
        self.cwd = Path(cwd) if cwd is not None else REPO_ROOT
        self.project = project
        self.stack = stack
        self.config = dict(config or {})
        self.secret_config_keys = frozenset(secret_config_keys)
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.python = python
        self._extra_env = dict(env or {})
        self._process: subprocess.Popen[bytes] | None = None
        self._logs: tempfile.TemporaryDirectory[str] | None = None
        self._closed_logs: dict[str, str] = {}
        self._channel: Any = None
        self._stub: Any = None
        self.port: int | None = None
        self.accepts_secrets = False

    # -- lifecycle

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Launch the host, read the port it prints, connect, and send ``Configure``."""
        if self._process is not None:
            raise RuntimeError("provider host already started")
        # Files, not pipes: a chatty provider can never block on a full pipe, and the test
        # reads them through its own handles (append mode: no shared offset to disturb).
        self._logs = tempfile.TemporaryDirectory(prefix="provider-host-")
        try:
            with (
                open(self._log_path("stdout"), "ab") as stdout,
                open(self._log_path("stderr"), "ab") as stderr,
            ):
                self._process = subprocess.Popen(
                    # -u as in the engine's pulumi-resource-pulumi-python shim: the port
                    # line must not sit in a buffer.
                    [self.python, "-u", "-m", "pulumi.dynamic"],
                    cwd=self.cwd,
                    env=self._environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                )
            self.port = self._wait_for_port()
            self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
            try:
                grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
            except grpc.FutureTimeoutError:
                raise ProviderHostError(
                    "connect",
                    f"no gRPC connection to port {self.port}",
                    stderr=self.stderr,
                ) from None
            self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
            self._configure()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the channel and kill the host; safe to call twice."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            # SIGKILL cannot be ignored; the wait only reaps the process.
            self._process.wait(timeout=10)
        if self._logs is not None:
            # Keep what the host wrote readable after close: errors and failed tests quote it.
            self._closed_logs = {stream: self._read(stream) for stream in ("stdout", "stderr")}
            self._logs.cleanup()
            self._logs = None

    @property
    def stderr(self) -> str:
        """Everything the host has written to stderr so far (tracebacks, provider prints)."""
        return self._read("stderr")

    @property
    def stdout(self) -> str:
        """Everything the host has written to stdout so far (the port, provider prints)."""
        return self._read("stdout")

    # -- the ResourceProvider calls

    def check(
        self,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> HostCheckResult:
        """``Check``: the provider validates ``news`` against ``olds``."""
        type_, name = _split_urn(urn)
        request = provider_pb2.CheckRequest(
            urn=urn,
            name=name,
            type=type_,
            olds=self._outgoing(olds),
            news=self._outgoing(news),
        )
        response = self._call("Check", request, timeout)
        failures = tuple(CheckFailure(f.property, f.reason) for f in response.failures)
        return HostCheckResult(inputs=_from_struct(response.inputs), failures=failures)

    def diff(
        self,
        id_: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        ignore_changes: Iterable[str] = (),
        timeout: float | None = None,
    ) -> HostDiffResult:
        """``Diff``: ``olds`` are the prior outputs, ``news`` the checked new inputs."""
        type_, name = _split_urn(urn)
        request = provider_pb2.DiffRequest(
            id=id_,
            urn=urn,
            name=name,
            type=type_,
            olds=self._outgoing(olds),
            news=self._outgoing(news),
            old_inputs=self._outgoing(old_inputs if old_inputs is not None else olds),
            ignoreChanges=list(ignore_changes),
        )
        response = self._call("Diff", request, timeout)
        return HostDiffResult(
            changes=_DIFF_CHANGES.get(response.changes, "unknown"),
            replaces=tuple(response.replaces),
            delete_before_replace=bool(response.deleteBeforeReplace),
            stables=tuple(response.stables),
        )

    def create(
        self,
        urn: str,
        properties: Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> HostCreateResult:
        """``Create``: ``properties`` are the checked inputs (with ``__provider``)."""
        type_, name = _split_urn(urn)
        request = provider_pb2.CreateRequest(
            urn=urn,
            name=name,
            type=type_,
            properties=self._outgoing(properties),
            timeout=self._deadline(timeout),
        )
        response = self._call("Create", request, timeout)
        return HostCreateResult(id=response.id, outputs=_from_struct(response.properties))

    def read(
        self,
        id_: str,
        urn: str,
        properties: Mapping[str, Any],
        *,
        inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> HostReadResult:
        """``Read`` (refresh): ``properties`` are the prior outputs."""
        type_, name = _split_urn(urn)
        request = provider_pb2.ReadRequest(
            id=id_,
            urn=urn,
            name=name,
            type=type_,
            properties=self._outgoing(properties),
            inputs=self._outgoing(inputs or {}),
        )
        response = self._call("Read", request, timeout)
        returned_inputs = _from_struct(response.inputs) if response.HasField("inputs") else None
        return HostReadResult(
            id=response.id,
            outputs=_from_struct(response.properties),
            inputs=returned_inputs,
        )

    def update(
        self,
        id_: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """``Update``: returns the new outputs (including ``__provider``)."""
        type_, name = _split_urn(urn)
        request = provider_pb2.UpdateRequest(
            id=id_,
            urn=urn,
            name=name,
            type=type_,
            olds=self._outgoing(olds),
            news=self._outgoing(news),
            old_inputs=self._outgoing(old_inputs if old_inputs is not None else olds),
            timeout=self._deadline(timeout),
        )
        response = self._call("Update", request, timeout)
        return _from_struct(response.properties)

    def delete(
        self,
        id_: str,
        urn: str,
        properties: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        """``Delete``: ``properties`` are the prior outputs."""
        type_, name = _split_urn(urn)
        request = provider_pb2.DeleteRequest(
            id=id_,
            urn=urn,
            name=name,
            type=type_,
            properties=self._outgoing(properties),
            old_inputs=self._outgoing(old_inputs if old_inputs is not None else properties),
            timeout=self._deadline(timeout),
        )
        self._call("Delete", request, timeout)

    # -- internals

    def _environment(self) -> dict[str, str]:
        environment = dict(os.environ)
        python_path = [str(self.cwd)]
        if environment.get("PYTHONPATH"):
            python_path.append(environment["PYTHONPATH"])
        environment.update(
            {
                "PYTHONPATH": os.pathsep.join(python_path),
                "PYTHONUNBUFFERED": "1",
                # The host names its Settings after PULUMI_PROJECT; pulumi.Config inside a
                # provider reads PULUMI_CONFIG (the engine passes the full stack config).
                "PULUMI_PROJECT": self.project,
                "PULUMI_STACK": self.stack,
                "PULUMI_CONFIG": json.dumps(self.config),
                "PULUMI_CONFIG_SECRET_KEYS": json.dumps(sorted(self.secret_config_keys)),
            }
        )
        environment.update(self._extra_env)
        return environment

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + self.startup_timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            first_line, newline, _ = self.stdout.partition("\n")
            if newline:
                try:
                    return int(first_line.strip())
                except ValueError:
                    raise ProviderHostError(
                        "start",
                        f"expected a port, got {first_line!r}",
                        stderr=self.stderr,
                    ) from None
            if self._process.poll() is not None:
                raise ProviderHostError(
                    "start",
                    f"host exited with code {self._process.returncode} before printing a port",
                    stderr=self.stderr,
                )
            time.sleep(0.02)
        raise ProviderHostError("start", f"no port within {self.startup_timeout}s", stderr=self.stderr)

    def _configure(self) -> None:
        args = {
            key: ({SIG_KEY: SECRET_SIG, "value": value} if key in self.secret_config_keys else value)
            for key, value in self.config.items()
        }
        request = provider_pb2.ConfigureRequest(
            variables=self.config,
            args=_to_struct(args),
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
        )
        response = self._call("Configure", request, None)
        self.accepts_secrets = bool(response.acceptSecrets)

    def _outgoing(self, properties: Mapping[str, Any]) -> Any:
        """Serialize properties as the engine would for this host (secrets stripped if so)."""
        plain = properties if self.accepts_secrets else unwrap_secrets(dict(properties))
        return _to_struct(plain)

    def _deadline(self, timeout: float | None) -> float:
        return timeout if timeout is not None else self.timeout

    def _call(self, method: str, request: Any, timeout: float | None) -> Any:
        if self._stub is None:
            raise ProviderHostError(method, "provider host is not running")
        try:
            return getattr(self._stub, method)(request, timeout=self._deadline(timeout))
        except grpc.RpcError as error:
            raise ProviderHostError(method, str(error.details()), code=error.code(), stderr=self.stderr) from None

    def _log_path(self, stream: Literal["stdout", "stderr"]) -> Path:
        assert self._logs is not None
        return Path(self._logs.name) / f"{stream}.log"

    def _read(self, stream: Literal["stdout", "stderr"]) -> str:
        if self._logs is None:
            return self._closed_logs.get(stream, "")
        try:
            return self._log_path(stream).read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""
