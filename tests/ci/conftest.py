"""Fixtures: the ``pulumi`` test double on PATH, a program folder of its own, the Kubernetes double.

The double keeps the self-managed (diy) backend's real layout in the folder ``PULUMI_BACKEND_URL``
names, so the helpers here read and plant files where the real CLI keeps them
(``.pulumi/stacks/<project>/<stack>.json``, ``.pulumi/locks/organization/<project>/<stack>/``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from codex_stacks.plan.cluster import SYSTEM_NAMESPACE
from tests.support.kube_double import ADMIN_TOKEN, SYSTEM_NAMESPACES, KubeDouble

DOUBLE_SOURCE = Path(__file__).with_name("pulumi_double.py")
REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = REPO_ROOT / "examples" / "project-example"
REPOSITORY = "acme/shop"
"""The GitHub repository the tests run for ($GITHUB_REPOSITORY)."""


def install_double(root: Path) -> Path:
    """The double as an executable ``<root>/bin/pulumi``: ``python -S`` importing the module, so
    its bytecode is compiled once for the whole run, not on every call (it starts fast)."""
    (root / "bin").mkdir(parents=True, exist_ok=True)
    executable = root / "bin" / "pulumi"
    folder = str(DOUBLE_SOURCE.parent)
    starter = f"import sys; sys.path.insert(0, {folder!r}); import pulumi_double; pulumi_double.main()"
    executable.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S -c "{starter}" "$@"\n')
    executable.chmod(executable.stat().st_mode | stat.S_IEXEC)
    return executable


def make_program(folder: Path, *, name: str = "codex") -> Path:
    """A program folder like a team repository's: Pulumi.yaml (with its project name),
    __main__.py and stacks/, copied from this repository (the double writes stack files there)."""
    folder.mkdir(parents=True, exist_ok=True)
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    project["name"] = name
    # a project-wide codex:projectDir is relative to the program folder: name the example absolutely
    project["config"] = {"codex:projectDir": str(REPO_ROOT / "examples" / "project-example")}
    (folder / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    shutil.copy(REPO_ROOT / "__main__.py", folder / "__main__.py")
    shutil.copytree(REPO_ROOT / "stacks", folder / "stacks", dirs_exist_ok=True)
    return folder


@dataclass
class PulumiDouble:
    """Handle on the double: its script, the calls it recorded, the backend it keeps."""

    root: Path
    state: Path
    backend: Path
    program: Path

    @property
    def project(self) -> str:
        return str(yaml.safe_load((self.program / "Pulumi.yaml").read_text())["name"])

    def script(self, **steps: list[Any]) -> None:
        (self.state / "script.json").write_text(json.dumps(steps))

    def records(self) -> list[dict[str, Any]]:
        path = self.state / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def calls(self) -> list[list[str]]:
        """Every recorded argv, without the ``--non-interactive`` the SDK adds."""
        return [[a for a in c["argv"] if a != "--non-interactive"] for c in self.records()]

    def commands(self) -> list[str]:
        """Calls shortened to their subcommand words (``up``, ``stack tag set``, …), version checks dropped."""
        out = []
        for argv in self.calls():
            words = []
            for arg in argv:
                if arg.startswith("-"):
                    break
                words.append(arg)
            if words[:2] == ["stack", "tag"]:
                name = " ".join(words[:3])
            elif words[:1] in (["stack"], ["config"]):
                name = " ".join(words[:2])
            else:
                name = " ".join(words[:1])
            if name != "version":
                out.append(name)
        return out

    def overlaps(self) -> list[tuple[list[str], list[str]]]:
        """(call, other) pairs where a call started while another double process for the same
        stack was still alive and one of them was an update (up, refresh, destroy, cancel)."""
        updates = {"up", "refresh", "destroy", "cancel"}
        found = []
        for record in self.records():
            argv = [a for a in record["argv"] if a != "--non-interactive"]
            for other in record["alive"]:
                if other["stack"] != record["stack"] or record["stack"] is None:
                    continue
                other_argv = [a for a in other["argv"] if a != "--non-interactive"]
                if argv[:1] and (argv[0] in updates or (other_argv[:1] and other_argv[0] in updates)):
                    found.append((argv, other_argv))
        return found

    # the diy layout (pkg/backend/diy: store.go, lock.go, stack_tags.go)
    def stacks_dir(self, project: str | None = None) -> Path:
        return self.backend / ".pulumi" / "stacks" / (project or self.project)

    def stacks(self, project: str | None = None) -> list[str]:
        folder = self.stacks_dir(project)
        if not folder.is_dir():
            return []
        return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))

    def checkpoint(self, stack: str, project: str | None = None) -> dict[str, Any]:
        return dict(json.loads((self.stacks_dir(project) / f"{stack}.json").read_text())["checkpoint"])

    def resources(self, stack: str) -> list[dict[str, Any]]:
        return list(self.checkpoint(stack).get("latest", {}).get("resources", []))

    def tags(self, stack: str, project: str | None = None) -> dict[str, str]:
        path = self.stacks_dir(project) / f"{stack}.pulumi-tags"
        return dict(json.loads(path.read_text())["tags"]) if path.exists() else {}

    def cloud_tags(self, stack: str) -> dict[str, str]:
        """User tags of a stack of the cloud model (organization ``acme``)."""
        path = self.state / "cloud" / "acme" / self.project / stack / "tags.json"
        return dict(json.loads(path.read_text())) if path.exists() else {}

    def config(self, stack: str) -> dict[str, Any]:
        """``config:`` of the stack file in the program folder (where ``pulumi config set`` writes)."""
        path = self.program / "stacks" / f"Pulumi.{stack}.yaml"
        data = yaml.safe_load(path.read_text()) if path.exists() else None
        return dict((data or {}).get("config") or {})

    def lock_dir(self, stack: str, project: str | None = None) -> Path:
        return self.backend / ".pulumi" / "locks" / "organization" / (project or self.project) / stack

    def locks(self, stack: str) -> list[Path]:
        folder = self.lock_dir(stack)
        return sorted(folder.glob("*.json")) if folder.is_dir() else []

    def wait_in_step(self, stack: str, timeout: float = 90.0) -> None:
        """Wait until an update of ``stack`` is inside a resource step (a pending operation is in
        its checkpoint). The lock appears earlier, before the CLI's cancellation scope exists
        (pkg/backend/diy: Update locks, then apply installs the signal handler); a signal sent in
        that window ends the CLI at once, so tests of a graceful cancel wait for this instead."""
        end = time.monotonic() + timeout
        while True:
            try:
                pending = self.checkpoint(stack).get("latest", {}).get("pending_operations")
            except (OSError, ValueError):  # not written yet, or being written
                pending = None
            if pending:
                return
            assert time.monotonic() < end, f"no update of {stack} reached a resource step"
            time.sleep(0.05)

    def plant_lock(self, stack: str, *, pid: int, host: str | None = None, age: float = 0.0) -> Path:
        """A lock file as a CLI process writes it (lock.go newLockContent): pid, user, host, time."""
        folder = self.lock_dir(stack)
        folder.mkdir(parents=True, exist_ok=True)
        moment = datetime.now(UTC).astimezone() - timedelta(seconds=age)
        path = folder / f"{uuid.uuid4()}.json"
        content = {"pid": pid, "username": "runner", "hostname": host or socket.gethostname()}
        path.write_text(json.dumps({**content, "timestamp": moment.isoformat()}))
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
        return path

    def make_stack(
        self,
        name: str,
        *,
        tags: dict[str, str] | None = None,
        resources: int = 0,
        outputs: dict[str, Any] | None = None,
        project: str | None = None,
    ) -> None:
        """A stack as the diy backend stores it; ``resources`` > 0 makes it a deployed one whose
        root Stack resource carries ``outputs``."""
        proj = project or self.project
        folder = self.stacks_dir(proj)
        folder.mkdir(parents=True, exist_ok=True)
        (self.backend / ".pulumi" / "meta.yaml").write_text("version: 1\n")
        checkpoint: dict[str, Any] = {"stack": f"organization/{proj}/{name}"}
        if resources:
            root = f"urn:pulumi:{name}::{proj}::pulumi:pulumi:Stack::{proj}-{name}"
            items: list[dict[str, Any]] = [
                {"urn": root, "type": "pulumi:pulumi:Stack", "custom": False, "outputs": outputs or {}}
            ]
            items += [
                {
                    "urn": f"urn:pulumi:{name}::{proj}::kubernetes:core/v1:ConfigMap::item-{n}",
                    "type": "kubernetes:core/v1:ConfigMap",
                    "custom": True,
                    "parent": root,
                    "inputs": {},
                    "outputs": {},
                }
                for n in range(resources - 1)
            ]
            checkpoint["latest"] = {"manifest": {"time": datetime.now(UTC).isoformat()}, "resources": items}
        (folder / f"{name}.json").write_text(json.dumps({"version": 3, "checkpoint": checkpoint}))
        if tags is not None:
            (folder / f"{name}.pulumi-tags").write_text(json.dumps({"version": 1, "tags": tags}))


@pytest.fixture
def pulumi_double(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PulumiDouble]:
    """The double on PATH as ``pulumi``, a file backend, and a program folder of its own
    ($CODEX_PROGRAM_DIR) so stack files are written there, never into this repository."""
    root = tmp_path / "pulumi"
    install_double(root)
    state = tmp_path / "pulumi-state"
    state.mkdir()
    backend = tmp_path / "backend"
    program = make_program(tmp_path / "program")
    monkeypatch.setenv("PATH", f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PULUMI_DOUBLE_STATE", str(state))
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{backend}")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    monkeypatch.setenv("CODEX_PROGRAM_DIR", str(program))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "CODEX_PROJECT_DIR", "PULUMI_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    before = sorted(p.name for p in (REPO_ROOT / "stacks").iterdir())
    yield PulumiDouble(root=root, state=state, backend=backend, program=program)
    assert sorted(p.name for p in (REPO_ROOT / "stacks").iterdir()) == before, "a test wrote into stacks/"


@pytest.fixture
def github_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    output = tmp_path / "github_output"
    summary = tmp_path / "step_summary"
    output.touch()
    summary.touch()
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    return output, summary


def read_outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


CI_TOKEN = "kube-t0ken"
"""The runner's kubeconfig token in the Kubernetes API double: user ``ci-runner``."""

