"""Promises of ``codexctl ci`` a runner relies on, against the pulumi and Kubernetes API doubles.

Guards for issue #19's mutation audit: cleanup never deletes a namespace that belongs to the
cluster, ``ci up`` marks its slot used (so ``gc --older-than`` leaves a slot in use alone), and
one issue never ends up with two slots, even when another runner is in the middle of claiming
one for it.
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
from codex_stacks.plan.cluster import SYSTEM_NAMESPACE
from tests.ci.conftest import REPO_ROOT, REPOSITORY, PulumiDouble, admin_client, deleted_namespaces, read_outputs
from tests.ci.test_ensure_slot import leases, plant_claim, slot_leases
from tests.support.kube_double import KubeDouble

runner = CliRunner()


@pytest.mark.parametrize("namespace", ["default", "kube-system", "kube-public", "kube-node-lease", SYSTEM_NAMESPACE])
def test_cleanup_never_deletes_a_namespace_of_the_cluster(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path, namespace: str
) -> None:
    """A services.yaml (a stranger's pull request) may name a cluster namespace as the slot's:
    cleanup refuses before it asks the API, and says why. kube-node-lease is not protected by the
    API server itself (only default, kube-system and kube-public are), so the refusal is codexctl's;
    nor is codex-system, where every repository's slot claims live."""
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
    for number, issue in ((3, 7), (4, 8)):
        holder = f"{REPOSITORY}#issue-{issue}"
        plant_claim(kube_api, slot=number, holder=holder, age=3 * 365 * 86400)
        pulumi_double.make_stack(
            f"ai-slot-{number}", tags={"codex:binding": holder, "codex:last-used": old}, resources=3
        )
    before = datetime.now(UTC).replace(microsecond=0)
    up = runner.invoke(app, ["ci", "up", "--stack", "ai-slot-3", "--report", str(tmp_path / "report.json")])
    assert up.exit_code == 0, up.output
    used = datetime.strptime(pulumi_double.tags("ai-slot-3")["codex:last-used"], "%Y-%m-%dT%H:%M:%SZ")
    assert used.replace(tzinfo=UTC) >= before
    gc = runner.invoke(app, ["ci", "gc", "--older-than", "7d"])
    assert gc.exit_code == 0, gc.output
    assert pulumi_double.stacks() == ["ai-slot-3"]  # ai-slot-4, idle since 2020, is gone
    assert slot_leases(kube_api) == {3: f"{REPOSITORY}#issue-7"}


def test_one_issue_never_gets_two_slots_while_another_runner_is_claiming_for_it(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, github_files: tuple[Path, Path]
) -> None:
    """Runner A holds issue 5's claiming lock: it has claimed slot 1 and not yet created the stack
    when runner B (this one) starts for the same issue. B must wait for A, then use A's slot."""
    from codex_stacks.ci.claims import ClaimStore
    from codex_stacks.ci.slots import Binding

    store = ClaimStore(client=admin_client(kube_api), repository=REPOSITORY, project="codex")
    binding = Binding(repository=REPOSITORY, kind="issue", number=5)
    lock = store.lock_binding(binding, now=datetime.now(UTC))
    assert lock is not None
    assert store.claim_slot(1, binding, now=datetime.now(UTC)) is not None
    stop = threading.Event()

    def b_found_the_lock_taken() -> bool:
        return any(
            request.method == "POST" and request.status == 409 and request.user == "ci-runner"
            for request in kube_api.calls("POST")
        )

    def runner_a() -> None:
        while not stop.is_set():
            if b_found_the_lock_taken():
                pulumi_double.make_stack("ai-slot-1", tags={"codex:binding": str(binding)})
                assert lock is not None
                store.release(lock)
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
    assert read_outputs(github_files[0]) == {"stack": "ai-slot-1", "slot": "1", "reused": "true"}
    assert pulumi_double.stacks() == ["ai-slot-1"]
    assert slot_leases(kube_api) == {1: str(binding)}
    assert [name for name in leases(kube_api) if name.endswith("-issue-5")] == []
