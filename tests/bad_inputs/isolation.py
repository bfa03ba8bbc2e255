"""Every bad-input run in its own process, under limits, without paying Python's start-up each time.

A *zygote* — one process started per test session that imports what ``codexctl`` imports and then
waits — forks a child for each run. The child sets its limits (address space, CPU, file size),
redirects stdout and stderr to files, runs ``codexctl …`` (the same click command the console
script runs) or the Pulumi program under the SDK's mocks, writes what it saw to a JSON file and
exits. The zygote reaps it with ``wait4`` (its peak RSS and CPU time), kills it at the wall-clock
deadline, and answers. So a regression that hangs or eats memory fails its own case, quickly,
instead of hanging the suite or swapping the machine, and a run costs a fork (milliseconds)
instead of a fresh interpreter (about 1.5 s of imports).

The zygote imports nothing of the test suite and starts no thread before it forks (a fork of a
threaded process can deadlock the child); each child is a fresh copy of that quiet process.

Run as a script, this file is the zygote: one JSON request per line on stdin
(``{"jobs": [...], "parallel": N, "wall": seconds}``), one JSON answer per line on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WALL_SECONDS = 2.0
"""A run must end within this (a FIFO read that blocks, a parse that never ends)."""
MAX_RSS_BYTES = 300 << 20
"""Peak resident memory a run may reach (``ru_maxrss``)."""
ADDRESS_SPACE_BYTES = 2 << 30
"""RLIMIT_AS of a run: the safety net that turns a memory regression into a failed case before
the kernel's OOM killer picks a victim. Threads reserve address space, so it is well above
MAX_RSS_BYTES."""
CPU_SECONDS = 10
"""RLIMIT_CPU: a second net, should the wall-clock kill not come."""
FILE_SIZE_BYTES = 256 << 20
"""RLIMIT_FSIZE: a run must not fill the disk either."""
_CLONE_NEWUSER = 0x10000000


@dataclass(frozen=True)
class Job:
    """One run: ``codexctl <argv>`` (kind ``cli``) or the program for ``stack`` (kind ``program``)."""

    kind: str
    workdir: Path
    argv: Sequence[str] = ()
    stack: str = ""
    config: Mapping[str, str] = field(default_factory=dict)
    """The program's config (kind ``program``), or extra ``codex:*`` config preview adds (``cli``)."""
    env: Mapping[str, str] = field(default_factory=dict)
    program_root: Path | None = None
    """The program folder (``Pulumi.yaml``, ``stacks/``) of the run: ``$CODEX_PROGRAM_DIR``."""
    unreadable: Sequence[Path] = ()
    """Files the run must not be able to read (mode 000; see :func:`_deny_reads`)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "workdir": str(self.workdir),
            "argv": list(self.argv),
            "stack": self.stack,
            "config": dict(self.config),
            "env": dict(self.env),
            "program_root": str(self.program_root) if self.program_root else None,
            "unreadable": [str(path) for path in self.unreadable],
        }


@dataclass(frozen=True)
class Outcome:
    """How a run ended, what it printed, and what it cost."""

    status: int | None
    """Exit status, or None when a signal ended it."""
    signal: int | None
    timed_out: bool
    elapsed: float
    cpu: float
    max_rss: int
    """Bytes."""
    stdout: str
    stderr: str
    meta: dict[str, Any]


class Zygote:
    """The client side: starts the zygote process and sends it batches of jobs."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-X", "utf8", str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        assert self._process.stdout is not None
        ready = self._process.stdout.readline()
        if ready.strip() != "ready":
            raise RuntimeError(f"the zygote did not start: {ready!r}")

    def run(self, jobs: Sequence[Job], *, parallel: int = 1, wall: float = WALL_SECONDS) -> list[Outcome]:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        request = {"jobs": [job.to_json() for job in jobs], "parallel": parallel, "wall": wall}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError("the zygote died")
        outcomes = []
        for job, result in zip(jobs, json.loads(answer), strict=True):
            files = _files(job.workdir)
            outcomes.append(
                Outcome(
                    status=result["status"],
                    signal=result["signal"],
                    timed_out=result["timed_out"],
                    elapsed=result["elapsed"],
                    cpu=result["cpu"],
                    max_rss=result["max_rss"],
                    stdout=_read(files["stdout"]),
                    stderr=_read(files["stderr"]),
                    meta=json.loads(_read(files["meta"]) or "{}"),
                )
            )
        return outcomes

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _files(workdir: Path) -> dict[str, Path]:
    return {name: workdir / f"run.{name}" for name in ("stdout", "stderr", "meta")}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


# --- the zygote ----------------------------------------------------------------------------


def _serve() -> None:
    """Import what codexctl imports, say ready, then fork one child per job."""
    import typer

    import codex_stacks.cli.preview
    import codex_stacks.cli.prompt
    import codex_stacks.cli.validate
    import codex_stacks.components.stack
    import codex_stacks.offline.targets
    import codex_stacks.prompts.render
    import codex_stacks.prompts.runner  # noqa: F401  (imported before the fork: each child inherits it)
    from codex_stacks import kubeschema
    from codex_stacks.cli.app import app

    # what every run would load again: the schemas' definitions (pure data, no thread)
    kubeschema._built_in(kubeschema.DEFAULT_KUBERNETES_VERSION)
    command = typer.main.get_command(app)
    import threading

    if threading.active_count() != 1:  # a fork would copy a lock some thread holds
        raise RuntimeError(f"the zygote started {threading.active_count() - 1} thread(s) before forking")
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        results = _run_batch(command, request["jobs"], parallel=request["parallel"], wall=request["wall"])
        out.write(json.dumps(results) + "\n")
        out.flush()


