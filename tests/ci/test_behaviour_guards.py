"""Promises of ``codexctl ci`` a runner relies on, against the pulumi and Kubernetes API doubles.

Guards for issue #19's mutation audit: cleanup never deletes a namespace that belongs to the
cluster, ``ci up`` marks its slot used (so ``gc --older-than`` leaves a slot in use alone), and
one issue never ends up with two slots, even when another runner claims a lower slot for it in
the middle of a claim.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import REPO_ROOT, PulumiDouble, deleted_namespaces, read_outputs
from tests.support.kube_double import KubeDouble

runner = CliRunner()


@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public", "kube-node-lease"])
def test_cleanup_never_deletes_a_namespace_of_the_cluster(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path, namespace: str
) -> None:
    """A services.yaml (a stranger's pull request) may name a cluster namespace as the slot's:
    cleanup refuses before it asks the API, and says why. kube-node-lease is not protected by the
    API server itself (only default, kube-system and kube-public are), so the refusal is codexctl's."""
    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "examples" / "project-example", project)
    services = project / "services.yaml"
    text, found = re.subn(r'(?m)^    ai: ".*"$', f'    ai: "{namespace}"', services.read_text(encoding="utf-8"))
    assert found == 1, "the example's ai namespace pattern moved"
    services.write_text(text, encoding="utf-8")
    kube_api.bind("ci-runner", [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["*"]}], name="all")
    result = runner.invoke(app, ["ci", "cleanup", "--stack", "ai-slot-3", "--project-dir", str(project)])
    assert result.exit_code == 2, result.output
    assert f"refusing to delete namespace {namespace}" in result.output
    assert deleted_namespaces(kube_api) == []
    assert kube_api.namespaces()[namespace] == "Active"


def test_ci_up_marks_the_slot_used_so_gc_leaves_it_alone(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slot last used long ago and deployed now is in use: ``gc --older-than 7d`` keeps it."""
    monkeypatch.setenv("DATA_ROOT", str(tmp_path / "data"))
    old = "2020-01-01T00:00:00Z"
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": "issue-7", "codex:last-used": old}, resources=3)
    pulumi_double.make_stack("ai-slot-4", tags={"codex:binding": "issue-8", "codex:last-used": old}, resources=3)
    before = datetime.now(UTC).replace(microsecond=0)
    up = runner.invoke(app, ["ci", "up", "--stack", "ai-slot-3", "--report", str(tmp_path / "report.json")])
    assert up.exit_code == 0, up.output
    used = datetime.strptime(pulumi_double.read("ai-slot-3", "tags")["codex:last-used"], "%Y-%m-%dT%H:%M:%SZ")
    assert used.replace(tzinfo=UTC) >= before
    gc = runner.invoke(app, ["ci", "gc", "--older-than", "7d"])
    assert gc.exit_code == 0, gc.output
    assert pulumi_double.stacks() == ["ai-slot-3"]  # ai-slot-4, idle since 2020, is gone


def test_one_issue_never_gets_two_slots_when_another_runner_claims_a_lower_one(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path]
) -> None:
    """Runner A has created ai-slot-1 for issue 5 and not yet tagged it when runner B (this one)
    lists the slots; B claims ai-slot-2 and looks at the lower slots again, and only then A's tag
    lands. B must give its slot back and use A's."""
    pulumi_double.make_stack("ai-slot-1")  # A: created, binding not written yet
    stop = threading.Event()

    def b_looked_at_slot_1_after_claiming() -> bool:
        calls = pulumi_double.calls()
        claimed = next((i for i, call in enumerate(calls) if call[:3] == ["stack", "init", "ai-slot-2"]), None)
        return claimed is not None and any(
            call[:3] == ["stack", "tag", "ls"] and "ai-slot-1" in call for call in calls[claimed:]
        )

    def runner_a() -> None:
        while not stop.is_set():
            if b_looked_at_slot_1_after_claiming():
                tags = pulumi_double.state / "stacks" / "ai-slot-1" / "tags.json"
                tags.write_text('{"codex:binding": "issue-5"}', encoding="utf-8")
                return
            time.sleep(0.01)

    other = threading.Thread(target=runner_a, daemon=True)
    other.start()
    try:
        result = runner.invoke(app, ["ci", "ensure-slot", "--issue", "5", "--max", "4"])
    finally:
        stop.set()
        other.join(timeout=5)
    assert result.exit_code == 0, result.output
    assert read_outputs(github_files[0])["stack"] == "ai-slot-1"
    assert pulumi_double.stacks() == ["ai-slot-1"]
