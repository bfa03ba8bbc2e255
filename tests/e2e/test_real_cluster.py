"""Against a real cluster, with the Pulumi CLI: ``pytest -m e2e`` (skipped when either is missing).

Uses a throwaway file backend and slot 9 of the example project; cleans up after itself.
Never counted as the proof of a feature: the offline tests are.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, REPO_ROOT

pytestmark = pytest.mark.e2e

STACK = "ai-slot-9"
NAMESPACE = "project-example-dev-9"


def _cluster_available() -> bool:
    kubeconfig = Path(os.environ.get("KUBECONFIG", Path.home() / ".kube" / "config"))
    return shutil.which("pulumi") is not None and kubeconfig.exists()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not _cluster_available():
        pytest.skip("e2e needs the pulumi CLI and a kubeconfig (KUBECONFIG or ~/.kube/config)")
    from pulumi import automation as auto

    backend = tmp_path_factory.mktemp("state")
    env = {"PULUMI_BACKEND_URL": f"file://{backend}", "PULUMI_CONFIG_PASSPHRASE": "e2e"}
    workspace = auto.LocalWorkspace(work_dir=str(REPO_ROOT), env_vars=env)
    created = auto.Stack.create_or_select(STACK, workspace)
    created.set_config("codex:projectDir", auto.ConfigValue(str(EXAMPLE)))
    try:
        yield created
    finally:
        created.set_config("codex:mode", auto.ConfigValue("normal"))
        created.destroy(on_output=print)
        workspace.remove_stack(STACK)


def _namespace_objects() -> set[str]:
    from kubernetes import client, config

    config.load_kube_config()
    apps = client.AppsV1Api()
    return {item.metadata.name for item in apps.list_namespaced_deployment(NAMESPACE).items}


def test_up_repair_and_back_to_normal(stack: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi import automation as auto

    assert isinstance(stack, auto.Stack)
    stack.set_config("codex:mode", auto.ConfigValue("normal"))
    stack.up(on_output=print)
    assert {"codex", "postgres", "chat-backend"} <= _namespace_objects()
    from codex_stacks.offline.targets import repair_targets

    targets = repair_targets(STACK, project_dir=EXAMPLE)
    # the offline list (URNs of the mock engine) names resources the real engine deployed, and is
    # the stack's own repairTargets output (URNs of the real engine)
    deployed = {resource["urn"] for resource in stack.export_stack().deployment["resources"]}
    assert set(targets) <= deployed
    assert stack.outputs()["repairTargets"].value == targets
    stack.set_config("codex:mode", auto.ConfigValue("repair"))
    monkeypatch.setenv("CODEX_REPAIR_TARGETED", "1")  # as codexctl ci up says it passes the targets
    result = stack.up(target=targets, on_output=print)
    monkeypatch.delenv("CODEX_REPAIR_TARGETED")
    assert result.summary.resource_changes.get("delete", 0) == 0
    assert "postgres" in _namespace_objects()  # untouched outside the repair set
    stack.set_config("codex:mode", auto.ConfigValue("normal"))
    again = stack.up(on_output=print)
    assert again.summary.resource_changes.get("create", 0) == 0
    assert again.summary.resource_changes.get("replace", 0) == 0


def test_the_literal_repair_command_changes_nothing_outside_the_repair_set(
    stack: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pulumi up -s S -c codex:mode=repair`` with no ``--target`` (docs/repair.md): the program
    registers everything outside the repair set again from the stored plan, so nothing is deleted,
    created or replaced, and the deployments outside the set keep running."""
    from pulumi import automation as auto

    assert isinstance(stack, auto.Stack)
    monkeypatch.delenv("CODEX_REPAIR_TARGETED", raising=False)  # the literal command passes no targets
    stack.set_config("codex:mode", auto.ConfigValue("normal"))
    stack.up(on_output=print)
    before = _namespace_objects()
    stack.set_config("codex:mode", auto.ConfigValue("repair"))
    result = stack.up(on_output=print)
    changes = result.summary.resource_changes or {}
    assert changes.get("delete", 0) == 0
    assert changes.get("create", 0) == 0
    assert changes.get("replace", 0) == 0
    assert _namespace_objects() == before
