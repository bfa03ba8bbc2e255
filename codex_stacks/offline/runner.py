"""Run a program folder's ``__main__.py`` under the SDK's mocks and record every registration.

The program is the one ``pulumi up`` runs: the ``__main__.py`` of the program folder (the folder
of ``Pulumi.yaml``, docs/architecture.md), with the project name of its ``Pulumi.yaml`` in every
URN, and the engine replaced by a recording monitor (docs/testing.md, layer 2).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import runpy
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from codex_stacks.errors import CodexError, ConfigError, Location
from codex_stacks.plan.store import TARGETED_ENV
from codex_stacks.stackconfig import load_program, program_folder

_LOOPS: list[asyncio.AbstractEventLoop] = []
_LOOPS_LOCK = threading.Lock()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """The event loop of this (monitor) thread, made once: resource references deserialize
    through one. The loops are closed at exit, before the interpreter tears their sockets down
    (else each would print "Exception ignored … Invalid file descriptor" on its way out)."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    with _LOOPS_LOCK:
        if loop not in _LOOPS:
            _LOOPS.append(loop)
    return loop


@atexit.register
def _close_loops() -> None:
    with _LOOPS_LOCK:
        loops, _LOOPS[:] = list(_LOOPS), []
    for loop in loops:
        if not loop.is_running() and not loop.is_closed():
            loop.close()


SECRET_SIG = rpc._special_secret_sig
SIG_KEY = rpc._special_sig_key


@dataclass(frozen=True)
class Secret:
    """A value the program marked secret; shown masked unless asked for."""

    value: Any


@dataclass(frozen=True)
class Registration:
    """One RegisterResource call as the engine would see it."""

    type: str
    name: str
    urn: str
    parent: str
    dependencies: tuple[str, ...]
    property_dependencies: Mapping[str, tuple[str, ...]]
    inputs: Mapping[str, Any]
    custom: bool
    provider: str
    retain_on_delete: bool
    raw_inputs: Mapping[str, Any]
    additional_secret_outputs: tuple[str, ...] = ()


@dataclass
class ProgramRun:
    """What one run registered, in order, and the stack's outputs."""

    stack: str
    registrations: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    project: str = ""
    """The Pulumi project (``name:`` of Pulumi.yaml): the second part of every URN."""

    def by_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def children(self, urn: str) -> list[Registration]:
        return [r for r in self.registrations if r.parent == urn]


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(_unwrap(value.get("value")))
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf numbers are floats; manifests mean ints
    return value