CLEANUP_RULES = [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "delete"]}]
"""What ``ci cleanup``/``ci gc`` need of the cluster outside ``codex-system`` (a ClusterRole)."""

CLAIM_RULES = [
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "create", "delete"]}
]
"""What slot claims need, in ``codex-system`` only (a Role there, as the cluster stack's
``codex-slot-claims-<project>`` gives the runners of ``security.runners``, docs/security.md)."""


@pytest.fixture
def kube_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeDouble]:
    """The Kubernetes API double (tests/support/kube_double.py), with $KUBECONFIG pointing at it as
    user ``ci-runner``, bound to CLEANUP_RULES cluster-wide and CLAIM_RULES in the system namespace
    (which exists, as the cluster stack makes it). A deleted namespace is Terminating until the next
    request (``namespace_finalize_ticks``, raised by tests that watch the wait)."""
    with KubeDouble(namespace_finalize_ticks=1, namespaces=(SYSTEM_NAMESPACE,)) as api:
        api.add_user(CI_TOKEN, "ci-runner")
        api.bind("ci-runner", CLEANUP_RULES, name="ci-cleanup")
        api.bind("ci-runner", CLAIM_RULES, namespace=SYSTEM_NAMESPACE, name="ci-claims")
        monkeypatch.setenv("KUBECONFIG", str(api.kubeconfig(tmp_path / "kubeconfig", token=CI_TOKEN)))
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
        yield api


