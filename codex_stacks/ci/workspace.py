"""The Pulumi project as an Automation API workspace, and the CLI processes it runs.

Every ``pulumi`` process runs in a session of its own, so a Ctrl-C at a terminal reaches
codexctl alone and codexctl decides what the CLI gets: the CLI cancels gracefully on its first
SIGINT and terminates at once on the second (pulumi's pkg/backend/cancellation_scope.go).
:meth:`TrackedPulumiCommand.stop` is the one way a running update is ended: SIGINT, a wait,
a second SIGINT, a wait, then SIGKILL to its process group as a last resort — and it returns
only when the process is gone, so nothing else can start on the stack while it still runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pulumi.automation import LocalWorkspace, PulumiCommand, Stack
from pulumi.automation._cmd import CommandResult, OnOutput
from pulumi.automation.errors import StackNotFoundError, create_command_error

from codex_stacks.ci.errors import CiError, ExternalError
from codex_stacks.stackconfig import find_program_dir, load_program

MIN_PULUMI = (3, 211, 0)
"""The oldest CLI codexctl ci runs: stack tags on self-managed backends came in v3.211.0 (pulumi
PR #19882); ``up --continue-on-error`` (v3.114.0) and warn-and-continue on pending operations
(v3.29) are older. docs/operations.md says so too."""

Stopped = Literal["exited", "interrupted", "terminated", "killed"]


@dataclass(frozen=True, slots=True)
class Running:
    process: subprocess.Popen[str]
    args: tuple[str, ...]

    @property
    def subcommand(self) -> str:
        words = [arg for arg in self.args if not arg.startswith("-")]
        return words[0] if words else ""


class TrackedPulumiCommand(PulumiCommand):
    """The Pulumi CLI with its running processes known, each in a session of its own."""

    def __init__(self, *, root: str | None) -> None:
        super().__init__(root=root, skip_version_check=True)
        self._running: dict[int, Running] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: OnOutput | None = None,
        on_error: OnOutput | None = None,
    ) -> CommandResult:
        separator = args.index("--") if "--" in args else len(args)
        if "--non-interactive" not in args[:separator]:
            args.insert(0, "--non-interactive")
        env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true", "PULUMI_SKIP_UPDATE_CHECK": "true"}
        if os.path.isabs(self.command):
            env["PATH"] = os.pathsep.join([os.path.dirname(self.command), env.get("PATH", "")])
        stdout: list[str] = []
        stderr: list[str] = []

        def consume(stream: Any, callback: OnOutput | None, chunks: list[str]) -> None:
            for line in iter(stream.readline, ""):
                stripped = line.rstrip()
                if callback:
                    callback(stripped)
                chunks.append(stripped)
            stream.close()

        with subprocess.Popen(
            [self.command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        ) as process:
            with self._lock:
                self._running[process.pid] = Running(process=process, args=tuple(args))
            try:
                readers = [
                    threading.Thread(target=consume, args=(process.stdout, on_output, stdout), daemon=True),
                    threading.Thread(target=consume, args=(process.stderr, on_error, stderr), daemon=True),
                ]
                for reader in readers:
                    reader.start()
                code = process.wait()
                for reader in readers:
                    reader.join(5)
            finally:
                with self._idle:
                    self._running.pop(process.pid, None)
                    self._idle.notify_all()
        result = CommandResult(stdout="\n".join(stdout), stderr="\n".join(stderr), code=code)
        if code != 0:
            raise create_command_error(result)
        return result

    def running(self) -> list[Running]:
        with self._lock:
            return [item for item in self._running.values() if item.process.poll() is None]

    def send(self, signum: int) -> int:
        """Send ``signum`` to every running CLI process (not to its plugins); how many got it."""
        sent = 0
        for item in self.running():
            with contextlib.suppress(ProcessLookupError):
                item.process.send_signal(signum)
                sent += 1
        return sent

    def wait_idle(self, timeout: float | None) -> bool:
        """Wait until no CLI process runs (each one reaped); False when ``timeout`` ran out."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._running:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(0.2 if left is None else min(0.2, left))
        return True

    def stop(self, *, grace: float, progress: Callable[[str], None]) -> Stopped:
        """End every running CLI process and return once all are gone.

        SIGINT (a graceful cancel: no new steps, in-flight ones finish, the lock is released),
        up to ``grace`` seconds; a second SIGINT (terminate now: pending operations may stay),
        up to ``min(grace, 30)`` seconds; then SIGKILL to the process group (the CLI and its
        plugins). Never ``pulumi cancel``: on a self-managed backend that only deletes the lock
        files while the update goes on (pulumi's diy CancelCurrentUpdate).
        """
        if not self.running():
            return "exited"
        progress(f"interrupting pulumi (SIGINT); waiting up to {grace:.0f}s for it to cancel cleanly")
        self.send(signal.SIGINT)
        if self.wait_idle(grace):
            return "interrupted"
        second = min(grace, 30.0)
        progress(f"pulumi still runs after {grace:.0f}s: second SIGINT (terminate); waiting up to {second:.0f}s")
        self.send(signal.SIGINT)
        if self.wait_idle(second):
            return "terminated"
        progress("pulumi still runs: killing it (SIGKILL to its process group)")
        for item in self.running():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(item.process.pid, signal.SIGKILL)
        self.wait_idle(None)
        return "killed"


@contextlib.contextmanager
def forwarding_signals(command: TrackedPulumiCommand, on_signal: Callable[[int], None]) -> Iterator[None]:
    """While the block runs, SIGINT/SIGTERM to codexctl go to the running CLI processes (each
    signal once, so a second one terminates them as it would at a terminal) and ``on_signal`` is
    told, so nothing new starts. Python handles signals in the main thread only: elsewhere this
    does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: object) -> None:
        command.send(signum)
        on_signal(signum)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def find_pulumi_root() -> str | None:
    """The root (``<root>/bin/pulumi``) of the CLI on PATH; None means plain ``pulumi``."""
    found = shutil.which("pulumi")
    if found is None:
        raise ExternalError(
            "the pulumi CLI is not on PATH",
            hint="install it (https://www.pulumi.com/docs/install/) or use pulumi/actions in a workflow",
        )
    path = Path(found).resolve()
    return str(path.parent.parent) if path.parent.name == "bin" and path.name == "pulumi" else None


def program_dir_of(program_dir: Path | None) -> Path:
    """The program folder: --program-dir, else $CODEX_PROGRAM_DIR, else the nearest folder with a
    Pulumi.yaml from the current one upwards (docs/architecture.md)."""
    return find_program_dir(program_dir)


def project_name(program_dir: Path) -> str:
    """``name:`` of the program's Pulumi.yaml: stacks, URNs and slot claims are per project, so
    two repositories on one backend never share a stack (docs/architecture.md)."""
    return load_program(program_dir).name


def check_version(command: PulumiCommand) -> None:
    """Refuse a CLI older than MIN_PULUMI, with the version found and the one needed."""
    version = command.version
    wanted = ".".join(str(part) for part in MIN_PULUMI)
    if version is None:
        raise ExternalError(f"cannot tell the pulumi CLI's version; codexctl ci needs {wanted} or newer")
    if (version.major, version.minor, version.patch) < MIN_PULUMI:
        raise ExternalError(
            f"the pulumi CLI is {version}; codexctl ci needs {wanted} or newer (stack tags on self-managed backends)",
            hint="update it (pulumi/actions: pulumi-version), see docs/operations.md",
        )


def open_workspace(*, program_dir: Path | None = None) -> tuple[LocalWorkspace, TrackedPulumiCommand]:
    """A LocalWorkspace on the program folder's Pulumi project, with a CLI we can stop."""
    work_dir = program_dir_of(program_dir)
    if not (work_dir / "Pulumi.yaml").is_file():
        raise CiError(
            f"no Pulumi.yaml in {work_dir}",
            hint="run in your repository (`codexctl init` makes it a program folder) or pass --program-dir",
        )
    try:
        command = TrackedPulumiCommand(root=find_pulumi_root())
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ExternalError(
            f"the pulumi CLI does not run: {exc}", hint="check the installation (`pulumi version`)"
        ) from None
    check_version(command)
    return LocalWorkspace(work_dir=str(work_dir), pulumi_command=command), command


def is_self_managed(url: str | None = None) -> bool:
    """A diy backend (file, S3, GCS, Azure, PostgreSQL …), not Pulumi Cloud: locks are files there."""
    backend = os.environ.get("PULUMI_BACKEND_URL", "") if url is None else url
    return bool(backend) and not backend.startswith(("https://", "http://"))


def select_or_create(workspace: LocalWorkspace, name: str) -> Stack:
    """The stack, created when it does not exist yet (``pulumi up -s ai-staging`` works on a fresh stack)."""
    try:
        return Stack.select(name, workspace)
    except StackNotFoundError:
        return Stack.create(name, workspace)
