"""``codexctl preview --diff`` with the real Pulumi CLI and cluster: ``pytest -m e2e`` (skipped
when either is missing). A throwaway file backend and slot 8 of the example; cleans up after itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, REPO_ROOT
from tests.e2e.test_real_cluster import _cluster_available

pytestmark = pytest.mark.e2e

STACK = "ai-slot-8"
CODEXCTL = Path(sys.executable).parent / "codexctl"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if not _cluster_available():
        pytest.skip("e2e needs the pulumi CLI and a kubeconfig (KUBECONFIG or ~/.kube/config)")
    from pulumi import automation as auto

    backend = tmp_path_factory.mktemp("state")
    env = {"PULUMI_BACKEND_URL": f"file://{backend}", "PULUMI_CONFIG_PASSPHRASE": "e2e"}
    workspace = auto.LocalWorkspace(work_dir=str(REPO_ROOT), env_vars=env)
    stack = auto.Stack.create_or_select(STACK, workspace)
    stack.set_config("codex:projectDir", auto.ConfigValue(str(EXAMPLE)))
    stack.set_config("codex:mode", auto.ConfigValue("normal"))
    try:
        stack.up(on_output=print)
        yield env
    finally:
        stack.destroy(on_output=print)
        workspace.remove_stack(STACK)


def test_a_deployed_stack_previews_without_creates_or_deletes(deployed: dict[str, str], tmp_path: Path) -> None:
    done = subprocess.run(
        [str(CODEXCTL), "preview", "-s", STACK, "--diff", "--output", "json", "--out", str(tmp_path / "pv")],
        cwd=REPO_ROOT,
        env={**os.environ, **deployed, "CODEX_PROGRAM_DIR": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    diff = json.loads(done.stdout)["diff"]
    assert diff["counts"]["create"] == diff["counts"]["delete"] == 0
    assert diff["counts"]["same"] > 30
