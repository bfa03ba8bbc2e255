"""``ci cleanup``/``ci gc`` delete a slot's namespace (the program retains it on delete) through the
Kubernetes API, against the loopback API double; never for staging/dev/prod stacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import (
    CI_TOKEN,
    REPO_ROOT,
    REPOSITORY,
    PulumiDouble,
    deleted_namespaces,
    read_outputs,
    slot_namespaces,
)
from tests.ci.test_ensure_slot import plant_claim, slot_leases
from tests.support.kube_double import KubeDouble

runner = CliRunner()


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "data"
    (root / "slots" / "3" / "postgres").mkdir(parents=True)
    monkeypatch.setenv("DATA_ROOT", str(root))
    return root


def deployed(double: PulumiDouble, stack: str) -> None:
    """A stack after a successful up: its outputs name the namespace."""
    double.make_stack(stack, resources=5, outputs={"namespace": f"ns-{stack}"})


def cleanup(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ci", "cleanup", *args])
    return result.exit_code, result.output


def test_namespace_is_deleted_before_the_stack_is_removed(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path, github_files: tuple[Path, Path]
) -> None:
    """Terminating for a while, then gone: cleanup waits for it and says so."""
    kube_api.create_namespace("ns-ai-slot-3")
    kube_api.namespace_finalize_ticks = 3  # the namespace controller needs the DELETE and two more requests
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3", "--namespace-timeout", "30s")
    assert code == 0, output
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3"]
    reads = [(request.path, request.status) for request in kube_api.calls("GET") if "/leases" not in request.path]
    assert reads == [("/api/v1/namespaces/ns-ai-slot-3", status) for status in (200, 200, 404)]
    assert slot_namespaces(kube_api) == set()
    assert "namespace ns-ai-slot-3 deleted" in output
    assert pulumi_double.stacks() == []
    assert not (data_root / "slots" / "3").exists()
    assert read_outputs(github_files[0])["namespace"] == "ns-ai-slot-3"
    # the namespace first (named by the outputs of the last up), then destroy and stack rm
    commands = pulumi_double.commands()
    assert commands.index("stack output") < commands.index("destroy") < commands.index("stack rm")
    [deleted] = [request.at for request in kube_api.calls("DELETE") if "/leases" not in request.path]
    [destroyed] = [r["time"] for r in pulumi_double.records() if "destroy" in r["argv"]]
    assert deleted < destroyed


def test_namespace_already_gone_is_fine(pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path) -> None:
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3")
    assert code == 0, output
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3"]
    assert "namespace ns-ai-slot-3 already gone" in output
    assert pulumi_double.stacks() == []


def test_a_namespace_that_stays_terminating_keeps_the_stack_and_the_claim(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    """The next issue in the slot must not get a terminating namespace: nothing after it happens."""
    kube_api.create_namespace("ns-ai-slot-3")
    held = {"name": "held", "namespace": "ns-ai-slot-3", "finalizers": ["example.com/never"]}
    kube_api.seed({"apiVersion": "v1", "kind": "ConfigMap", "metadata": held})  # nobody removes the finalizer
    plant_claim(kube_api, slot=3, holder=f"{REPOSITORY}#issue-7")
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3", "--namespace-timeout", "0.3")
    assert code == 1
    assert "namespace ns-ai-slot-3 still terminating after " in output
    assert "finalizers" in output
    assert pulumi_double.stacks() == ["ai-slot-3"]
    assert slot_leases(kube_api) == {3: f"{REPOSITORY}#issue-7"}
    assert "destroy" not in pulumi_double.commands()


def hold(api: KubeDouble, namespace: str) -> tuple[str, str, str, str]:
    """An object in ``namespace`` with a finalizer nobody removes yet: the namespace stays Terminating."""
    held = {"name": "held", "namespace": namespace, "finalizers": ["example.com/slow"]}
    api.seed({"apiVersion": "v1", "kind": "ConfigMap", "metadata": held})
    return ("", "configmaps", namespace, "held")


def test_a_rerun_while_the_namespace_still_terminates_says_so_and_keeps_the_slot(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    """A second DELETE of a Terminating namespace is 409 Conflict: the rerun waits like the first
    run, and says what it waits for, never the bare 409."""
    kube_api.create_namespace("ns-ai-slot-3")
    hold(kube_api, "ns-ai-slot-3")
    plant_claim(kube_api, slot=3, holder=f"{REPOSITORY}#issue-7")
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3", "--namespace-timeout", "0.1")
    assert code == 1, output
    code, output = cleanup("--stack", "ai-slot-3", "--namespace-timeout", "0.1")
    statuses = [request.status for request in kube_api.calls("DELETE")]
    assert statuses == [200, 409]  # the rerun did meet the conflict
    assert code == 1
    text = " ".join(output.split())
    assert "namespace ns-ai-slot-3 still terminating after 0s (an earlier run deleted it)" in text
    assert "ai-slot-3 and its claim are kept until it is gone" in text
    assert "409" not in text
    assert "Traceback" not in output
    assert pulumi_double.stacks() == ["ai-slot-3"]
    assert slot_leases(kube_api) == {3: f"{REPOSITORY}#issue-7"}


def test_a_rerun_waits_for_the_earlier_delete_and_finishes(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    """The earlier run's delete finishes while the rerun waits (the finalizer's controller lets go
    once the rerun has asked): the rerun goes on in the safe order."""
    kube_api.create_namespace("ns-ai-slot-3")
    key = hold(kube_api, "ns-ai-slot-3")
    plant_claim(kube_api, slot=3, holder=f"{REPOSITORY}#issue-7")
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3", "--namespace-timeout", "0.1")
    assert code == 1, output

    def finalizer_controller(api: KubeDouble) -> None:
        if api.count("DELETE", "/api/v1/namespaces/ns-ai-slot-3") >= 2 and key in api.store:
            del api.store[key]["metadata"]["finalizers"]  # done with its clean-up: the object goes
            api.store.pop(key)

    kube_api.controllers.append(finalizer_controller)
    code, output = cleanup("--stack", "ai-slot-3", "--namespace-timeout", "60")
    assert code == 0, output
    assert [request.status for request in kube_api.calls("DELETE") if "/leases" not in request.path] == [200, 409]
    assert "namespace ns-ai-slot-3 gone (an earlier run deleted it)" in output
    assert slot_namespaces(kube_api) == set()
    assert pulumi_double.stacks() == []
    assert slot_leases(kube_api) == {}


def test_keep_namespace_opts_out(pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path) -> None:
    kube_api.create_namespace("ns-ai-slot-3")
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3", "--keep-namespace")
    assert code == 0, output
    assert deleted_namespaces(kube_api) == []
    assert slot_namespaces(kube_api) == {"ns-ai-slot-3"}
    assert pulumi_double.stacks() == []


@pytest.mark.parametrize("stack", ["ai-staging", "dev"])
def test_non_slot_stacks_keep_their_namespace(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path, stack: str
) -> None:
    kube_api.create_namespace(f"ns-{stack}")
    pulumi_double.make_stack(stack, resources=5)
    code, output = cleanup("--stack", stack)
    assert code == 0, output
    assert kube_api.requests == []
    assert pulumi_double.stacks() == []


def test_already_destroyed_stack_still_loses_the_plans_namespace(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    """A stack removed already (a rerun): the namespace of the slot as services.yaml names it goes."""
    kube_api.create_namespace("project-example-dev-3")
    code, output = cleanup("--stack", "ai-slot-3")
    assert code == 0, output
    assert deleted_namespaces(kube_api) == ["project-example-dev-3"]
    assert slot_namespaces(kube_api) == set()
    assert "stack did not exist" in output


def test_a_failed_namespace_delete_keeps_the_stack_for_a_rerun(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    kube_api.create_namespace("ns-ai-slot-3")
    kube_api.store.pop(("rbac.authorization.k8s.io", "clusterrolebindings", "", "ci-cleanup"))  # no delete right
    kube_api.bind("ci-runner", [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}], name="read")
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3")
    assert code == 1  # the cluster refused: an outside failure
    assert (
        'deleting namespace ns-ai-slot-3: HTTP 403: namespaces "ns-ai-slot-3" is forbidden: User "ci-runner" '
        'cannot delete resource "namespaces" in API group "" at the cluster scope'
    ) in " ".join(output.split())
    assert "Traceback" not in output
    assert pulumi_double.stacks() == ["ai-slot-3"]
    assert (data_root / "slots" / "3").exists()
    kube_api.bind("ci-runner", [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["delete"]}], name="del")
    code, output = cleanup("--stack", "ai-slot-3")
    assert code == 0, output
    assert pulumi_double.stacks() == []


def test_unreachable_cluster_is_one_line_exit_1(
    pulumi_double: PulumiDouble, tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with KubeDouble() as api:
        config = api.kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(config))  # the server is gone: connection refused
    monkeypatch.setattr("codex_stacks.ci.claims._RETRIES", 1)
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3")
    assert code == 1
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "cannot reach the cluster" in errors[0]
    assert "Traceback" not in output
    assert pulumi_double.stacks() == ["ai-slot-3"]


def test_an_api_server_away_while_waiting_is_asked_again(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    """503s during the wait are retried within the namespace timeout: the cleanup goes on."""
    kube_api.create_namespace("ns-ai-slot-3")
    kube_api.fault("GET", "/api/v1/namespaces/ns-ai-slot-3", status=503, times=2)
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3", "--namespace-timeout", "60")
    assert code == 0, output
    reads = [request.status for request in kube_api.calls("GET") if "/leases" not in request.path]
    assert reads == [503, 503, 404]  # away, away, gone
    assert pulumi_double.stacks() == []


def test_an_api_server_away_for_the_whole_wait_is_exit_1(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    kube_api.create_namespace("ns-ai-slot-3")
    kube_api.fault("GET", "/api/v1/namespaces/ns-ai-slot-3", status=503, times=10_000)
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3", "--namespace-timeout", "3")
    assert code == 1
    assert "waiting for namespace ns-ai-slot-3 to go: HTTP 503" in output
    assert pulumi_double.stacks() == ["ai-slot-3"]


def test_no_kubeconfig_is_a_clear_error(
    pulumi_double: PulumiDouble, tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3")
    assert code == 1  # a slot's claim lives in the cluster: no cluster, no cleanup
    assert "no cluster to keep slot claims in: no kubeconfig found" in output
    assert pulumi_double.stacks() == ["ai-slot-3"]


def test_the_environments_kube_context_is_used(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "examples" / "project-example", project)
    services = project / "services.yaml"
    text = services.read_text()
    services.write_text(
        text.replace("  ai:\n    from: ai-staging\n", "  ai:\n    from: ai-staging\n    kubeContext: slots\n")
    )
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "slots", "cluster": {"server": kube_api.url}},
            {"name": "elsewhere", "cluster": {"server": "http://127.0.0.1:9"}},
        ],
        "users": [{"name": "u", "user": {"token": CI_TOKEN}}],
        "contexts": [
            {"name": "slots", "context": {"cluster": "slots", "user": "u"}},
            {"name": "elsewhere", "context": {"cluster": "elsewhere", "user": "u"}},
        ],
        "current-context": "elsewhere",
    }
    (tmp_path / "kubeconfig-2").write_text(json.dumps(config))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig-2"))
    monkeypatch.setenv("DATA_ROOT", str(tmp_path / "data"))
    kube_api.create_namespace("ns-ai-slot-3")
    deployed(pulumi_double, "ai-slot-3")
    code, output = cleanup("--stack", "ai-slot-3", "--project-dir", str(project))
    assert code == 0, output
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3"]


def test_gc_deletes_the_namespaces_of_the_slots_it_removes(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    kube_api.create_namespace("ns-ai-slot-3")
    kube_api.create_namespace("ns-ai-slot-4")
    for number, used in ((3, "2020-01-01T00:00:00Z"), (4, "2999-01-01T00:00:00Z")):
        holder = f"{REPOSITORY}#issue-{number}"
        plant_claim(kube_api, slot=number, holder=holder)
        tags = {"codex:binding": holder, "codex:last-used": used}
        pulumi_double.make_stack(
            f"ai-slot-{number}", tags=tags, resources=3, outputs={"namespace": f"ns-ai-slot-{number}"}
        )
    result = runner.invoke(app, ["ci", "gc", "--older-than", "7d"])
    assert result.exit_code == 0, result.output
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3"]
    assert slot_namespaces(kube_api) == {"ns-ai-slot-4"}