def admin_client(api: KubeDouble) -> Any:
    """A ``kubernetes`` ApiClient of the cluster's administrator (another run's claims, set-up)."""
    from kubernetes.client import ApiClient, Configuration

    config = Configuration()
    config.host = api.url
    config.api_key = {"authorization": ADMIN_TOKEN}
    config.api_key_prefix = {"authorization": "Bearer"}
    return ApiClient(config)


def deleted_namespaces(api: KubeDouble) -> list[str]:
    """The namespaces the client asked to delete, in order."""
    return [
        request.path.rsplit("/", 1)[-1]
        for request in api.calls("DELETE")
        if request.path.startswith("/api/v1/namespaces/") and request.path.count("/") == 4
    ]


def slot_namespaces(api: KubeDouble) -> set[str]:
    """The namespaces still in the cluster, the cluster's own (and codex-system) left out."""
    return set(api.namespaces()) - set(SYSTEM_NAMESPACES) - {SYSTEM_NAMESPACE}


def drop_namespace(api: KubeDouble, name: str) -> None:
    """A cluster without namespace ``name`` and what was in it (the cluster stack never deployed)."""
    with api.lock:
        for key in [key for key in api.store if key[2] == name or key[:2] + key[3:] == ("", "namespaces", name)]:
            del api.store[key]
