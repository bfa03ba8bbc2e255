"""The agent's workspace on a PersistentVolumeClaim, read through the Kubernetes API.

``ci deliver`` runs ``tar`` in the agent's container over the pods/exec API (the same client
and WebSocket path as ``prompt run``, codex_stacks/prompts/runner.py): the working tree without
``.git``, base64 on stdout, bounded in size, then ``.git/codex/pr.md`` the same way. The archive
is unpacked on the runner with tarfile's ``data`` filter (no links leaving the tree, no device
files, no absolute paths, no owners or modes kept) into a temporary folder that deliver then
reads like a hostPath workspace. Records of what was delivered live on the runner
(``.codex-ci/<stack>/sync.json``): without one, deliver's trailer rule applies.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from codex_stacks.ci.deliver import working_copy_head
from codex_stacks.ci.errors import ExternalError
from codex_stacks.ci.sources import SyncRecord

MAX_ARCHIVE = 512 * 1024 * 1024
"""The most base64 text read from the pod (about 384 MiB of archive)."""
TAR_SCRIPT = 'cd "$1" && tar -cf - --exclude=./.git . | base64'
PR_SCRIPT = 'f="$1/.git/codex/pr.md"; if [ -f "$f" ] && [ ! -L "$f" ]; then head -c 65536 "$f" | base64; fi'
HEAD_SCRIPT = (
    'g="$1/.git"; out() { if [ -f "$1" ] && [ ! -L "$1" ]; then head -c "$2" "$1" | base64 | tr -d "\\n"; fi; echo; }; '
    'out "$g/HEAD" 256; r=$(head -c 256 "$g/HEAD" 2>/dev/null | sed -n "s/^ref: //p"); '
    'case "$r" in refs/*) printf "%s" "$r" | base64 | tr -d "\\n"; echo; out "$g/$r" 128;; *) echo; echo;; esac; '
    'out "$g/packed-refs" 1048576'
)
"""Where the working copy's HEAD points, as four base64 lines — ``.git/HEAD``, the branch it
names, that branch's loose ref, ``packed-refs`` — read, never run: no git command runs in the
agent's repository (codex_stacks/ci/deliver.py, ``working_copy_head``)."""
EXEC_TIMEOUT = 600.0


class _Bounded(io.StringIO):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        if self.size > self.limit:
            raise ExternalError(f"the agent's workspace is larger than {self.limit // 1024**2} MiB as base64: refused")
        return super().write(text)