def _run_batch(command: Any, jobs: list[dict[str, Any]], *, parallel: int, wall: float) -> list[dict[str, Any]]:
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    pending = list(range(len(jobs)))
    running: dict[int, tuple[int, float]] = {}  # pid -> (job index, start)
    killed: set[int] = set()
    while pending or running:
        while pending and len(running) < max(1, parallel):
            index = pending.pop(0)
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                _child(command, jobs[index])  # never returns
            running[pid] = (index, time.monotonic())
        pid, status, usage = os.wait4(-1, os.WNOHANG)
        now = time.monotonic()
        if pid == 0:
            for child, (_, start) in running.items():
                if now - start > wall and child not in killed:
                    os.kill(child, signal.SIGKILL)
                    killed.add(child)
            time.sleep(0.001)
            continue
        if pid not in running:
            continue
        index, start = running.pop(pid)
        results[index] = {
            "status": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "timed_out": pid in killed,
            "elapsed": now - start,
            "cpu": usage.ru_utime + usage.ru_stime,
            "max_rss": usage.ru_maxrss * 1024,  # kilobytes on Linux
        }
        killed.discard(pid)
    return [result or {} for result in results]


def _child(command: Any, job: dict[str, Any]) -> None:
    """Run one job and exit; whatever happens, the process ends here."""
    code = 70
    meta: dict[str, Any] = {}
    files = _files(Path(job["workdir"]))
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_BYTES, FILE_SIZE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.chdir(job["workdir"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            target = os.open(files[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        os.environ.update(job["env"])
        if job["program_root"]:
            os.environ["CODEX_PROGRAM_DIR"] = job["program_root"]
        if job["unreadable"]:
            meta["unreadable_by"] = _deny_reads([Path(path) for path in job["unreadable"]])
        runs = _program_runs()
        code = _run_program(job, meta) if job["kind"] == "program" else _run_cli(command, job)
        meta["programs"] = len(runs)
        meta["registrations"] = sum(len(run.registrations) for run in runs)
    except BaseException:  # a traceback is what a real process would print: the test looks for it
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            files["meta"].write_text(json.dumps(meta), encoding="utf-8")
        finally:
            os._exit(code)


def _run_cli(command: Any, job: dict[str, Any]) -> int:
    if job["config"]:  # stack settings the CLI has no flag for: what the stack file would say
        import codex_stacks.cli.preview as preview

        real = preview.run_program
        extra = dict(job["config"])

        def with_config(stack: str, config: Mapping[str, str], **kwargs: Any) -> Any:
            return real(stack, {**config, **extra}, **kwargs)

        preview.run_program = with_config
    try:
        command.main(args=list(job["argv"]), prog_name="codexctl", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def _run_program(job: dict[str, Any], meta: dict[str, Any]) -> int:
    """The program under the SDK's mocks; what it raised, and the located error behind it."""
    import pulumi

    from codex_stacks.errors import CodexError, CombinedError
    from codex_stacks.offline import runner

    try:
        runner.run_program(job["stack"], dict(job["config"]))
    except pulumi.RunError as exc:
        meta["raised"] = "RunError"
        cause = exc.__cause__
        if isinstance(cause, CodexError):
            problems = cause.problems if isinstance(cause, CombinedError) else (cause,)
            meta["problems"] = [
                {
                    "type": type(problem).__name__,
                    "text": str(problem),
                    "file": str(problem.location.file) if problem.location.file else None,
                    "line": problem.location.line,
                    "path": problem.location.path,
                }
                for problem in problems
            ]
        return 2
    meta["raised"] = None
    return 0


def _program_runs() -> list[Any]:
    """The runs of the program in this process, to count what they registered (nothing, for bad input)."""
    from codex_stacks.offline import runner

    runs: list[Any] = []
    real = runner.RecordingMonitor

    class Keeping(real):  # type: ignore[misc,valid-type]
        def __init__(self, run: Any) -> None:
            super().__init__(run)
            runs.append(run)

    runner.RecordingMonitor = Keeping
    return runs


def _deny_reads(paths: list[Path]) -> str:
    """Make ``paths`` unreadable for this process: mode 000 is enough for anyone but root.

    Root reads anything, so as root the process moves into a new user namespace without an ID
    mapping: the kernel then refuses root's override for files whose owner is not mapped
    (``capable_wrt_inode_uidgid``), and open() fails with EACCES as it would for anyone else.
    Where user namespaces are not allowed, the EACCES is injected at the os.open boundary the
    reader uses — the one simulated case, and the result says so.
    """
    for path in paths:
        os.chmod(path, 0)
    if os.geteuid() != 0:
        return "mode 000"
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWUSER) == 0:
        return "mode 000 in a user namespace"
    import errno

    denied = {os.path.realpath(path) for path in paths}
    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.path.realpath(path) in denied:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    os.open = refusing_open
    return "EACCES injected at os.open (no user namespace here)"


if __name__ == "__main__":
    _serve()
