"""``ci prompt`` with a cluster that cannot be reached: an outside failure (exit 1), one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.support.kube_double import KubeDouble

runner = CliRunner()


def test_an_unreachable_api_server_is_exit_1_not_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with KubeDouble() as gone:
        config = gone.kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("CODEX_PROGRAM_DIR", raising=False)
    result = runner.invoke(
        app,
        ["ci", "prompt", "--stack", "ai-slot-3", "--kind", "dev_issue", "--issue", "42"],
    )
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "cannot reach the Kubernetes API server" in errors[0]
    assert "Traceback" not in result.output
