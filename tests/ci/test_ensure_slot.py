"""``codexctl ci ensure-slot`` / ``find-slot``: claims in the cluster (Leases), stacks after them.

Against the pulumi double's backend models (diy files, diy with lagging listings, the cloud
model) and the Kubernetes double, whose Lease create is atomic (409 AlreadyExists on a taken name).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from codex_stacks.plan.cluster import SYSTEM_NAMESPACE
from tests.ci.conftest import (
    REPO_ROOT,
    REPOSITORY,
    PulumiDouble,
    admin_client,
    drop_namespace,
    make_program,
    read_outputs,
)
from tests.support.kube_double import KubeDouble

runner = CliRunner()
CODEXCTL = Path(sys.executable).with_name("codexctl")


def ensure(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ci", "ensure-slot", *args])
    return result.exit_code, result.output


def leases(api: KubeDouble) -> dict[str, dict[str, Any]]:
    """The Leases in the system namespace, by name, as the API server stores them."""
    with api.lock:
        return {
            name: lease
            for (group, plural, namespace, name), lease in api.store.items()
            if (group, plural, namespace) == ("coordination.k8s.io", "leases", SYSTEM_NAMESPACE)
        }


def slot_leases(api: KubeDouble, repository: str = REPOSITORY) -> dict[int, str]:
    """Slot number → holder, for the slot claims of ``repository`` (read from the objects' own fields)."""
    found = {}
    for lease in leases(api).values():
        notes = lease["metadata"]["annotations"]
        labels = lease["metadata"]["labels"]
        if notes["codex.dev/repository"] == repository and labels["codex.dev/role"] == "slot":
            found[int(labels["codex.dev/slot"])] = lease["spec"]["holderIdentity"]
    return found


def plant_claim(
    api: KubeDouble, *, slot: int, holder: str, repository: str = REPOSITORY, project: str = "codex", age: float = 0.0
) -> None:
    """A claim another run made, through the API (so it gets the server's fields)."""
    from codex_stacks.ci.claims import ClaimStore
    from codex_stacks.ci.slots import Binding

    store = ClaimStore(client=admin_client(api), repository=repository, project=project)
    binding = Binding.parse(holder)
    assert binding is not None
    assert store.claim_slot(slot, binding, now=datetime.now(UTC) - timedelta(seconds=age)) is not None


def test_claims_lowest_free_slot_then_creates_and_tags_its_stack(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, github_files: tuple[Path, Path]
) -> None:
    plant_claim(kube_api, slot=1, holder=f"{REPOSITORY}#issue-3")
    code, output = ensure("--issue", "7", "--max", "5")
    assert code == 0, output
    assert output.strip().splitlines()[-1] == "ai-slot-2"
    assert slot_leases(kube_api) == {1: f"{REPOSITORY}#issue-3", 2: f"{REPOSITORY}#issue-7"}
    assert pulumi_double.stacks() == ["ai-slot-2"]
    tags = pulumi_double.tags("ai-slot-2")
    assert tags["codex:binding"] == "acme/shop#issue-7"  # the repository is part of the binding
    assert read_outputs(github_files[0]) == {"stack": "ai-slot-2", "slot": "2", "reused": "false"}
    # the claim came first: the Lease was created before the stack
    commands = pulumi_double.commands()
    assert commands.index("stack init") < commands.index("stack tag set")
    posts = [request.path for request in kube_api.calls("POST")]
    assert len(posts) == 3  # the planted claim, the binding's claiming lock, slot 2
    assert [name for name in leases(kube_api) if "issue-7" in name] == []  # the claiming lock is gone


def test_lease_names_and_labels_carry_the_repository(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    code, output = ensure("--pr", "9", "--max", "3")
    assert code == 0, output
    [(name, lease)] = leases(kube_api).items()
    assert name.startswith("acme-shop-")
    assert name.endswith("-slot-1")
    assert len(name) <= 63
    meta = lease["metadata"]
    assert meta["annotations"]["codex.dev/repository"] == "acme/shop"
    assert meta["annotations"]["codex.dev/binding"] == "acme/shop#pr-9"
    assert meta["annotations"]["codex.dev/project"] == "codex"
    assert meta["labels"]["codex.dev/repository"].startswith("acme-shop-")
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "codexctl"
    assert lease["spec"]["holderIdentity"] == "acme/shop#pr-9"


def test_reuses_the_slot_claimed_for_the_binding(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, github_files: tuple[Path, Path]
) -> None:
    plant_claim(kube_api, slot=4, holder=f"{REPOSITORY}#pr-9")
    pulumi_double.make_stack("ai-slot-4", tags={"codex:binding": f"{REPOSITORY}#pr-9"})
    code, output = ensure("--pr", "9", "--max", "5")
    assert code == 0, output
    assert read_outputs(github_files[0])["stack"] == "ai-slot-4"
    assert read_outputs(github_files[0])["reused"] == "true"
    assert "stack init" not in pulumi_double.commands()
    assert "codex:last-used" in pulumi_double.tags("ai-slot-4")


def test_the_same_issue_in_another_repository_is_another_slot(
    pulumi_double: PulumiDouble, kube_api: KubeDouble
) -> None:
    plant_claim(kube_api, slot=1, holder="acme/other#issue-7", repository="acme/other", project="other")
    code, output = ensure("--issue", "7", "--max", "5")
    assert code == 0, output
    assert output.strip().splitlines()[-1] == "ai-slot-1"  # slots are numbered per repository
    assert slot_leases(kube_api) == {1: "acme/shop#issue-7"}
    assert slot_leases(kube_api, "acme/other") == {1: "acme/other#issue-7"}


def test_two_repositories_on_one_backend_keep_separate_stacks(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path
) -> None:
    """Each repository has its own Pulumi project: ai-slot-1 of each is its own stack."""
    other = make_program(tmp_path / "other-program", name="other")
    code, output = ensure("--issue", "7", "--max", "5")
    assert code == 0, output
    result = runner.invoke(
        app,
        ["ci", "ensure-slot", "--issue", "7", "--max", "5", "--repository", "acme/other", "--program-dir", str(other)],
    )
    assert result.exit_code == 0, result.output
    assert pulumi_double.stacks("codex") == ["ai-slot-1"]
    assert pulumi_double.stacks("other") == ["ai-slot-1"]
    assert pulumi_double.tags("ai-slot-1", "codex")["codex:binding"] == "acme/shop#issue-7"
    assert pulumi_double.tags("ai-slot-1", "other")["codex:binding"] == "acme/other#issue-7"


def test_two_repositories_with_one_project_name_are_refused(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    plant_claim(kube_api, slot=1, holder="acme/other#issue-1", repository="acme/other", project="codex")
    code, output = ensure("--issue", "7", "--max", "5")
    assert code == 2
    assert "Pulumi project 'codex' also holds slots of acme/other" in output
    assert "own project name" in output
    assert pulumi_double.stacks() == []


def test_max_slots_comes_from_services_yaml(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    for number in range(1, 10):
        plant_claim(kube_api, slot=number, holder=f"{REPOSITORY}#issue-{100 + number}")
    code, output = ensure("--issue", "7")  # the example project has maxSlots: 10
    assert code == 0, output
    assert output.strip().splitlines()[-1] == "ai-slot-10"


def test_no_free_slot_is_one_clear_line_exit_1(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    plant_claim(kube_api, slot=1, holder=f"{REPOSITORY}#issue-1")
    plant_claim(kube_api, slot=2, holder=f"{REPOSITORY}#issue-2")
    code, output = ensure("--issue", "7", "--max", "2")
    assert code == 1  # the same call works after a cleanup: not bad input
    assert "no free slot for acme/shop#issue-7: all 2 slots of acme/shop are claimed" in output
    assert "Traceback" not in output
    assert pulumi_double.stacks() == []


def test_a_stack_without_a_claim_is_never_handed_out(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    """A stack left by an unfinished cleanup (or from before claims) may hold another issue's work."""
    pulumi_double.make_stack("ai-slot-1", tags={"codex:binding": "issue-3"}, resources=5)
    code, output = ensure("--issue", "7", "--max", "5")
    assert code == 0, output
    assert output.strip().splitlines()[-1] == "ai-slot-2"
    assert "ai-slot-1 exists without a claim" in output
    assert slot_leases(kube_api) == {2: "acme/shop#issue-7"}
    assert pulumi_double.tags("ai-slot-1") == {"codex:binding": "issue-3"}


def test_a_claim_that_fails_half_way_is_rolled_back(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tags need CLI 3.211 on a self-managed backend: an older CLI is refused before any claim;
    a tag write that fails after the stack exists removes the stack and releases the claim."""
    monkeypatch.setenv("PULUMI_DOUBLE_VERSION", "3.200.0")
    code, output = ensure("--issue", "7", "--max", "5")
    assert code == 1
    assert "the pulumi CLI is 3.200.0; codexctl ci needs 3.211.0 or newer" in output
    assert leases(kube_api) == {}
    assert pulumi_double.stacks() == []
    monkeypatch.delenv("PULUMI_DOUBLE_VERSION")
    pulumi_double.make_stack("ai-slot-1", tags={"codex:binding": "issue-3"})
    (pulumi_double.stacks_dir() / "ai-slot-2.pulumi-tags").mkdir(parents=True)  # the tag write fails there
    code, output = ensure("--issue", "7", "--max", "5")
    assert code == 1
    assert "Traceback" not in output
    assert leases(kube_api) == {}  # slot 2's claim released, no claiming lock left
    assert pulumi_double.stacks() == ["ai-slot-1"]  # the stack the claim created is gone again


def test_issue_or_pr_and_the_repository_are_required(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = ensure("--max", "2")
    assert code == 2
    assert "exactly one of --issue N or --pr N" in output
    monkeypatch.delenv("GITHUB_REPOSITORY")
    code, output = ensure("--issue", "2")
    assert code == 2
    assert "--repository owner/name" in output


def test_no_cluster_is_one_line_exit_1(
    pulumi_double: PulumiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with KubeDouble() as gone:
        config = gone.kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.setattr("codex_stacks.ci.claims._RETRIES", 0)
    code, output = ensure("--issue", "7", "--max", "3")
    assert code == 1
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "cannot reach the cluster" in errors[0]
    assert pulumi_double.stacks() == []


def test_a_missing_system_namespace_says_who_makes_it(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runner with a cluster administrator's kubeconfig, on a cluster without the cluster stack."""
    drop_namespace(kube_api, SYSTEM_NAMESPACE)
    monkeypatch.setenv("KUBECONFIG", str(kube_api.kubeconfig(tmp_path / "admin-kubeconfig")))
    code, output = ensure("--issue", "7", "--max", "3")
    assert code == 1
    assert 'HTTP 404: namespaces "codex-system" not found' in output
    assert "cluster stack" in output


def test_a_runner_without_lease_rights_is_told_which(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    """The runner is not among security.runners (no RoleBinding in codex-system): RBAC says 403."""
    kube_api.store.pop(("rbac.authorization.k8s.io", "rolebindings", SYSTEM_NAMESPACE, "ci-claims"))
    code, output = ensure("--issue", "7", "--max", "3")
    assert code == 1
    text = " ".join(output.split())
    assert (
        'HTTP 403: leases.coordination.k8s.io is forbidden: User "ci-runner" cannot list resource "leases" '
        'in API group "coordination.k8s.io" in the namespace "codex-system"'
    ) in text
    assert "the cluster stack's Role codex-slot-claims-<project> gives them to security.runners" in text
    assert pulumi_double.stacks() == []


def test_find_slot_claims_nothing(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, github_files: tuple[Path, Path]
) -> None:
    plant_claim(kube_api, slot=2, holder=f"{REPOSITORY}#pr-4")
    result = runner.invoke(app, ["ci", "find-slot", "--pr", "4"])
    assert result.exit_code == 0, result.output
    assert read_outputs(github_files[0]) == {"stack": "ai-slot-2", "slot": "2"}
    result = runner.invoke(app, ["ci", "find-slot", "--issue", "4", "--output", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"stack": None, "slot": None, "binding": "acme/shop#issue-4"}
    assert len(leases(kube_api)) == 1
    assert pulumi_double.calls() == []


def test_ensure_slot_json(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    result = runner.invoke(app, ["ci", "ensure-slot", "--issue", "5", "--max", "3", "--output", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "stack": "ai-slot-1",
        "slot": 1,
        "reused": False,
        "binding": "acme/shop#issue-5",
    }


def test_max_zero_means_no_limit(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    for number in range(1, 13):
        plant_claim(kube_api, slot=number, holder=f"{REPOSITORY}#issue-{100 + number}")
    code, output = ensure("--issue", "7", "--max", "0")
    assert code == 0, output
    assert output.strip().splitlines()[-1] == "ai-slot-13"


# ------------------------------------------------------------------------------------------
# Many runners at once


def _start(issue: int, *, env: dict[str, str], out: Path, max_slots: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(CODEXCTL), "ci", "ensure-slot", "--issue", str(issue), "--max", str(max_slots)],
        env={**env, "GITHUB_OUTPUT": str(out)},
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


MODELS = {
    "diy": {},
    "diy-lagging-listings": {"PULUMI_DOUBLE_LIST_LAG": "5"},
    "cloud": {"PULUMI_BACKEND_URL": "https://api.pulumi.com", "PULUMI_ACCESS_TOKEN": "pul-double"},
}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_twenty_runners_at_once_get_distinct_slots(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path, model: str
) -> None:
    """20 separate processes, 20 issues, 16 slots: 16 distinct slots and 4 clear "full" errors;
    no slot twice, no lock error, and every claim is the stack's binding."""
    env = {**os.environ, **MODELS[model]}
    procs = []
    for issue in range(1, 21):
        out = tmp_path / f"out-{issue}"
        out.touch()
        procs.append((issue, out, _start(issue, env=env, out=out, max_slots=16)))
    got: dict[int, str] = {}
    full = 0
    for issue, out, proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        assert "locked" not in stderr
        assert "Traceback" not in stderr
        if proc.returncode == 0:
            got[issue] = read_outputs(out)["stack"]
            assert stdout.strip() == got[issue]
        else:
            assert proc.returncode == 1, stderr
            assert "no free slot for acme/shop#issue-" in stderr
            full += 1
    assert len(got) == 16
    assert full == 4
    assert sorted(got.values()) == sorted(f"ai-slot-{n}" for n in range(1, 17))
    holders = slot_leases(kube_api)
    assert holders == {int(stack.rsplit("-", 1)[1]): f"{REPOSITORY}#issue-{issue}" for issue, stack in got.items()}
    for issue, stack in got.items():
        tags = pulumi_double.cloud_tags(stack) if model == "cloud" else pulumi_double.tags(stack)
        assert tags["codex:binding"] == f"{REPOSITORY}#issue-{issue}"
    assert [name for name in leases(kube_api) if "-issue-" in name] == []  # every claiming lock released


def test_runners_for_one_issue_agree_on_one_slot(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path
) -> None:
    procs = [_start(5, env=dict(os.environ), out=tmp_path / f"o{n}", max_slots=6) for n in range(4)]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [
        err for (_, err), p in zip(results, procs, strict=True) if p.returncode
    ]
    assert {stdout.strip() for stdout, _ in results} == {"ai-slot-1"}
    assert slot_leases(kube_api) == {1: f"{REPOSITORY}#issue-5"}
    assert pulumi_double.stacks() == ["ai-slot-1"]


def test_find_slot_without_the_project_checked_out_warns_and_finds(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path
) -> None:
    """The cleanup workflow's first job looks the slot up without checking out the project: only
    the kubeContext is lost (the kubeconfig's current context is used), the lookup works."""
    plant_claim(kube_api, slot=2, holder=f"{REPOSITORY}#pr-4")
    result = runner.invoke(app, ["ci", "find-slot", "--pr", "4", "--project-dir", str(tmp_path / "not-checked-out")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ai-slot-2"
    assert "warning:" in result.output
    assert "current context" in result.output
