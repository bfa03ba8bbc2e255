"""A test double of the ``pulumi`` CLI, faithful where codexctl depends on it.

Tests put this file on PATH as ``pulumi`` (tests/ci/conftest.py). It answers the subcommands the
Automation API runs, in the shapes the SDK parses, and it models the CLI's unkind behaviour,
all of it on by default. The model is the CLI the SDK pin names, **3.272.0**; the Pulumi sources
were read at v3.268.0 (pulumi/pulumi commit 01c4ec37, the newest version-stamped commit that
could be read) and at a 2026 main commit (fdb4a02e) that matches it in every part used here.
Each behaviour names its source as ``file: function``. Where a text or an exit code was not
verified in the source, the comment says so.

Models, chosen by the environment, as the real CLI chooses them:

* ``PULUMI_BACKEND_URL`` picks the backend. ``file://DIR`` is the self-managed (diy) backend with
  its real layout in DIR; ``s3://``, ``gs://``, ``azblob://`` and ``postgres://`` are the same diy
  backend, kept under ``$PULUMI_DOUBLE_STATE/blob/``; ``https://…`` is the Pulumi Cloud model
  (atomic stack creation and server-side update locks, under ``$PULUMI_DOUBLE_STATE/cloud/``).
* ``PULUMI_DOUBLE_VERSION`` (default 3.272.0): what ``pulumi version`` prints, and the behaviour
  of that version: stack tags on diy need 3.211.0, typed exit codes need 3.226.1, ``up
  --continue-on-error`` needs 3.114.0.
* ``PULUMI_DOUBLE_LIST_LAG`` (seconds, default 0): a new object stays out of listings this long,
  as on an eventually consistent store (NFS, some S3-compatible stores).
* ``PULUMI_DOUBLE_DYNAMIC`` = ``run`` runs dynamic providers' ``create``/``delete`` for real (the
  contract tests' program does); by default they succeed without running, because the codex
  program's hooks need a cluster.
* ``PULUMI_DOUBLE_HOSTNAME``: the host name written into lock files (default: this host's).
* ``PULUMI_DOUBLE_DOWN`` (+ ``_MESSAGE``): the backend cannot be reached.

Faults the real CLI gets from the outside world (a resource that fails, a slow step, a network
error) come from ``$PULUMI_DOUBLE_STATE/script.json``: ``{"up": [step, …], "destroy": […],
"refresh": […]}``, one step per call, ``ok`` when empty. A step is ``"ok"``, ``"fail:a,b"``
(the first object of components a and b fails), ``"slow:S"`` (the first object's step takes S
seconds, and a graceful cancel waits for it, as the engine waits for in-flight steps), or an
object ``{"fail": [...], "message": "..."}``, ``{"slow": S}``, ``{"error": "text"}`` (the CLI
fails before the engine runs, e.g. the backend's network), ``{"hang": S}`` (a CLI stuck for S
seconds in a plugin call and deaf to SIGINT/SIGTERM: only SIGKILL ends it, leaving its lock).

Everything is recorded in ``$PULUMI_DOUBLE_STATE/calls.jsonl``: argv, the PULUMI_/CODEX_
environment, pid, start time, and which other double processes were still alive then
(``alive``: the evidence that two updates ran on one stack at once).
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import json
import os
import queue
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

STATE = Path(os.environ["PULUMI_DOUBLE_STATE"])
RUNNING = STATE / "running"
VERSION = os.environ.get("PULUMI_DOUBLE_VERSION", "3.272.0").lstrip("v")
LIST_LAG = float(os.environ.get("PULUMI_DOUBLE_LIST_LAG") or 0)
DYNAMIC = os.environ.get("PULUMI_DOUBLE_DYNAMIC", "skip")
STACK_TYPE = "pulumi:pulumi:Stack"
DIY_ORG = "organization"
SECRET = "[secret]"
UPDATE_CONFLICTS = (
    "To learn more about possible reasons and resolution, visit "
    "https://www.pulumi.com/docs/support/troubleshooting/common-issues/update-conflicts/"
)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-", 1)[0].split(".")[:3])


def at_least(text: str) -> bool:
    return version_tuple(VERSION) >= version_tuple(text)


# ---------------------------------------------------------------------------------------------
# Exit codes: sdk/go/common/util/cmdutil/exitcodes.go and clierrors.go ExitCodeFor, since v3.226.1
# (docs content/docs/iac/cli/exit-codes.md). Before, every error exited with os.Exit(-1) = 255
# (pkg/cmd/pulumi/main.go). Which code a lock conflict or an unknown --target gets was not verified;
# they are untyped errors here (1).
EXIT_CODES = {"generic": 1, "config": 2, "deployment": 4, "not-found": 6, "cancelled": 8}


class CliError(Exception):
    """An error the CLI prints to stderr as ``error: <message>`` before it exits."""

    def __init__(self, message: str, kind: str = "generic") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class Bail(Exception):  # noqa: N818 - the engine's name for "already reported, just fail"
    """The engine already printed why; the CLI exits non-zero without another message."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def exit_code(kind: str) -> int:
    return EXIT_CODES.get(kind, 1) if at_least("3.226.1") else 255


def die(message: str, kind: str = "generic") -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    sys.exit(exit_code(kind))


