"""Fixtures: a ``pulumi`` test double on PATH, with its state in a temporary folder."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.kube_double import SYSTEM_NAMESPACES, KubeDouble

collect_ignore = ["test_ci_harsh.py"]
"""Harsher answers codex_stacks/ci does not handle yet (409 on a terminating namespace, a spent
GitHub rate limit): the lead enables them by removing this line once the fix is merged."""

DOUBLE_SOURCE = Path(__file__).with_name("pulumi_double.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PulumiDouble:
    """Handle on the double: its script, the calls it recorded, the stacks it keeps."""

    root: Path
    state: Path

    def script(self, **steps: list[str]) -> None:
        (self.state / "script.json").write_text(json.dumps(steps))

    def calls(self) -> list[list[str]]:
        """Every recorded argv, without the ``--non-interactive`` the SDK puts first."""
        return [[a for a in c["argv"] if a != "--non-interactive"] for c in self.records()]

    def records(self) -> list[dict[str, Any]]:
        path = self.state / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def commands(self) -> list[str]:
        """Calls shortened to their subcommand words (``up``, ``stack tag set``, …), version checks dropped."""
        out = []
        for argv in self.calls():
            words = []
            for arg in argv:
                if arg.startswith("-"):
                    break
                words.append(arg)
            name = " ".join(
                words[:3]
                if words[:2] == ["stack", "tag"]
                else words[:2]
                if words[0] in ("stack", "config")
                else words[:1]
            )
            if name != "version":
                out.append(name)
        return out

    def stacks(self) -> list[str]:
        folder = self.state / "stacks"
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    def read(self, stack: str, name: str) -> dict[str, Any]:
        path = self.state / "stacks" / stack / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def make_stack(self, name: str, *, tags: dict[str, str] | None = None, resources: int = 0) -> None:
        folder = self.state / "stacks" / name
        folder.mkdir(parents=True)
        (folder / "tags.json").write_text(json.dumps(tags or {}))
        (folder / "state.json").write_text(json.dumps({"resources": resources, "pending": False, "updates": 0}))


@pytest.fixture
def pulumi_double(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PulumiDouble:
    root = tmp_path / "pulumi"
    (root / "bin").mkdir(parents=True)
    state = tmp_path / "pulumi-state"
    state.mkdir()
    executable = root / "bin" / "pulumi"
    script = root / "pulumi_double.py"
    script.write_text(DOUBLE_SOURCE.read_text())
    # A shell front so a test can make the CLI ignore Ctrl-C from its very first instruction;
    # python -S: no site import, so the double starts fast (it adds site-packages when it needs grpc).
    executable.write_text(
        "#!/bin/sh\n"
        "if [ -n \"$PULUMI_DOUBLE_IGNORE_INT\" ]; then trap '' INT; fi\n"
        f'exec "{sys.executable}" -S "{script}" "$@"\n'
    )
    executable.chmod(executable.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PULUMI_DOUBLE_STATE", str(state))
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path / 'backend'}")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "CODEX_PROJECT_DIR", "CODEX_PROGRAM_DIR"):
        monkeypatch.delenv(name, raising=False)
    return PulumiDouble(root=root, state=state)


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
"""What ``ci cleanup``/``ci gc`` need of the cluster, and all the runner gets (a ClusterRole)."""


@pytest.fixture
def kube_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeDouble]:
    """The Kubernetes API double (tests/support/kube_double.py), with $KUBECONFIG pointing at it as
    user ``ci-runner``, bound to CLEANUP_RULES only. A deleted namespace is Terminating until the
    next request (``namespace_finalize_ticks``, raised by tests that watch the wait)."""
    with KubeDouble(namespace_finalize_ticks=1) as api:
        api.add_user(CI_TOKEN, "ci-runner")
        api.bind("ci-runner", CLEANUP_RULES, name="ci-cleanup")
        monkeypatch.setenv("KUBECONFIG", str(api.kubeconfig(tmp_path / "kubeconfig", token=CI_TOKEN)))
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
        yield api


def deleted_namespaces(api: KubeDouble) -> list[str]:
    """The namespaces the client asked to delete, in order."""
    return [request.path.rsplit("/", 1)[-1] for request in api.calls("DELETE")]


def slot_namespaces(api: KubeDouble) -> set[str]:
    """The namespaces still in the cluster, the cluster's own left out."""
    return set(api.namespaces()) - set(SYSTEM_NAMESPACES)
