"""``ci up`` after an interrupted attempt (codex_stacks/ci/up.py): the refresh that clears the
pending operations streams what pulumi prints on stderr into the step's log, every line of it,
and a failed refresh does not stop the next attempt. (Every call fails before the engine runs, as
when the state backend is away, so no program runs and the test stays fast.)"""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from codex_stacks.ci.settings import read_settings
from codex_stacks.ci.up import UpPolicy, UpRunner
from codex_stacks.ci.workspace import open_workspace
from codex_stacks.cli.app import app
from tests.ci.conftest import PulumiDouble, read_outputs

runner = CliRunner()


def test_a_refresh_prints_its_errors_in_full_and_the_next_attempt_still_runs(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pulumi_double.script(
        up=[{"error": "update canceled"}, {"error": "the state store answered 503"}],
        refresh=[{"error": "the state store answered 503\nthe object store is being rebalanced, try again"}],
    )

    result = runner.invoke(
        app,
        ["ci", "up", "--stack", "ai-slot-3", "--report", str(tmp_path / "r.json"), "--backoff", "0", "--retries", "1"],
    )

    assert result.exit_code == 1, result.output
    assert [c for c in pulumi_double.commands() if c in ("up", "refresh")] == ["up", "refresh", "up"]
    lines = [line.strip() for line in result.output.splitlines()]
    assert "refresh failed: the state store answered 503" in " ".join(result.output.split())
    assert "the object store is being rebalanced, try again" in lines  # pulumi's own second line
    assert read_outputs(github_files[0])["result"] == "failed"


def test_a_deadline_met_before_the_refresh_ends_names_the_refresh_in_the_report(pulumi_double: PulumiDouble) -> None:
    """The clock passes the deadline while the first (interrupted) attempt runs: the refresh that
    follows is stopped at once, and the report says where the deadline was met."""
    pulumi_double.script(up=[{"error": "update canceled"}])
    program = Path(os.environ["CODEX_PROGRAM_DIR"])
    workspace, command = open_workspace(program_dir=program)
    now = [0.0]

    def progress(line: str) -> None:
        if line.startswith("interrupted:"):  # the first attempt is over: an hour has passed
            now[0] = 3600.0

    outcome = UpRunner(
        workspace=workspace,
        command=command,
        stack="ai-slot-3",
        settings=read_settings("ai-slot-3", program_dir=program, project_dir=None),
        policy=UpPolicy(retries=3, backoff=0.0, deadline=600.0, grace=5.0),
        repair_targets=list,
        progress=progress,
        sleep=lambda _: None,
        clock=lambda: now[0],
    ).run(mode="normal", fallback_repair=False)

    assert outcome.result == "deadline"
    assert outcome.report().summary == (
        "ai-slot-3: up was stopped at its deadline in normal mode. deadline reached in refresh"
    )
    assert [c for c in pulumi_double.commands() if c in ("up", "refresh")] in (["up"], ["up", "refresh"])
