"""``ci cleanup`` when the slot's namespace stays Terminating: the error says what keeps it and
what to do (codex_stacks/ci/cleanup.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import REPOSITORY, PulumiDouble
from tests.ci.test_ensure_slot import plant_claim
from tests.support.kube_double import KubeDouble

runner = CliRunner()


def test_a_namespace_held_by_a_finalizer_names_the_way_out(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_ROOT", str(tmp_path / "data"))
    kube_api.create_namespace("ns-ai-slot-3")
    held = {"name": "held", "namespace": "ns-ai-slot-3", "finalizers": ["example.com/never"]}
    kube_api.seed({"apiVersion": "v1", "kind": "ConfigMap", "metadata": held})  # nobody removes the finalizer
    plant_claim(kube_api, slot=3, holder=f"{REPOSITORY}#issue-7")
    pulumi_double.make_stack("ai-slot-3", resources=5, outputs={"namespace": "ns-ai-slot-3"})

    result = runner.invoke(app, ["ci", "cleanup", "--stack", "ai-slot-3", "--namespace-timeout", "0.2"])

    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "ai-slot-3 and its claim are kept until it is gone" in text
    assert "hint: look for finalizers (kubectl get namespace -o yaml), then run the cleanup again" in text


def test_destroy_asks_pulumi_for_plain_text(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The destroy's output goes to a CI log: ``--color never``, one of the values the real CLI
    takes (always, never, raw, auto: pkg/cmd/pulumi's colorFlag.Set refuses any other)."""
    monkeypatch.setenv("DATA_ROOT", str(tmp_path / "data"))
    pulumi_double.make_stack("ai-slot-3", resources=3, outputs={"namespace": "ns-ai-slot-3"})

    result = runner.invoke(app, ["ci", "cleanup", "--stack", "ai-slot-3", "--namespace-timeout", "5"])

    assert result.exit_code == 0, result.output
    [destroy] = [call for call in pulumi_double.calls() if call[:1] == ["destroy"]]
    assert destroy[destroy.index("--color") + 1] == "never"
    assert pulumi_double.stacks() == []
