"""The Pulumi CLI as codexctl runs it (codex_stacks/ci/workspace.py): each call gets the
environment the SDK's own command runner gives it (pulumi/automation/_cmd.py: the CLI is told it
runs under the Automation API, and not to look for updates), recorded by the CLI double."""

from __future__ import annotations

import os
from pathlib import Path

from codex_stacks.ci.workspace import open_workspace
from tests.ci.conftest import PulumiDouble


def test_every_cli_call_says_it_comes_from_the_automation_api(pulumi_double: PulumiDouble) -> None:
    pulumi_double.make_stack("ai-slot-3")
    workspace, _ = open_workspace(program_dir=Path(os.environ["CODEX_PROGRAM_DIR"]))

    names = [summary.name for summary in workspace.list_stacks()]

    assert "ai-slot-3" in names
    records = [r for r in pulumi_double.records() if r["argv"][:1] != ["version"]]
    assert records
    for record in records:
        assert record["env"].get("PULUMI_AUTOMATION_API") == "true", record["argv"]
        assert record["env"].get("PULUMI_SKIP_UPDATE_CHECK") == "true", record["argv"]