class _EchoMocks(mocks.Mocks):
    """Resources come back with no state: nothing reads them, and echoing inputs costs ~20%.
    A StackReference reads ``previous``: the outputs an earlier run of the stack left (the
    engine reads them from the backend's last checkpoint)."""

    def __init__(self, previous: Mapping[str, Any] | None = None) -> None:
        self.previous = dict(previous or {})

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            return args.name, {"name": args.name, "outputs": self.previous, "secretOutputNames": sorted(self.previous)}
        return f"{args.name}-id", {}

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, keeping what Mocks.new_resource does not see: parent, deps, options."""

    def __init__(self, run: ProgramRun, *, previous: Mapping[str, Any] | None = None) -> None:
        super().__init__(_EchoMocks(previous))
        self.run = run
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: the whole parent type chain, without the root stack
        (the SDK's mock keeps only the last parent type and prefixes the stack's)."""
        qualified = type_
        if parent and type_ != "pulumi:pulumi:Stack":
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                qualified = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([settings.get_stack(), settings.get_project(), qualified, name])

    def RegisterResource(self, request: Any) -> Any:
        """What the SDK's mock does, with the inputs deserialized once (it decodes them for
        ``new_resource``, then again for the record) and no state to encode back: the
        registration cost of the preview grows with the size of the manifests, this halves it."""
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _thread_loop()  # resource references deserialize through it
        raw = rpc.deserialize_properties(request.object, keep_unknowns=True)
        resource_id, state = self.mocks.new_resource(
            mocks.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=raw,
                provider=request.provider,
                resource_id=request.importId,
                custom=bool(request.custom),
            )
        )
        registration = Registration(
            type=request.type,
            name=request.name,
            urn=urn,
            parent=request.parent,
            dependencies=tuple(request.dependencies),
            property_dependencies={key: tuple(value.urns) for key, value in request.propertyDependencies.items()},
            inputs=_unwrap(raw),
            custom=bool(request.custom),
            provider=request.provider,
            retain_on_delete=bool(request.retainOnDelete),
            raw_inputs=raw,
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
        )
        with self._lock:
            self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, resource_id or "", state)
            self.run.registrations.append(registration)
        if not state:  # the SDK reads a missing object as an empty one
            return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id or "")
        state_struct = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id or "", object=state_struct)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[-2:-1] == ["pulumi:pulumi:Stack"]:
            outputs = _unwrap(rpc.deserialize_properties(request.outputs, keep_unknowns=True))
            with self._lock:
                self.run.outputs.update(outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def run_program(
    stack: str,
    config: Mapping[str, str],
    *,
    program_dir: Path | None = None,
    program: Path | None = None,
    targeted: bool = True,
    previous_outputs: Mapping[str, Any] | None = None,
    project: str | None = None,
) -> ProgramRun:
    """Run the program of ``program_dir`` (default: the one codexctl finds, see
    :func:`codex_stacks.stackconfig.find_program_dir`) for ``stack`` with ``codex:*`` config,
    offline; exceptions propagate. ``program`` runs another ``__main__.py`` of that folder;
    ``project`` names the project in URNs instead of ``Pulumi.yaml`` (a recording made under
    another name).

    An offline repair run counts as one with the repair set's ``--target`` list (``targeted``);
    without it, the program registers the repair store of ``previous_outputs`` again, as a
    ``pulumi up -c codex:mode=repair`` with no targets does (docs/repair.md)."""
    try:  # what the engine does before the program runs; its failure fails the run, as the program's would
        folder = load_program(program.parent.resolve()) if program is not None and program_dir is None else None
        folder = folder or program_folder(program_dir)
        entry = program or folder.main
        if not entry.is_file():
            raise ConfigError(
                f"no program: {entry} does not exist",
                location=Location(file=folder.project_file),
                hint="`codexctl init` writes the five-line __main__.py that calls codex_stacks.program.run",
            )
    except CodexError as error:
        raise pulumi.RunError(str(error)) from error
    name = project or folder.name
    run = ProgramRun(stack=stack, project=name)
    _thread_loop()  # the SDK runs the program on this thread's loop: closed at exit too
    monitor = (
        RecordingMonitor(run, previous=previous_outputs) if previous_outputs is not None else RecordingMonitor(run)
    )
    saved = os.environ.get(TARGETED_ENV)
    if targeted:
        os.environ[TARGETED_ENV] = "1"
    else:
        os.environ.pop(TARGETED_ENV, None)
    settings.reset_options(project=name, stack=stack, root_directory=str(folder.root), preview=True)
    pulumi.runtime.set_all_config(dict(config))
    mocks.set_mocks(monitor.mocks, project=name, stack=stack, preview=True, monitor=monitor)
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    try:

        def main() -> None:
            runpy.run_path(str(entry), run_name="__main__")

        _sync_await(run_pulumi_func(main))
        root = settings.get_root_resource()
        exported = getattr(root, "outputs", {}) or {}
        for key, value in exported.items():
            output = pulumi.Output.from_input(value)
            resolved = _unwrap(_sync_await(output.future(with_unknowns=True)))
            run.outputs[key] = Secret(resolved) if _sync_await(output.is_secret()) else resolved
    finally:
        settings.reset_options()
        pulumi.runtime.set_all_config({})
        if saved is None:
            os.environ.pop(TARGETED_ENV, None)
        else:
            os.environ[TARGETED_ENV] = saved
    return run
