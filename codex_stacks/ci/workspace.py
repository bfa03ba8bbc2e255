"""The Pulumi project as an Automation API workspace: the local program at the repository root."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi.automation import LocalWorkspace, PulumiCommand, Stack
from pulumi.automation._cmd import CommandResult, OnOutput
from pulumi.automation.errors import StackNotFoundError, create_command_error

from codex_stacks.ci.errors import CiError, ExternalError
from codex_stacks.stackconfig import find_program_dir

"""The folder of ``Pulumi.yaml`` (the program is local, not inline: dynamic providers need that)."""


class TrackedPulumiCommand(PulumiCommand):
    """The Pulumi CLI, with the running processes known so a deadline can interrupt them softly.

    The SDK's own ``run`` hides its process; a soft deadline needs it to send the CLI the same
    interrupt as Ctrl-C (the CLI then cancels gracefully and unlocks the stack) instead of a kill.
    """

    def __init__(self, *, root: str | None) -> None:
        super().__init__(root=root, skip_version_check=True)
        self._running: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()

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
        env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
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
            [self.command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env, encoding="utf-8"
        ) as process:
            with self._lock:
                self._running.add(process)
            try:
                readers = [
                    threading.Thread(target=consume, args=(process.stdout, on_output, stdout)),
                    threading.Thread(target=consume, args=(process.stderr, on_error, stderr)),
                ]
                for reader in readers:
                    reader.start()
                for reader in readers:
                    reader.join()
                code = process.wait()
            finally:
                with self._lock:
                    self._running.discard(process)
        result = CommandResult(stdout="\n".join(stdout), stderr="\n".join(stderr), code=code)
        if code != 0:
            raise create_command_error(result)
        return result

    def interrupt(self, *, subcommand: str) -> int:
        """Send SIGINT to running ``pulumi <subcommand>`` processes; how many got it."""
        with self._lock:
            targets = [p for p in self._running if subcommand in p.args and p.poll() is None]  # type: ignore[operator]
        for process in targets:
            process.send_signal(signal.SIGINT)
        return len(targets)


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


def open_workspace(*, program_dir: Path | None = None) -> tuple[LocalWorkspace, TrackedPulumiCommand]:
    """A LocalWorkspace on the repository's Pulumi project, with a CLI we can interrupt."""
    work_dir = find_program_dir(program_dir)
    if not (work_dir / "Pulumi.yaml").is_file():
        raise CiError(f"no Pulumi.yaml in {work_dir}", hint="run from the codex stacks checkout or pass --program-dir")
    try:
        command = TrackedPulumiCommand(root=find_pulumi_root())
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ExternalError(
            f"the pulumi CLI does not run: {exc}", hint="check the installation (`pulumi version`)"
        ) from None
    return LocalWorkspace(work_dir=str(work_dir), pulumi_command=command), command


def select_or_create(workspace: LocalWorkspace, name: str) -> Stack:
    """The stack, created when it does not exist yet (``pulumi up -s ai-slot-7`` works on a fresh stack)."""
    try:
        return Stack.select(name, workspace)
    except StackNotFoundError:
        return Stack.create(name, workspace)
