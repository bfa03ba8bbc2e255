"""``ci cleanup``/``ci gc`` delete a slot's namespace (the program retains it on delete) through the
Kubernetes API, against the loopback API double; never for staging/dev/prod stacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import REPO_ROOT, PulumiDouble, deleted_namespaces, read_outputs, slot_namespaces
from tests.support.kube_double import KubeDouble

runner = CliRunner()


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "data"
    (root / "slots" / "3" / "postgres").mkdir(parents=True)
    monkeypatch.setenv("DATA_ROOT", str(root))
    return root


def cleanup(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ci", "cleanup", *args])
    return result.exit_code, result.output


def test_namespace_is_deleted_before_the_stack_is_removed(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path, github_files: tuple[Path, Path]
) -> None:
    """Terminating for a while, then gone: cleanup waits for it and says so."""
    kube_api.create_namespace("ns-ai-slot-3")
    kube_api.namespace_finalize_ticks = 3  # the namespace controller needs the DELETE and two more requests
    pulumi_double.make_stack("ai-slot-3", resources=5)
    code, output = cleanup("--stack", "ai-slot-3", "--namespace-timeout", "30s")
    assert code == 0, output
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3"]
    reads = [(request.path, request.status) for request in kube_api.calls("GET")]
    assert reads == [("/api/v1/namespaces/ns-ai-slot-3", status) for status in (200, 200, 404)]
    assert slot_namespaces(kube_api) == set()
    assert "namespace ns-ai-slot-3 deleted" in output
    assert pulumi_double.stacks() == []
    assert not (data_root / "slots" / "3").exists()
    assert read_outputs(github_files[0])["namespace"] == "ns-ai-slot-3"
    # destroy first (the outputs were read before it), the namespace, then stack rm
    commands = pulumi_double.commands()
    assert commands.index("stack output") < commands.index("destroy") < commands.index("stack rm")


def test_namespace_already_gone_is_fine(pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path) -> None:
    pulumi_double.make_stack("ai-slot-3", resources=5)
    code, output = cleanup("--stack", "ai-slot-3")
    assert code == 0, output
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3"]
    assert "namespace ns-ai-slot-3 already gone" in output
    assert pulumi_double.stacks() == []


def test_namespace_that_stays_terminating_is_reported_not_waited_for_forever(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    kube_api.create_namespace("ns-ai-slot-3")
    held = {"name": "held", "namespace": "ns-ai-slot-3", "finalizers": ["example.com/never"]}
    kube_api.seed({"apiVersion": "v1", "kind": "ConfigMap", "metadata": held})  # nobody removes the finalizer
    pulumi_double.make_stack("ai-slot-3", resources=5)
    code, output = cleanup("--stack", "ai-slot-3", "--namespace-timeout", "0.3")
    assert code == 0, output
    assert "namespace ns-ai-slot-3 still terminating after 0s" in output
    assert pulumi_double.stacks() == []


def test_keep_namespace_opts_out(pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path) -> None:
    kube_api.create_namespace("ns-ai-slot-3")
    pulumi_double.make_stack("ai-slot-3", resources=5)
    code, output = cleanup("--stack", "ai-slot-3", "--keep-namespace")
    assert code == 0, output
    assert kube_api.requests == []
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
    """The cleanup workflow destroys with pulumi/actions (remove: true) first: the namespace of the
    slot as services.yaml names it goes then."""
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
    pulumi_double.make_stack("ai-slot-3", resources=5)
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
    pulumi_double.make_stack("ai-slot-3", resources=5)
    code, output = cleanup("--stack", "ai-slot-3")
    assert code == 1
    assert "deleting namespace ns-ai-slot-3: cannot reach the cluster" in output
    assert "Traceback" not in output


def test_no_kubeconfig_is_a_clear_error(
    pulumi_double: PulumiDouble, tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    pulumi_double.make_stack("ai-slot-3", resources=5)
    code, output = cleanup("--stack", "ai-slot-3")
    assert code == 2
    assert "no usable kubeconfig" in output
    assert "--keep-namespace" in output
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
        "users": [{"name": "u", "user": {"token": "kube-t0ken"}}],
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
    pulumi_double.make_stack("ai-slot-3", resources=5)
    code, output = cleanup("--stack", "ai-slot-3", "--project-dir", str(project))
    assert code == 0, output
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3"]


def test_gc_deletes_the_namespaces_of_the_slots_it_removes(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    kube_api.create_namespace("ns-ai-slot-3")
    kube_api.create_namespace("ns-ai-slot-4")
    pulumi_double.make_stack("ai-slot-3", tags={"codex:last-used": "2020-01-01T00:00:00Z"}, resources=3)
    pulumi_double.make_stack("ai-slot-4", tags={"codex:last-used": "2999-01-01T00:00:00Z"}, resources=3)
    result = runner.invoke(app, ["ci", "gc", "--older-than", "7d"])
    assert result.exit_code == 0, result.output
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3"]
    assert slot_namespaces(kube_api) == {"ns-ai-slot-4"}