def load_site() -> None:
    """The double starts with ``python -S`` (fast); YAML, grpc and the SDK need site-packages."""
    if "site" not in sys.modules or not getattr(sys.modules["site"], "_codex_loaded", False):
        import site

        site.main()
        site._codex_loaded = True  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Bookkeeping of the double itself (not the CLI's): the calls, the processes alive, the script.


def proc_start(pid: int) -> str | None:
    """``/proc/<pid>/stat`` start time, or None when the process is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def register_process(argv: list[str], stack: str | None) -> list[dict[str, Any]]:
    """Note this process as running; return the other double processes that are alive now."""
    RUNNING.mkdir(parents=True, exist_ok=True)
    alive = []
    for path in RUNNING.glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            other = json.loads(path.read_text())
            if proc_start(other["pid"]) == other["start"]:
                alive.append(other)
    me = {"pid": os.getpid(), "start": proc_start(os.getpid()), "argv": argv, "stack": stack}
    (RUNNING / f"{os.getpid()}.json").write_text(json.dumps(me))
    return alive


def unregister_process() -> None:
    with contextlib.suppress(OSError):
        (RUNNING / f"{os.getpid()}.json").unlink()


def record(argv: list[str], stack: str | None, alive: list[dict[str, Any]]) -> None:
    env = {k: v for k, v in os.environ.items() if k.startswith(("PULUMI_", "CODEX_"))}
    line = json.dumps(
        {
            "argv": argv,
            "env": env,
            "pid": os.getpid(),
            "time": time.time(),
            "cwd": os.getcwd(),
            "stack": stack,
            "alive": [{"pid": a["pid"], "argv": a["argv"], "stack": a["stack"]} for a in alive],
        }
    )
    with (STATE / "calls.jsonl").open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line + "\n")


def next_step(kind: str) -> Any:
    """Pop the next scripted outside-world behaviour for ``kind`` (``ok`` when none is left)."""
    path = STATE / "script.json"
    with (STATE / "script.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        script = json.loads(path.read_text()) if path.exists() else {}
        steps = script.get(kind, [])
        step = steps.pop(0) if steps else "ok"
        script[kind] = steps
        path.write_text(json.dumps(script))
    if isinstance(step, str):
        name, _, rest = step.partition(":")
        if name == "fail":
            return {"fail": [item for item in rest.split(",") if item] or ["web-frontend"]}
        if name == "slow":
            return {"slow": float(rest or 5)}
        return {} if name == "ok" else {"unknown": step}
    return step


# ---------------------------------------------------------------------------------------------
# Arguments


VALUED = {
    "--stack",
    "-s",
    "--event-log",
    "--exec-kind",
    "--target",
    "--exclude",
    "--replace",
    "--color",
    "--page-size",
    "--page",
    "--client",
    "--message",
    "-m",
    "--parallel",
    "-p",
    "--config-file",
    "--secrets-provider",
    "--policy-pack",
    "--policy-pack-config",
    "--tracing",
    "--verbose",
    "--project",
    "--organization",
    "--tag",
    "--cwd",
    "-C",
}


class Args:
    """argv split into positional words and flags (``--flag value``, ``--flag=value``, ``--``)."""

    def __init__(self, argv: list[str]) -> None:
        self.words: list[str] = []
        self.flags: dict[str, list[str]] = {}
        rest = list(argv)
        while rest:
            arg = rest.pop(0)
            if arg == "--":
                self.words.extend(rest)
                break
            if arg.startswith("-") and arg != "-":
                name, eq, value = arg.partition("=")
                if eq:
                    self.flags.setdefault(name, []).append(value)
                elif name in VALUED and rest:
                    self.flags.setdefault(name, []).append(rest.pop(0))
                else:
                    self.flags.setdefault(name, []).append("true")
            else:
                self.words.append(arg)

    def get(self, *names: str) -> str | None:
        for name in names:
            if name in self.flags:
                return self.flags[name][-1]
        return None

    def all(self, name: str) -> list[str]:
        return self.flags.get(name, [])

    def has(self, name: str) -> bool:
        value = self.get(name)
        return value is not None and value != "false"


# ---------------------------------------------------------------------------------------------
# The project (Pulumi.yaml in the working directory, as the CLI finds it) and stack config files.


def load_yaml(path: Path) -> Any:
    load_site()
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


class Project:
    """``Pulumi.yaml`` of the working directory (sdk/go/common/workspace/project.go: LoadProject)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        path = folder / "Pulumi.yaml"
        if not path.is_file():
            raise CliError("no Pulumi.yaml project file found (searching upwards from " + str(folder) + ")")
        data = load_yaml(path) or {}
        self.name = str(data.get("name") or "")
        self.config_dir = folder / str(data.get("stackConfigDir") or ".")
        self.declared = data.get("config") or {}

    def stack_file(self, stack: str) -> Path:
        return self.config_dir / f"Pulumi.{stack}.yaml"

    def read_stack_file(self, stack: str) -> dict[str, Any]:
        path = self.stack_file(stack)
        data = load_yaml(path) if path.is_file() else None
        return data if isinstance(data, dict) else {}

    def write_stack_file(self, stack: str, data: dict[str, Any]) -> None:
        load_site()
        import yaml

        path = self.stack_file(stack)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def full_key(self, key: str) -> str:
        return key if ":" in key else f"{self.name}:{key}"

    def config(self, stack: str, *, config_file: str | None = None) -> dict[str, str]:
        """What the engine hands the program: declared defaults, then the stack file's ``config:``
        (pkg/cmd/pulumi/config: getStackConfiguration), or the file ``--config-file`` names
        instead of the stack file. Structured values travel as JSON text; secure values would be
        decrypted, the double passes none."""
        values: dict[str, str] = {}
        for key, declaration in (self.declared or {}).items():
            default = declaration.get("default") if isinstance(declaration, dict) else declaration
            if default is not None:
                values[self.full_key(str(key))] = default if isinstance(default, str) else json.dumps(default)
        stack_data = self.read_stack_file(stack) if config_file is None else load_yaml(Path(config_file))
        for key, value in ((stack_data or {}).get("config") or {}).items():
            if isinstance(value, dict) and "secure" in value:
                continue
            values[self.full_key(str(key))] = value if isinstance(value, str) else json.dumps(value)
        return values


def project_here() -> Project:
    return Project(Path.cwd())


# ---------------------------------------------------------------------------------------------
# Stack references: pkg/backend/diy/store.go projectReferenceStore.ParseReference (diy) and
# pkg/backend/httpstate/stack.go ParseStackReference (cloud).


class Ref:
    def __init__(self, org: str, project: str, name: str) -> None:
        self.org, self.project, self.name = org, project, name

    @property
    def fqn(self) -> str:
        return f"{self.org}/{self.project}/{self.name}"


def parse_ref(text: str | None, *, cloud: bool, project: Project | None) -> Ref:
    if not text:
        raise CliError("no stack name given, use --stack to specify a stack name", kind="config")
    parts = text.split("/")
    default_org = os.environ.get("PULUMI_DOUBLE_ORG", "acme") if cloud else DIY_ORG
    if len(parts) == 1:
        org, proj, name = default_org, None, parts[0]
    elif len(parts) == 2:
        org, proj, name = parts[0], None, parts[1]
    elif len(parts) == 3:
        org, proj, name = parts
    else:
        raise CliError(f"could not parse stack reference '{text}'")
    if not cloud and org != DIY_ORG:
        raise CliError("organization name must be 'organization'")
    if proj is None:
        if project is None:
            raise CliError(
                "if you're using the --stack flag, pass the fully qualified name (organization/project/stack)"
            )
        proj = project.name
    if not name or any(not (c.isalnum() or c in "-_.") for c in name):
        raise CliError(f"stack names may only contain alphanumeric, hyphens, underscores, or periods: {name}")
    return Ref(org, proj, name)


# ---------------------------------------------------------------------------------------------
# Blob store of the diy backend: gocloud.dev/blob over a folder. Writes overwrite in place
# (bucket.WriteAll, no conditional put anywhere in pkg/backend/diy); listings may lag.


class Blob:
    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url

    def path(self, key: str) -> Path:
        return self.root / key

    def write(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
        tmp.write_bytes(data)
        tmp.replace(path)

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            # gocloud's NotFound error as the diy backend returns it unwrapped (text not verified)
            raise CliError(
                f'blob (key "{key}") (code=NotFound): open {self.path(key)}: no such file or directory'
            ) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            raise CliError(f'blob (key "{key}") (code=NotFound): no such file') from None

    def list(self, prefix: str) -> list[str]:
        """Keys directly under ``prefix`` (delimiter ``/``), without the ones newer than the lag."""
        folder = self.path(prefix)
        if not folder.is_dir():
            return []
        now = time.time()
        keys = []
        for child in sorted(folder.iterdir()):
            if child.is_dir() or child.name.startswith("."):
                continue
            with contextlib.suppress(FileNotFoundError):
                if LIST_LAG and now - child.stat().st_mtime < LIST_LAG:
                    continue
                keys.append(f"{prefix.rstrip('/')}/{child.name}")
        return keys


def rfc3339(moment: datetime) -> str:
    """Go's time.RFC3339 layout: seconds, and ``Z`` for a zero offset."""
    text = moment.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def checkpoint_json(ref: Ref, latest: dict[str, Any] | None) -> bytes:
    """pkg/resource/stack/checkpoint.go: a versioned checkpoint, compact JSON (diyJSONMarshaler)."""
    checkpoint: dict[str, Any] = {"stack": ref.fqn}
    if latest is not None:
        checkpoint["latest"] = latest
    return json.dumps({"version": 3, "checkpoint": checkpoint}, separators=(",", ":")).encode()


class Backend(abc.ABC):
    """What both models share: checkpoints, history, outputs (each model stores them its own way)."""

    cloud = False

    @abc.abstractmethod
    def exists(self, ref: Ref) -> bool: ...

    @abc.abstractmethod
    def read_latest(self, ref: Ref) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def save_latest(self, ref: Ref, latest: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def add_history(self, ref: Ref, entry: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def history(self, ref: Ref) -> list[dict[str, Any]]: ...

    def require(self, ref: Ref) -> None:
        """backenderr.StackNotFoundError: ``no stack named '%s' found``."""
        if not self.exists(ref):
            raise CliError(f"no stack named '{ref.name}' found", kind="not-found")


class Diy(Backend):
    """pkg/backend/diy: project-mode layout (meta.yaml version 1), locks, tags since 3.211."""

    def __init__(self, blob: Blob) -> None:
        self.blob = blob
        self.lock_id = str(uuid.uuid4())  # newDIYBackend: one lock id per CLI process
        self.locked: list[Ref] = []
        self._ensure_meta()

    def _ensure_meta(self) -> None:
        """meta.go ensurePulumiMeta: a store without meta.yaml and without legacy stacks is project mode."""
        key = ".pulumi/meta.yaml"
        if not self.blob.exists(key):
            self.blob.write(key, b"version: 1\n")

    def stack_key(self, ref: Ref) -> str:
        return f".pulumi/stacks/{ref.project}/{ref.name}.json"

    def lock_dir(self, ref: Ref) -> str:
        """lock.go stackLockDir: .pulumi/locks/<fully qualified name>."""
        return f".pulumi/locks/{ref.fqn}"

    def lock_key(self, ref: Ref) -> str:
        return f"{self.lock_dir(ref)}/{self.lock_id}.json"

    def lock_url(self, key: str) -> str:
        """lock.go lockURLForError: the backend URL with the key's path; file:// URLs carry the
        ``no_tmp_dir`` query massageBlobPath adds (lock_test.go TestLockURLForError)."""
        parts = urlsplit(self.blob.url)
        if parts.scheme == "file":
            return f"file://{self.blob.root / key}?no_tmp_dir=true"
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/{key}"

    def exists(self, ref: Ref) -> bool:
        """backend.go stackExists: a HEAD (bucket.Exists) on the checkpoint, no listing."""
        return self.blob.exists(self.stack_key(ref))

    # lock.go: Lock = checkForLock, WriteAll(own lock), checkForLock again (Unlock on error).
    def check_for_lock(self, ref: Ref) -> None:
        own = self.lock_key(ref)
        others = [key for key in self.blob.list(self.lock_dir(ref)) if key != own]
        if not others:
            return
        lines = [
            f"the stack is currently locked by {len(others)} lock(s). Either wait for the other process(es) "
            "to end or delete the lock file with `pulumi cancel`."
        ]
        for key in others:
            content = json.loads(self.blob.read(key))  # a lock deleted meanwhile: the raw NotFound error
            stamp = rfc3339(datetime.fromisoformat(content["timestamp"]))
            lines.append(
                f"  {self.lock_url(key)}: created by {content['username']}@{content['hostname']} "
                f"(pid {content['pid']}) at {stamp}"
            )
        raise CliError("\n".join(lines))

    def lock(self, ref: Ref) -> None:
        self.check_for_lock(ref)
        content = {
            "pid": os.getpid(),
            "username": os.environ.get("USER", "runner"),
            "hostname": os.environ.get("PULUMI_DOUBLE_HOSTNAME") or socket.gethostname(),
            "timestamp": datetime.now().astimezone().isoformat(),  # RFC3339Nano, local time
        }
        self.blob.write(self.lock_key(ref), json.dumps(content, separators=(",", ":")).encode())
        try:
            self.check_for_lock(ref)
        except CliError:
            self.unlock(ref)
            raise
        self.locked.append(ref)

    def unlock(self, ref: Ref) -> None:
        """lock.go Unlock: a failed delete is only a diagnostic, never a failure."""
        if ref in self.locked:
            self.locked.remove(ref)
        try:
            self.blob.delete(self.lock_key(ref))
        except CliError as exc:
            sys.stdout.write(
                f"error: there was a problem deleting the lock at {self.lock_url(self.lock_key(ref))}, "
                f"manual clean up may be required: {exc.message}\n"
            )

    @contextlib.contextmanager
    def locked_stack(self, ref: Ref) -> Iterator[None]:
        self.lock(ref)
        try:
            yield
        finally:
            self.unlock(ref)

    def cancel(self, ref: Ref) -> None:
        """backend.go CancelCurrentUpdate: list the lock dir and delete EVERY lock file, a live
        process's too; no process is signalled, the running update goes on."""
        for key in self.blob.list(self.lock_dir(ref)):
            try:
                self.blob.delete(key)
            except CliError:
                return

    def create(self, ref: Ref, project: Project) -> None:
        """backend.go CreateStack: Lock, stackExists, saveStack; the check-then-write is guarded
        by the diy lock only. stack init then writes the passphrase salt into the stack file."""
        if not os.environ.get("PULUMI_CONFIG_PASSPHRASE") and not os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
            raise CliError(
                "passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE "
                "environment variables"
            )
        with self.locked_stack(ref):
            if self.exists(ref):
                raise CliError(f"stack '{ref.fqn}' already exists")
            self.blob.write(self.stack_key(ref), checkpoint_json(ref, None))
        data = project.read_stack_file(ref.name)
        if "encryptionsalt" not in data:
            project.write_stack_file(ref.name, {"encryptionsalt": f"v1:{uuid.uuid4().hex[:12]}:double", **data})

    def read_latest(self, ref: Ref) -> dict[str, Any] | None:
        data = json.loads(self.blob.read(self.stack_key(ref)))
        return data.get("checkpoint", {}).get("latest")

    def save_latest(self, ref: Ref, latest: dict[str, Any]) -> None:
        """state.go saveCheckpoint: backupTarget copies the old file to .bak, then WriteAll."""
        key = self.stack_key(ref)
        if self.blob.exists(key):
            self.blob.write(key + ".bak", self.blob.read(key))
        self.blob.write(key, checkpoint_json(ref, latest))

    def remove(self, ref: Ref) -> None:
        """state.go removeStack: checkpoint to .bak, then delete it, the tags file and the history."""
        key = self.stack_key(ref)
        self.blob.write(key + ".bak", self.blob.read(key))
        self.blob.delete(key)
        with contextlib.suppress(CliError):
            self.blob.delete(self.tags_key(ref))
        history = self.blob.path(f".pulumi/history/{ref.project}/{ref.name}")
        if history.is_dir():
            for child in history.iterdir():
                child.unlink()
            history.rmdir()

    def list_refs(self, project: str | None) -> list[Ref]:
        """store.go ListReferences: a listing of .pulumi/stacks/<project>/ (so it may lag)."""
        base = self.blob.path(".pulumi/stacks")
        projects = (
            [project] if project else sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        )
        refs = []
        for name in projects:
            for key in self.blob.list(f".pulumi/stacks/{name}"):
                file = key.rsplit("/", 1)[-1]
                if file.endswith(".json") and not file.endswith(".bak"):
                    refs.append(Ref(DIY_ORG, name, file[: -len(".json")]))
        return refs

    # stack_tags.go (since v3.211.0, PR #19882): <stack base>.pulumi-tags, {"version":1,"tags":{}},
    # written with a plain WriteAll and no lock (last writer wins). Before: "stack tags not
    # supported in diy mode" (backend.go UpdateStackTags) and Tags() returns nil.
    def tags_key(self, ref: Ref) -> str:
        return f".pulumi/stacks/{ref.project}/{ref.name}.pulumi-tags"

    def tags(self, ref: Ref) -> dict[str, str] | None:
        if not at_least("3.211.0"):
            return None
        key = self.tags_key(ref)
        if not self.blob.exists(key):
            return {}
        data = json.loads(self.blob.read(key))
        if data.get("version") != 1:
            raise CliError(f"unsupported stack tags version: {data.get('version')} (expected 1)")
        return dict(data.get("tags") or {})

    def save_tags(self, ref: Ref, tags: dict[str, str]) -> None:
        if not at_least("3.211.0"):
            raise CliError("stack tags not supported in diy mode")
        self.blob.write(self.tags_key(ref), json.dumps({"version": 1, "tags": tags}, indent=4).encode())

    def add_history(self, ref: Ref, entry: dict[str, Any]) -> None:
        """state.go addToHistory: history/<project>/<stack>/<stack>-<unixnano>.history.json."""
        stamp = time.time_ns()
        self.blob.write(
            f".pulumi/history/{ref.project}/{ref.name}/{ref.name}-{stamp}.history.json", json.dumps(entry).encode()
        )

    def history(self, ref: Ref) -> list[dict[str, Any]]:
        keys = self.blob.list(f".pulumi/history/{ref.project}/{ref.name}")
        return [json.loads(self.blob.read(key)) for key in sorted(keys, reverse=True)]

    @contextlib.contextmanager
    def update(self, ref: Ref) -> Iterator[None]:
        with self.locked_stack(ref):
            yield

    def cancelled(self, ref: Ref) -> bool:
        return False


class Cloud(Backend):
    """Pulumi Cloud (pkg/backend/httpstate): the service creates stacks atomically (CreateStack →
    HTTP 409 ``already exists``) and holds the update lock (StartUpdate → 409, wrapped as
    backenderr.ConflictingUpdateError). ``pulumi cancel`` cancels the update on the service, and
    the running CLI's lease renewals then fail (the running process's exact text was not verified)."""

    cloud = True

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, ref: Ref) -> Path:
        return self.root / ref.org / ref.project / ref.name

    def exists(self, ref: Ref) -> bool:
        return (self.folder(ref) / "checkpoint.json").is_file()

    def create(self, ref: Ref, project: Project) -> None:
        folder = self.folder(ref)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(folder / "checkpoint.json", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            raise CliError(f"stack '{ref.fqn}' already exists") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(checkpoint_json(ref, None))

    def read_latest(self, ref: Ref) -> dict[str, Any] | None:
        return json.loads((self.folder(ref) / "checkpoint.json").read_text()).get("checkpoint", {}).get("latest")

    def save_latest(self, ref: Ref, latest: dict[str, Any]) -> None:
        path = self.folder(ref) / "checkpoint.json"
        tmp = path.with_name(f".checkpoint.{os.getpid()}")
        tmp.write_bytes(checkpoint_json(ref, latest))
        tmp.replace(path)

    def remove(self, ref: Ref) -> None:
        folder = self.folder(ref)
        for child in sorted(folder.rglob("*"), reverse=True):
            child.rmdir() if child.is_dir() else child.unlink()
        folder.rmdir()

    def list_refs(self, project: str | None) -> list[Ref]:
        refs = []
        if not self.root.is_dir():
            return refs
        for org in sorted(self.root.iterdir()):
            for proj in sorted(org.iterdir()) if org.is_dir() else []:
                if project and proj.name != project:
                    continue
                refs += [
                    Ref(org.name, proj.name, s.name)
                    for s in sorted(proj.iterdir())
                    if (s / "checkpoint.json").is_file()
                ]
        return refs

    def tags(self, ref: Ref) -> dict[str, str] | None:
        path = self.folder(ref) / "tags.json"
        user = json.loads(path.read_text()) if path.is_file() else {}
        # the service adds system tags (pulumi:project, pulumi:runtime, …) to every stack
        return {"pulumi:project": ref.project, "pulumi:runtime": "python", **user}

    def save_tags(self, ref: Ref, tags: dict[str, str]) -> None:
        user = {k: v for k, v in tags.items() if not k.startswith("pulumi:")}
        (self.folder(ref) / "tags.json").write_text(json.dumps(user))

    def add_history(self, ref: Ref, entry: dict[str, Any]) -> None:
        folder = self.folder(ref) / "history"
        folder.mkdir(exist_ok=True)
        (folder / f"{time.time_ns()}.json").write_text(json.dumps(entry))

    def history(self, ref: Ref) -> list[dict[str, Any]]:
        folder = self.folder(ref) / "history"
        return (
            [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"), reverse=True)] if folder.is_dir() else []
        )

    @contextlib.contextmanager
    def update(self, ref: Ref) -> Iterator[None]:
        path = self.folder(ref) / "update.json"
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            raise CliError(f"[409] Conflict: Another update is currently in progress.\n{UPDATE_CONFLICTS}") from None
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps({"pid": os.getpid(), "id": uuid.uuid4().hex}))
        (self.folder(ref) / "cancelled").unlink(missing_ok=True)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)

    def cancelled(self, ref: Ref) -> bool:
        return (self.folder(ref) / "cancelled").exists()

    def cancel(self, ref: Ref) -> None:
        """httpstate CancelCurrentUpdate: no active update → 409 from the service (issue #5364)."""
        if not (self.folder(ref) / "update.json").exists():
            raise CliError("[409] Conflict: The Update has already completed")
        (self.folder(ref) / "cancelled").write_text("1")
        (self.folder(ref) / "update.json").unlink(missing_ok=True)


def open_backend() -> Backend:
    url = os.environ.get("PULUMI_BACKEND_URL", "")
    if os.environ.get("PULUMI_DOUBLE_DOWN"):
        raise CliError(
            (
                os.environ.get("PULUMI_DOUBLE_DOWN_MESSAGE") or "could not reach the backend: connection refused"
            ).removeprefix("error: ")
        )
    parts = urlsplit(url)
    if parts.scheme == "file":
        root = Path(os.path.expanduser(url[len("file://") :]))
        root.mkdir(parents=True, exist_ok=True)
        return Diy(Blob(root, url))
    if parts.scheme in ("s3", "gs", "azblob", "postgres"):
        root = STATE / "blob" / parts.scheme / parts.netloc / parts.path.strip("/")
        root.mkdir(parents=True, exist_ok=True)
        return Diy(Blob(root, url))
    if parts.scheme == "https" or not url:
        if not os.environ.get("PULUMI_ACCESS_TOKEN"):
            raise CliError("PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions")
        return Cloud(STATE / "cloud")
    raise CliError(f"unsupported backend URL: {url}")


# ---------------------------------------------------------------------------------------------
# Engine events (sdk/go/common/apitype/events.go), streamed to --event-log: a file (one JSON line
# per event, display.go startEventLogger) or tcp://host:port, the gRPC Events/StreamEvents client
# stream the SDK serves for CLIs newer than 3.205.0 (automation/_stack.py _setup_event_log).


class Events:
    def __init__(self, target: str | None) -> None:
        self.target = target
        self.sequence = 0
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False
        if target and target.startswith("tcp://"):
            load_site()
            # imported before the thread starts: the program imports pulumi on the main thread at
            # the same time, and two threads importing pulumi.runtime.proto can meet it half made
            import grpc
            from pulumi.runtime.proto import events_pb2, events_pb2_grpc

            self._modules = (grpc, events_pb2, events_pb2_grpc)
            self._thread = threading.Thread(target=self._stream, daemon=True)
            self._thread.start()

    def _stream(self) -> None:
        grpc, events_pb2, events_pb2_grpc = self._modules

        def requests() -> Iterator[Any]:
            while (item := self._queue.get()) is not None:
                yield events_pb2.EventRequest(event=item)

        assert self.target is not None
        with grpc.insecure_channel(self.target[len("tcp://") :]) as channel:
            events_pb2_grpc.EventsStub(channel).StreamEvents(requests())

    def emit(self, **payload: Any) -> None:
        if not self.target:
            return
        event = json.dumps({"sequence": self.sequence, "timestamp": int(time.time()), **payload})
        self.sequence += 1
        if self._thread is not None:
            self._queue.put(event)
        else:
            with open(self.target, "a", encoding="utf-8") as handle:
                handle.write(event + "\n")

    def close(self) -> None:
        """End the stream (once): the CLI closes its event sink on every way out of a command,
        a refused lock included, so the SDK's server sees the stream end, not break."""
        if self._thread is not None and not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join(10)


def diag(events: Events, message: str, *, severity: str, urn: str = "") -> None:
    """A diagnosticEvent; the progress display prints it on stdout too."""
    payload: dict[str, Any] = {"message": message, "color": "never", "severity": severity}
    if urn:
        payload["urn"] = urn
    events.emit(diagnosticEvent=payload)
    print(f"    {severity}: {message.rstrip()}", flush=True)


def state_meta(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": resource["type"],
        "urn": resource["urn"],
        "custom": resource.get("custom", False),
        "id": resource.get("id", ""),
        "parent": resource.get("parent", ""),
        "provider": resource.get("provider", ""),
        "inputs": resource.get("inputs", {}),
        "outputs": resource.get("outputs", {}),
    }


def step_meta(op: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
    """StepEventMetadata: op, urn, type, old, new, detailedDiff and provider are always there."""
    subject = new or old or {}
    return {
        "op": op,
        "urn": subject.get("urn", ""),
        "type": subject.get("type", ""),
        "old": state_meta(old) if old else None,
        "new": state_meta(new) if new else None,
        "detailedDiff": None,
        "provider": subject.get("provider", ""),
    }


# ---------------------------------------------------------------------------------------------
# Signals: pkg/backend/cancellation_scope.go cancellationScopeSource.NewScope. While the engine
# runs, the first SIGINT/SIGTERM cancels gracefully (no new steps, in-flight steps awaited,
# "update canceled", the lock released); the second terminates at once.


class Cancellation:
    def __init__(self, events: Events) -> None:
        self.events = events
        self.cancelled = False
        self.terminated = False
        self.on_terminate: list[Any] = []

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, _frame: Any) -> None:
        name = "^C" if signum == signal.SIGINT else "SIGTERM"
        if not self.cancelled:
            self.cancelled = True
            again = "press ^C again" if signum == signal.SIGINT else "send SIGTERM again"
            text = f"{name} received; cancelling. If you would like to terminate immediately, {again}.\n"
            text += "Note that terminating immediately may lead to orphaned resources and other inconsistencies.\n"
            self.events.emit(stdoutEvent={"message": text, "color": "never"})
            print(text, end="", flush=True)
            return
        self.terminated = True
        text = f"{name} received; terminating\n"
        self.events.emit(stdoutEvent={"message": text, "color": "never"})
        print(text, end="", flush=True)
        for action in self.on_terminate:
            with contextlib.suppress(Exception):
                action()
        self.events.close()
        unregister_process()
        os._exit(exit_code("cancelled"))


# ---------------------------------------------------------------------------------------------
# The program: run as the engine would run it, under the SDK's mocks (codex_stacks.offline),
# with the config the engine hands it. URNs are made with the project of Pulumi.yaml
# (resource.NewURN(stack, project, …)).


def run_program(project: Project, ref: Ref, config: dict[str, str], *, latest: dict[str, Any]) -> Any:
    load_site()
    from codex_stacks.offline import runner

    # The program's process inherits the CLI's environment (CODEX_REPAIR_TARGETED among it), and a
    # StackReference to its own stack reads the outputs of the last update's checkpoint
    # (stack_reference.go: the root Stack resource's outputs), {} for a stack never deployed.
    root = next((r for r in latest.get("resources") or [] if r["type"] == STACK_TYPE), None)
    run = runner.run_program(
        ref.name,
        config,
        program=project.folder / "__main__.py",
        targeted=os.environ.get("CODEX_REPAIR_TARGETED") == "1",
        previous_outputs=dict(root.get("outputs") or {}) if root else {},
        project=project.name,  # the engine starts the language host with --project <Pulumi.yaml name>
    )

    resources = []
    for reg in run.registrations:
        resources.append(
            {
                "urn": reg.urn,
                "type": reg.type,
                "custom": reg.custom,
                "parent": reg.parent,
                "provider": reg.provider.rsplit("::", 1)[0] if reg.provider else "",
                "dependencies": list(reg.dependencies),
                "propertyDependencies": {k: list(v) for k, v in reg.property_dependencies.items()},
                "inputs": plain(reg.inputs),
                "raw": reg.raw_inputs,
                "retainOnDelete": reg.retain_on_delete,
                "name": reg.name,
            }
        )
    return resources, dict(run.outputs)


def plain(value: Any, *, show_secrets: bool = True) -> Any:
    """Program values as JSON: secrets unwrapped (or masked), unknowns as the engine's sentinel."""
    name = type(value).__name__
    if name == "Secret":
        return plain(value.value, show_secrets=show_secrets) if show_secrets else SECRET
    if isinstance(value, dict):
        return {k: plain(v, show_secrets=show_secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, show_secrets=show_secrets) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def root_urn(ref: Ref, project: Project) -> str:
    return f"urn:pulumi:{ref.name}::{project.name}::{STACK_TYPE}::{project.name}-{ref.name}"


def component_of(resource: dict[str, Any]) -> str:
    return resource["urn"].rsplit("::", 1)[-1].split("/", 1)[0]


def run_dynamic(resource: dict[str, Any], action: str) -> None:
    """pulumi.dynamic's provider host: unpickle ``__provider`` and call it (PULUMI_DOUBLE_DYNAMIC=run)."""
    if DYNAMIC != "run" or not resource["type"].startswith("pulumi-python:dynamic"):
        return
    import base64

    import dill

    raw = plain(resource.get("raw") or resource.get("outputs") or resource.get("inputs") or {})
    serialized = raw["__provider"]
    if isinstance(serialized, dict):  # the SDK sends the pickled provider as a secret
        serialized = serialized.get("value")
    provider = dill.loads(base64.b64decode(serialized))  # pulumi/dynamic/__main__.py get_provider
    props = {k: v for k, v in raw.items() if k != "__provider"}
    if action == "create":
        provider.create(props)
    else:
        provider.delete(resource.get("id") or "", props)


def history_entry(
    kind: str, result: str, started: float, changes: dict[str, int], config: dict[str, str]
) -> dict[str, Any]:
    """stack_history.go updateInfoJSON; times as the SDK parses them (%Y-%m-%dT%H:%M:%S.%fZ)."""

    def stamp(moment: float) -> str:
        return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    return {
        "version": 0,
        "kind": kind,
        "startTime": stamp(started),
        "endTime": stamp(time.time()),
        "message": "",
        "environment": {"exec.kind": os.environ.get("PULUMI_DOUBLE_EXEC_KIND", "auto.local")},
        "config": {k: {"value": v, "secret": False} for k, v in config.items()},
        "result": result,
        "resourceChanges": changes,
    }


def matches(target: str, urn: str) -> bool:
    if "*" not in target:
        return target == urn
    import fnmatch

    return fnmatch.fnmatchcase(urn, target)


class Engine:
    """One update (up/destroy/refresh) of one stack, step by step, with a checkpoint after each
    step as the engine's snapshot manager writes it (pending operation first, then the result)."""

    def __init__(self, backend: Backend, ref: Ref, project: Project, args: Args, kind: str) -> None:
        self.backend, self.ref, self.project, self.args, self.kind = backend, ref, project, args, kind
        self.events = Events(args.get("--event-log"))
        self.cancel = Cancellation(self.events)
        self.latest = backend.read_latest(ref) or {}
        self.old = {r["urn"]: r for r in self.latest.get("resources", [])}
        self.pending: list[dict[str, Any]] = list(self.latest.get("pending_operations") or [])
        self.state: dict[str, dict[str, Any]] = dict(self.old)
        self.changes: dict[str, int] = {}
        self.failed: set[str] = set()
        self.skipped: set[str] = set()
        self.started = time.time()
        self.step_plan = next_step(kind) if kind in ("up", "destroy", "refresh") else {}
        self.slow_left = float(self.step_plan.get("slow", 0) or 0)
        self.failed_components: set[str] = set()

    def save(self) -> None:
        latest = {
            "manifest": {"time": datetime.now(UTC).isoformat(), "magic": "", "version": f"v{VERSION}"},
            "secrets_providers": {"type": "passphrase"},
            "resources": list(self.state.values()),
        }
        if self.pending:
            latest["pending_operations"] = self.pending
        self.backend.save_latest(self.ref, latest)

    def count(self, op: str) -> None:
        self.changes[op] = self.changes.get(op, 0) + 1

    def check_cloud_cancel(self) -> None:
        if self.backend.cancelled(self.ref):
            diag(self.events, "update canceled", severity="error")
            raise Bail("cancelled")

    def step(self, op: str, resource: dict[str, Any], old: dict[str, Any] | None) -> bool:
        """One step: pending op written, the work (maybe slow, maybe failing), the result written."""
        meta = step_meta(op, resource if op != "delete" else None, old)
        self.events.emit(resourcePreEvent={"metadata": meta})
        pending_type = {"create": "creating", "update": "updating", "delete": "deleting"}.get(op)
        entry = {"resource": state_meta(resource), "type": pending_type} if pending_type else None
        if entry:
            self.pending.append(entry)
            self.save()
        if resource.get("custom") and self.step_plan.get("hang"):
            # a CLI stuck in a plugin call (a fault, not the CLI's design): deaf to SIGINT and
            # SIGTERM, only SIGKILL ends it, and its lock stays behind
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(float(self.step_plan["hang"]))
        if resource.get("custom") and self.slow_left:
            seconds, self.slow_left = self.slow_left, 0.0
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(min(0.05, end - time.monotonic()))
                if self.backend.cloud and self.backend.cancelled(self.ref):
                    break
        failure = self.failure_of(resource) if op in ("create", "update", "delete") else None
        if failure is None and op in ("create", "delete"):
            try:
                run_dynamic(resource, op)
            except Exception as exc:  # a dynamic provider's error is the resource's failure
                failure = str(exc) or type(exc).__name__
        if entry:
            self.pending.remove(entry)
        if failure is not None:
            self.failed.add(resource["urn"])
            self.events.emit(resOpFailedEvent={"metadata": meta, "status": 0, "steps": 0})
            diag(self.events, failure, severity="error", urn=resource["urn"])
            self.save()
            return False
        if op == "delete":
            self.state.pop(resource["urn"], None)
        elif op != "same":
            stored = {k: v for k, v in resource.items() if k not in ("raw", "name")}
            stored.setdefault("id", f"{resource.get('name', '')}-id" if resource.get("custom") else "")
            stored["outputs"] = stored.get("outputs") or stored.get("inputs", {})
            self.state[resource["urn"]] = stored
        if op != "same":
            self.count(op)
            self.save()
        self.events.emit(resOutputsEvent={"metadata": meta})
        return True

    def failure_of(self, resource: dict[str, Any]) -> str | None:
        wanted = self.step_plan.get("fail") or []
        if not wanted or not resource.get("custom"):
            return None
        if resource["type"].startswith("pulumi:providers:"):
            # A provider whose Configure/CheckConfig fails (e.g. a kubeconfig that names no cluster)
            # fails its own step: the engine's diagnostic and resOpFailed carry the provider's URN
            # (pkg/resource/deploy/step_executor.go). Scripted as ``provider:<name>``.
            component = "provider:" + resource["urn"].rsplit("::", 1)[-1]
        else:
            component = component_of(resource)
        if component in wanted and component not in self.failed_components:
            self.failed_components.add(component)
            return self.step_plan.get("message") or f"{component} failed to become ready"
        return None

    def blocked(self, resource: dict[str, Any]) -> bool:
        """--continue-on-error (PR #16639): dependents of a failed resource are skipped —
        parent, provider and (property) dependencies."""
        bad = self.failed | self.skipped
        edges = [resource.get("parent", ""), resource.get("provider", ""), *resource.get("dependencies", [])]
        for deps in resource.get("propertyDependencies", {}).values():
            edges += deps
        return any(edge in bad for edge in edges if edge)

    def finish(self, result: str, config: dict[str, str]) -> None:
        self.save()
        self.backend.add_history(self.ref, history_entry(self.kind, result, self.started, self.changes, config))
        summary: dict[str, Any] = {
            "maybeCorrupt": False,
            "durationSeconds": int(time.time() - self.started),
            "resourceChanges": self.changes,
            "PolicyPacks": {},
        }
        self.events.emit(summaryEvent=summary)
        self.events.emit(cancelEvent={})
        self.events.close()


def require_yes(args: Args, command: str) -> None:
    """pkg/cmd/pulumi/operations: non-interactive up/destroy/refresh need --yes, --skip-preview or
    --preview-only (NoConfirmationInNonInteractiveError, exit 2 since 3.226.1)."""
    if not (args.has("--yes") or args.has("-y") or args.has("--skip-preview") or args.has("--preview-only")):
        raise CliError(
            "--yes or --skip-preview or --preview-only must be passed in to proceed when running in "
            f"non-interactive mode ({command})",
            kind="config",
        )


def operation(kind: str, args: Args) -> None:
    project = project_here()
    backend = open_backend()
    ref = parse_ref(args.get("--stack", "-s"), cloud=backend.cloud, project=project)
    backend.require(ref)
    require_yes(args, kind)
    engine = Engine(backend, ref, project, args, kind)
    try:
        update(engine, backend, ref, project, kind)
    finally:
        engine.events.close()


def update(engine: Engine, backend: Backend, ref: Ref, project: Project, kind: str) -> None:
    if "error" in engine.step_plan:
        raise CliError(str(engine.step_plan["error"]))
    config = project.config(ref.name)
    with backend.update(ref):
        engine.cancel.install()
        if isinstance(backend, Diy):
            engine.cancel.on_terminate.append(lambda: backend.unlock(ref))
        label = {"up": "Updating", "destroy": "Destroying", "refresh": "Refreshing"}[kind]
        print(f"{label} ({ref.name if backend.cloud is False else ref.fqn}):", flush=True)
        engine.events.emit(preludeEvent={"config": config})
        try:
            {"up": run_up, "destroy": run_destroy, "refresh": run_refresh}[kind](engine, config)
        except Bail as bail:
            engine.finish("failed", config)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            raise bail
        engine.finish("succeeded", config)


def preview(args: Args) -> None:
    """``pulumi preview``: a dry run (pkg/backend/diy/backend.go: diyBackend.Preview, ApplierOptions
    DryRun) that takes no update lock, writes no checkpoint and no history, and reports each step
    it would take as a resourcePreEvent, then the summary the Automation API waits for."""
    project = project_here()
    backend = open_backend()
    ref = parse_ref(args.get("--stack", "-s"), cloud=backend.cloud, project=project)
    backend.require(ref)
    engine = Engine(backend, ref, project, args, "preview")
    config = project.config(ref.name, config_file=args.get("--config-file"))
    print(f"Previewing update ({ref.name if backend.cloud is False else ref.fqn}):", flush=True)
    engine.events.emit(preludeEvent={"config": config})
    try:
        resources, _ = run_program(project, ref, config, latest=engine.latest)
    except Exception as exc:  # as run_up reports it
        load_site()
        import pulumi

        message = str(exc) if isinstance(exc, pulumi.RunError) else "Program failed:\n" + traceback.format_exc()
        diag(engine.events, message, severity="error", urn=root_urn(ref, project))
        engine.events.close()
        raise Bail("deployment") from None
    root = {"urn": root_urn(ref, project), "type": STACK_TYPE, "custom": False, "parent": "", "inputs": {}}
    steps: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = []
    for resource in [root, *resources]:
        old = engine.old.get(resource["urn"])
        same = old is not None and old.get("inputs") == resource.get("inputs")
        steps.append(("same" if same else ("update" if old else "create"), resource, old))
    registered = {resource["urn"] for resource in [root, *resources]}
    steps += [("delete", None, old) for urn, old in reversed(engine.old.items()) if urn not in registered]
    for op, new, old in steps:
        meta = step_meta(op, new, old)
        engine.events.emit(resourcePreEvent={"metadata": meta})
        engine.events.emit(resOutputsEvent={"metadata": meta})
        engine.count(op)
    summary = {"maybeCorrupt": False, "durationSeconds": 0, "resourceChanges": engine.changes, "PolicyPacks": {}}
    engine.events.emit(summaryEvent=summary)
    engine.events.emit(cancelEvent={})
    engine.events.close()


def canceled_check(engine: Engine) -> None:
    if engine.cancel.cancelled:
        diag(engine.events, f"{engine.kind} canceled" if engine.kind != "up" else "update canceled", severity="error")
        raise Bail("cancelled")
    if engine.backend.cloud:
        engine.check_cloud_cancel()


def run_up(engine: Engine, config: dict[str, str]) -> None:
    args, ref, project = engine.args, engine.ref, engine.project
    continue_on_error = args.has("--continue-on-error") or os.environ.get("PULUMI_CONTINUE_ON_ERROR") == "true"
    if continue_on_error and not at_least("3.114.0"):
        raise CliError("unknown flag: --continue-on-error", kind="config")
    if engine.pending and not args.has("--refresh"):
        # deployment_executor.go Execute → printPendingOperationsWarning (PR #9293): warn and go on;
        # the pending operations stay in the checkpoint.
        count = len(engine.pending)
        lines = [f"Attempting to deploy or update resources with {count} pending operations from previous deployment."]
        lines += [f"  * {op['resource']['urn']}, interrupted while {op['type']}" for op in engine.pending]
        lines.append(
            "These resources are in an unknown state because the Pulumi CLI was interrupted while waiting for "
            "changes to these resources to complete. You should confirm whether or not the operations listed "
            "completed successfully by checking the state of the appropriate provider. For example, if you are "
            "using AWS, you can confirm using the AWS Console.\n\nOnce you have confirmed the status of the "
            "interrupted operations, you can repair your stack using `pulumi refresh` which will refresh the "
            "state from the provider you are using and clear the pending operations if there are any.\n\nNote "
            "that `pulumi refresh` will need to be run interactively to clear pending CREATE operations."
        )
        diag(engine.events, "\n".join(lines), severity="warning")
    try:
        resources, outputs = run_program(project, ref, config, latest=engine.latest)
    except Exception as exc:
        load_site()
        import pulumi

        if isinstance(exc, pulumi.RunError):
            message = str(exc)  # pulumi-language-python-exec: RunError → log.error(message), exit 1
        else:
            message = "Program failed with an unhandled exception:\n" + traceback.format_exc()
        diag(engine.events, message, severity="error", urn=root_urn(ref, project))
        raise Bail("deployment") from None
    targets = args.all("--target")
    root = {"urn": root_urn(ref, project), "type": STACK_TYPE, "custom": False, "parent": "", "inputs": {}}
    registered = {r["urn"] for r in resources} | {root["urn"]}
    stopped = False
    for resource in [root, *resources]:
        canceled_check(engine)
        urn = resource["urn"]
        if targets and urn != root["urn"] and not any(matches(t, urn) for t in targets):
            continue  # untargeted: an existing resource stays as it is, a new one is not created
        if stopped or engine.blocked(resource):
            engine.skipped.add(urn)
            continue
        old = engine.old.get(urn)
        same = old is not None and old.get("inputs") == resource.get("inputs")
        ok = engine.step("same" if same else ("update" if old else "create"), resource, old)
        if not ok and not continue_on_error:
            stopped = True  # without --continue-on-error no new step starts after a failure
    if targets:
        # deployment_executor.go checkTargets: literal targets neither in the old state nor
        # registered are errors (diag codes 2010/2011), checked once the program is done.
        missing = [t for t in targets if "*" not in t and t not in registered and t not in engine.old]
        for target in missing:
            hint = "" if "$" in target else " Did you forget to escape $ in your shell?"
            diag(engine.events, f"Target '{target}' could not be found in the stack.{hint}", severity="error")
        if missing:
            raise Bail("generic") from CliError("one or more targets could not be found in the stack")
    else:
        for urn, old in reversed(list(engine.old.items())):
            if urn in registered or stopped:
                continue
            if old.get("retainOnDelete"):
                engine.state.pop(urn, None)
                engine.count("delete")
                engine.save()
            else:
                engine.step("delete", old, old)
    root_state = engine.state.get(root["urn"])
    if root_state is not None:
        root_state["outputs"] = plain(outputs)
        root_state["secretOutputs"] = sorted(k for k, v in outputs.items() if type(v).__name__ == "Secret")
    if engine.failed:
        raise Bail("deployment")


def run_destroy(engine: Engine, config: dict[str, str]) -> None:
    continue_on_error = engine.args.has("--continue-on-error")
    for urn, old in reversed(list(engine.old.items())):
        canceled_check(engine)
        if old.get("retainOnDelete"):
            engine.state.pop(urn, None)
            engine.count("delete")
            engine.save()
            continue
        if not engine.step("delete", old, old) and not continue_on_error:
            break
    if engine.failed:
        raise Bail("deployment")


def run_refresh(engine: Engine, config: dict[str, str]) -> None:
    """refresh drops pending operations (PR #8435) except pending CREATEs when non-interactive;
    --clear-pending-creates drops those first (refresh.go filterMapPendingCreates, under the lock)."""
    if engine.args.has("--clear-pending-creates") and engine.args.has("--skip-pending-creates"):
        raise CliError("cannot set both --skip-pending-creates and --clear-pending-creates", kind="config")
    keep_creates = not engine.args.has("--clear-pending-creates")
    engine.pending = [op for op in engine.pending if keep_creates and op["type"] == "creating"]
    for urn in list(engine.old):
        canceled_check(engine)
        engine.count("same")
        del urn
    engine.save()


# ---------------------------------------------------------------------------------------------
# Stack commands


def stack_init(args: Args) -> None:
    project = project_here()
    backend = open_backend()
    name = args.words[2] if len(args.words) > 2 else args.get("--stack", "-s")
    ref = parse_ref(name, cloud=backend.cloud, project=project)
    if ref.project != project.name:
        raise CliError(f'provided project name "{ref.project}" doesn\'t match Pulumi.yaml')
    backend.create(ref, project)  # type: ignore[attr-defined]
    print(f"Created stack '{ref.name}'")


def stack_select(args: Args) -> None:
    project = project_here()
    backend = open_backend()
    name = args.get("--stack", "-s") or (args.words[2] if len(args.words) > 2 else None)
    ref = parse_ref(name, cloud=backend.cloud, project=project)
    if not backend.exists(ref):
        if args.has("--create"):
            backend.create(ref, project)  # type: ignore[attr-defined]
            return
        raise CliError(f"no stack named '{ref.name}' found", kind="not-found")


def stack_ls(args: Args) -> None:
    """stack_ls.go: the current project's stacks (or --all / --project), JSON sorted by name."""
    backend = open_backend()
    filter_project: str | None
    if args.has("--all"):
        filter_project = None
    elif args.get("--project"):
        filter_project = args.get("--project")
    else:
        try:
            filter_project = project_here().name
        except CliError:
            raise CliError("no Pulumi.yaml found; please run this command in a project directory") from None
    here = None
    with contextlib.suppress(CliError):
        here = project_here().name
    rows = []
    for ref in backend.list_refs(filter_project):
        try:
            latest = backend.read_latest(ref)
        except (CliError, FileNotFoundError):
            continue  # the checkpoint vanished between the listing and the read: skipped
        name = ref.name if ref.project == here else f"{ref.org}/{ref.project}/{ref.name}"
        row: dict[str, Any] = {"name": name, "current": False}
        if latest is not None and latest.get("manifest", {}).get("time"):
            moment = datetime.fromisoformat(latest["manifest"]["time"])
            row["lastUpdate"] = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        if backend.cloud:
            row["updateInProgress"] = (backend.folder(ref) / "update.json").exists()  # type: ignore[attr-defined]
            row["url"] = f"https://app.pulumi.com/{ref.org}/{ref.project}/{ref.name}"
        if latest is not None:
            row["resourceCount"] = len(latest.get("resources") or [])
        rows.append(row)
    print(json.dumps(sorted(rows, key=lambda r: r["name"]), indent=4))


def stack_rm(args: Args) -> None:
    """stack_rm.go + backend.go RemoveStack (under the lock)."""
    project = project_here()
    backend = open_backend()
    if not (args.has("--yes") or args.has("-y")):
        raise CliError("non-interactive mode requires --yes flag", kind="config")
    name = args.words[2] if len(args.words) > 2 else args.get("--stack", "-s")
    ref = parse_ref(name, cloud=backend.cloud, project=project)
    backend.require(ref)

    def remove() -> None:
        latest = backend.read_latest(ref) or {}
        resources = latest.get("resources") or []
        has = len(resources) > 1 or (len(resources) == 1 and resources[0]["type"] != STACK_TYPE)
        if has and not args.has("--force"):
            raise CliError(
                f"'{ref.name}' still has resources; removal rejected. Possible actions:\n"
                f"- Make sure that '{ref.name}' is the stack that you want to destroy\n"
                "- Run `pulumi destroy` to delete the resources, then run `pulumi stack rm`\n"
                "- Run `pulumi stack rm --force` to override this error"
            )
        backend.remove(ref)  # type: ignore[attr-defined]

    if isinstance(backend, Diy):
        with backend.locked_stack(ref):
            remove()
    else:
        remove()
    if not args.has("--preserve-config") and ref.project == project.name:
        project.stack_file(ref.name).unlink(missing_ok=True)
    print(f"Stack '{ref.name}' has been removed!")


def stack_output(args: Args) -> None:
    """stack_output.go: the root Stack resource's outputs of the last update; ``{}`` when the stack
    was never deployed (diy getSnapshotStackOutputs with Latest == nil). Secrets masked."""
    project = project_here()
    backend = open_backend()
    ref = parse_ref(args.get("--stack", "-s"), cloud=backend.cloud, project=project)
    backend.require(ref)
    latest = backend.read_latest(ref) or {}
    root = next((r for r in latest.get("resources") or [] if r["type"] == STACK_TYPE), None)
    outputs = dict(root.get("outputs") or {}) if root else {}
    if not args.has("--show-secrets"):
        for key in (root or {}).get("secretOutputs", []):
            if key in outputs:
                outputs[key] = SECRET
    name = args.words[2] if len(args.words) > 2 else None
    if name is not None:
        if name not in outputs:
            raise CliError(f"current stack does not have output property '{name}'")
        print(json.dumps(outputs[name]))
        return
    print(json.dumps(outputs, indent=2))


def stack_history(args: Args) -> None:
    project = project_here()
    backend = open_backend()
    ref = parse_ref(args.get("--stack", "-s"), cloud=backend.cloud, project=project)
    backend.require(ref)
    entries = backend.history(ref)
    size = int(args.get("--page-size") or 0)
    if size:
        page = int(args.get("--page") or 1)
        entries = entries[(page - 1) * size : page * size]
    print(json.dumps(entries, indent=4))


def stack_tag(args: Args) -> None:
    """stack_tag.go: set/rm read Tags(), change the map, UpdateStackTags; get of a missing key fails."""
    project = project_here()
    backend = open_backend()
    ref = parse_ref(args.get("--stack", "-s"), cloud=backend.cloud, project=project)
    backend.require(ref)
    action = args.words[2] if len(args.words) > 2 else "ls"
    tags = backend.tags(ref)  # type: ignore[attr-defined]
    if action == "ls":
        print(json.dumps(tags, indent=4))
    elif action == "get":
        key = args.words[3]
        if not tags or key not in tags:
            raise CliError(f"stack tag '{key}' not found for stack '{ref.name}'")
        print(tags[key])
    elif action == "set":
        backend.save_tags(ref, {**(tags or {}), args.words[3]: args.words[4]})  # type: ignore[attr-defined]
    elif action == "rm":
        remaining = dict(tags or {})
        remaining.pop(args.words[3], None)
        backend.save_tags(ref, remaining)  # type: ignore[attr-defined]
    else:
        raise CliError(f'unknown command "{action}" for "pulumi stack tag"', kind="config")


def config_command(args: Args) -> None:
    """config set/rm change the local Pulumi.<stack>.yaml only (no backend call besides finding
    the stack); ``config --json`` prints the stack's config."""
    project = project_here()
    backend = open_backend()
    ref = parse_ref(args.get("--stack", "-s"), cloud=backend.cloud, project=project)
    backend.require(ref)
    action = args.words[1] if len(args.words) > 1 else ""
    data = project.read_stack_file(ref.name)
    config = dict(data.get("config") or {})
    if action == "set":
        key, value = args.words[2], args.words[3]
        if args.has("--secret"):
            raise CliError("the double keeps no secrets: set secret config in the test's stack file")
        config[project.full_key(key)] = value
    elif action == "rm":
        config.pop(project.full_key(args.words[2]), None)
    elif action == "":
        merged = project.config(ref.name)
        print(json.dumps({k: {"value": v, "secret": False, "objectValue": None} for k, v in merged.items()}))
        return
    else:
        raise CliError(f"the double does not model `pulumi config {action}`")
    data["config"] = config
    project.write_stack_file(ref.name, data)


def cancel_command(args: Args) -> None:
    """cancel.go: asks only when interactive; prints the canceled line with the short name."""
    project = project_here()
    backend = open_backend()
    ref = parse_ref(
        args.get("--stack", "-s") or (args.words[1] if len(args.words) > 1 else None),
        cloud=backend.cloud,
        project=project,
    )
    backend.require(ref)
    backend.cancel(ref)  # type: ignore[attr-defined]
    print(f"The currently running update for '{ref.name}' has been canceled!")


def main() -> None:
    argv = sys.argv[1:]
    args = Args([a for a in argv if a != "--non-interactive"])
    words = args.words
    stack = args.get("--stack", "-s")
    if words[:2] in (["stack", "init"], ["stack", "rm"]) and len(words) > 2:
        stack = words[2]
    alive = register_process(argv, stack)
    record(argv, stack, alive)
    # outside an engine operation the CLI has no signal handler: SIGINT ends it
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        if words[:1] == ["version"]:
            print(f"v{VERSION}")
        elif words[:2] == ["stack", "init"]:
            stack_init(args)
        elif words[:2] == ["stack", "select"]:
            stack_select(args)
        elif words[:2] == ["stack", "ls"]:
            stack_ls(args)
        elif words[:2] == ["stack", "rm"]:
            stack_rm(args)
        elif words[:2] == ["stack", "output"]:
            stack_output(args)
        elif words[:2] == ["stack", "history"]:
            stack_history(args)
        elif words[:2] == ["stack", "tag"]:
            stack_tag(args)
        elif words[:1] == ["config"]:
            config_command(args)
        elif words[:1] in (["up"], ["destroy"], ["refresh"]):
            operation(words[0], args)
        elif words[:1] == ["preview"]:
            preview(args)
        elif words[:1] == ["cancel"]:
            cancel_command(args)
        else:
            raise CliError(f"the pulumi double does not model `pulumi {' '.join(argv)}`", kind="config")
    except CliError as exc:
        die(exc.message, exc.kind)
    except Bail as bail:
        sys.stdout.flush()
        cause = bail.__cause__
        if isinstance(cause, CliError):
            die(cause.message, bail.kind)
        # the engine printed the reasons; the CLI's own last words (text not verified for every case)
        die("update failed" if bail.kind != "cancelled" else "update canceled", bail.kind)
    finally:
        unregister_process()


if __name__ == "__main__":
    main()