def _decode(text: str, *, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ExternalError(f"{what}: the pod did not answer base64 (is tar/base64 in the agent's image?)") from None


def unpack(archive: bytes, folder: Path) -> None:
    """Unpack a tar of the workspace into ``folder`` with tarfile's ``data`` filter."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ExternalError(f"the agent's workspace archive cannot be unpacked: {str(exc)[:200]}") from None


def _head_files(text: str) -> dict[str, bytes]:
    """The answer of :data:`HEAD_SCRIPT` as the files it read (paths inside the workspace)."""
    lines = [*text.split("\n"), "", "", "", ""][:4]
    try:
        head, ref, loose, packed = (base64.b64decode(line.strip(), validate=True) for line in lines)
    except (binascii.Error, ValueError):
        return {}
    files = {".git/HEAD": head, ".git/packed-refs": packed}
    name = ref.decode("utf-8", "replace")
    if name and loose:
        files[f".git/{name}"] = loose
    return {path: data for path, data in files.items() if data}


@dataclass
class PodTree:
    """Exec into the agent's newest ready pod; ``opened()`` yields the unpacked copy."""

    namespace: str
    deployment: str
    mount_path: str
    kube_context: str | None
    rollout: float = 300.0
    """A pod that restarted after the agent's run gets this long to be ready again; a Deployment
    that is not there is not waited for (the agent ran in it: it is gone, not coming)."""
    _git_files: dict[str, bytes] = field(default_factory=dict, repr=False)

    @classmethod
    def for_stack(cls, *, stack: str, settings: object) -> PodTree:
        from codex_stacks.ci.settings import StackSettings
        from codex_stacks.plan import build_plan

        assert isinstance(settings, StackSettings)
        plan = build_plan(settings.with_mode("normal").request)
        if plan.agent_deployment is None:
            raise ExternalError(f"stack {stack} has no codex agent Deployment to read the workspace from")
        return cls(
            namespace=plan.target.namespace,
            deployment=plan.agent_deployment,
            mount_path=plan.settings.codex.workspace.mount_path,
            kube_context=plan.target.environment.kube_context,
        )

    def _read(self) -> tuple[bytes, bytes, dict[str, bytes]]:
        """The archive, pr.md and the files naming HEAD's commit; every failure of the cluster or
        the pod is one line (exit 1)."""
        from codex_stacks.errors import CodexError

        try:
            return self._exec_reads()
        except ExternalError:
            raise
        except CodexError as exc:
            raise ExternalError(
                f"the agent's workspace cannot be read from its pod (deployment/{self.deployment} in namespace "
                f"{self.namespace}): {exc.message}"
            ) from None

    def _exec_reads(self) -> tuple[bytes, bytes, dict[str, bytes]]:
        from kubernetes.client import AppsV1Api, CoreV1Api
        from kubernetes.client.exceptions import ApiException

        from codex_stacks.kubeclient import api_client
        from codex_stacks.prompts.runner import READ_TIMEOUT, _api_error, _Exec, _ready_pod, wait_for_agent

        api = api_client(context=self.kube_context)
        try:
            try:
                AppsV1Api(api).read_namespaced_deployment(
                    self.deployment, self.namespace, _request_timeout=READ_TIMEOUT
                )
            except ApiException as exc:
                if exc.status == 404:
                    raise ExternalError(
                        f"deployment/{self.deployment} does not exist in namespace {self.namespace}: the agent's pod "
                        "and its workspace are gone (was the slot cleaned up?); nothing to deliver from"
                    ) from None
                raise _api_error(exc, doing=f"reading deployment/{self.deployment}") from None
            except Exception as exc:
                raise _api_error(
                    exc, doing=f"reading deployment/{self.deployment}", server=api.configuration.host
                ) from None
            agent = wait_for_agent(
                api, name=self.deployment, namespace=self.namespace, deploy_wait=0, rollout=self.rollout
            )
            core = CoreV1Api(api)
            pod = _ready_pod(core, agent, namespace=self.namespace)
            runner = _Exec(core, pod=pod, namespace=self.namespace, container=agent.container)
            parts: list[bytes] = []
            for script, what, limit in (
                (TAR_SCRIPT, "reading the workspace", MAX_ARCHIVE),
                (PR_SCRIPT, "reading .git/codex/pr.md", 128 * 1024),
            ):
                out = _Bounded(limit)
                try:
                    code, message = runner.run(
                        ("sh", "-c", script, "codexctl-deliver", self.mount_path),
                        out=out,
                        deadline=time.monotonic() + EXEC_TIMEOUT,
                        what=what,
                    )
                except TimeoutError:
                    raise ExternalError(f"{what} in pod {pod} took longer than {EXEC_TIMEOUT:.0f}s") from None
                if code != 0:
                    raise ExternalError(f"{what} in pod {pod} failed (exit {code}): {message[:200]}")
                parts.append(_decode(out.getvalue(), what=what))
            out = _Bounded(2 * 1024 * 1024)
            try:
                code, message = runner.run(
                    ("sh", "-c", HEAD_SCRIPT, "codexctl-deliver", self.mount_path),
                    out=out,
                    deadline=time.monotonic() + EXEC_TIMEOUT,
                    what="reading .git/HEAD",
                )
            except TimeoutError:
                raise ExternalError(f"reading .git/HEAD in pod {pod} took longer than {EXEC_TIMEOUT:.0f}s") from None
            return parts[0], parts[1], _head_files(out.getvalue() if code == 0 else "")
        finally:
            api.close()  # type: ignore[no-untyped-call]

    def head(self, agent: int) -> str | None:
        return working_copy_head(self._git_files.get)

    @contextlib.contextmanager
    def opened(self) -> Iterator[int]:
        archive, pr_md, self._git_files = self._read()
        with tempfile.TemporaryDirectory(prefix="codex-workspace-") as folder:
            root = Path(folder) / "tree"
            root.mkdir()
            unpack(archive, root)
            if pr_md:
                (root / ".git" / "codex").mkdir(parents=True, exist_ok=True)
                (root / ".git" / "codex" / "pr.md").write_bytes(pr_md)
            fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            try:
                yield fd
            finally:
                os.close(fd)


@dataclass(frozen=True, slots=True)
class LocalRecords:
    """What was last delivered from a pvc workspace, on the runner (``.codex-ci/<stack>/sync.json``)."""

    stack: str

    @property
    def path(self) -> Path:
        return Path(".codex-ci") / self.stack / "sync.json"

    def read_record(self) -> SyncRecord | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8")[:65536])
            return SyncRecord(**{key: str(data[key]) for key in ("branch", "commit", "tree", "at")})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write_record(self, record: SyncRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(asdict(record), indent=2), encoding="utf-8")
