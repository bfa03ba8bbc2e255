"""``codexctl ci up`` against the pulumi double: the exact invocations, outputs, report and exit codes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.ci.up import UpPolicy, UpRunner
from codex_stacks.ci.workspace import open_workspace
from codex_stacks.cli.app import app
from codex_stacks.offline.targets import repair_targets
from tests.ci.conftest import REPO_ROOT, PulumiDouble, read_outputs

runner = CliRunner()
PROJECT = REPO_ROOT / "examples" / "project-example"
FAST = ["--backoff", "0.01", "--cancel-grace", "0.3"]


def up(tmp_path: Path, *args: str) -> tuple[int, str]:
    report = tmp_path / "report" / "infra-report.json"
    result = runner.invoke(app, ["ci", "up", "--report", str(report), *FAST, *args])
    return result.exit_code, result.output


def ups(double: PulumiDouble) -> list[list[str]]:
    return [c for c in double.calls() if c[:1] == ["up"]]


def mode_sets(double: PulumiDouble) -> list[str]:
    return [c[-1] for c in double.calls() if c[:3] == ["config", "set", "codex:mode"]]


def targets_of(call: list[str]) -> list[str]:
    return [call[i + 1] for i, arg in enumerate(call) if arg == "--target"]


@pytest.fixture(scope="module")
def repair_set() -> list[str]:
    return repair_targets("ai-slot-3", project_dir=PROJECT.resolve())


def test_success_sets_mode_explicitly_and_reports_ready(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 0, output
    commands = pulumi_double.commands()
    assert commands.index("config set") < commands.index("up")
    assert mode_sets(pulumi_double) == ["normal"]
    config = pulumi_double.read("ai-slot-3", "config")
    assert config == {"codex:mode": "normal", "codex:projectDir": str(PROJECT.resolve())}
    [call] = ups(pulumi_double)
    assert call[:3] == ["up", "--yes", "--skip-preview"]
    assert "--target" not in call
    assert call[call.index("--stack") + 1] == "ai-slot-3"
    assert read_outputs(github_files[0]) == {
        "stack": "ai-slot-3",
        "mode": "normal",
        "result": "succeeded",
        "infra_ready": "true",
        "attempts": "1",
        "failed_components": "",
        "report": str(tmp_path / "report" / "infra-report.json"),
    }
    report = json.loads((tmp_path / "report" / "infra-report.json").read_text())
    assert report["healthy"] is True
    assert "succeeded" in github_files[1].read_text()


def test_fresh_stack_is_created(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    code, output = up(tmp_path, "--stack", "ai-staging")
    assert code == 0, output
    assert ["stack", "init", "ai-staging"] in pulumi_double.calls()
    assert pulumi_double.stacks() == ["ai-staging"]


def test_lock_conflicts_are_retried(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pulumi_double.script(up=["locked", "locked"])
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "3")
    assert code == 0, output
    assert len(ups(pulumi_double)) == 3
    outputs = read_outputs(github_files[0])
    assert outputs["attempts"] == "3"
    assert outputs["result"] == "succeeded"


def test_retries_are_bounded_and_failure_is_one_line(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pulumi_double.script(up=["locked"] * 10)
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "2")
    assert code == 1
    assert len(ups(pulumi_double)) == 3
    assert "Traceback" not in output
    assert [line for line in output.splitlines() if line.startswith("error:")] == [
        line for line in output.splitlines() if "up failed in normal mode" in line
    ]
    outputs = read_outputs(github_files[0])
    assert outputs["result"] == "failed"
    assert outputs["infra_ready"] == "false"


def test_interrupted_run_is_refreshed_before_the_retry(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.script(up=["pending"])
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "2")
    assert code == 0, output
    commands = [c for c in pulumi_double.commands() if c in ("up", "refresh")]
    assert commands == ["up", "refresh", "up"]
    [refresh] = [c for c in pulumi_double.calls() if c[:1] == ["refresh"]]
    assert "--clear-pending-creates" in refresh
    assert "--yes" in refresh


def test_pending_operations_without_refresh_keep_failing(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """The double's pending state is real: a plain retry would not get past it (the refresh matters)."""
    pulumi_double.make_stack("ai-slot-3")
    (pulumi_double.state / "stacks" / "ai-slot-3" / "state.json").write_text(
        json.dumps({"resources": 3, "pending": True, "updates": 1})
    )
    code, _ = up(tmp_path, "--stack", "ai-slot-3", "--retries", "0")
    assert code == 1
    assert pulumi_double.read("ai-slot-3", "state")["pending"] is True
    assert [c for c in pulumi_double.commands() if c in ("up", "refresh")] == ["up"]


def test_program_errors_are_not_retried(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.script(up=["broken"] * 5)
    code, _ = up(tmp_path, "--stack", "ai-slot-3", "--retries", "3")
    assert code == 1
    assert len(ups(pulumi_double)) == 1


def test_failed_update_without_fallback_fails(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pulumi_double.script(up=["fail:postgres"] * 5)
    code, _ = up(tmp_path, "--stack", "ai-slot-3", "--retries", "1")
    assert code == 1
    assert len(ups(pulumi_double)) == 2
    outputs = read_outputs(github_files[0])
    assert outputs["failed_components"] == "postgres"
    assert outputs["infra_ready"] == "false"
    assert mode_sets(pulumi_double) == ["normal"]


def test_fallback_repair_runs_the_repair_set_with_its_targets(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path, repair_set: list[str]
) -> None:
    pulumi_double.script(up=["fail:web-frontend,postgres", "fail:web-frontend,postgres"])
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "1", "--fallback-repair")
    assert code == 0, output
    normal_1, normal_2, repair = ups(pulumi_double)
    assert targets_of(normal_1) == targets_of(normal_2) == []
    assert targets_of(repair) == repair_set
    assert any("::codex-agent" in urn for urn in repair_set)
    assert mode_sets(pulumi_double) == ["normal", "repair"]
    assert pulumi_double.read("ai-slot-3", "config")["codex:mode"] == "repair"
    outputs = read_outputs(github_files[0])
    assert outputs["result"] == "repaired"
    assert outputs["infra_ready"] == "false"
    assert outputs["mode"] == "repair"
    assert outputs["failed_components"] == "postgres,web-frontend"
    report = json.loads((tmp_path / "report" / "infra-report.json").read_text())
    assert report["healthy"] is False
    assert report["failed"] == [
        {"component": "postgres", "reason": "postgres failed to become ready"},
        {"component": "web-frontend", "reason": "web-frontend failed to become ready"},
    ]


def test_explicit_repair_mode_targets_the_repair_set(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path, repair_set: list[str]
) -> None:
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--mode", "repair")
    assert code == 0, output
    [call] = ups(pulumi_double)
    assert targets_of(call) == repair_set
    assert mode_sets(pulumi_double) == ["repair"]
    assert read_outputs(github_files[0])["infra_ready"] == "false"


def test_normal_run_after_repair_sets_normal_again(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.make_stack("ai-slot-3")
    (pulumi_double.state / "stacks" / "ai-slot-3" / "config.json").write_text(json.dumps({"codex:mode": "repair"}))
    code, _ = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 0
    assert pulumi_double.read("ai-slot-3", "config")["codex:mode"] == "normal"


def test_soft_deadline_cancels_instead_of_killing(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The double ignores SIGINT here: after the grace period ``pulumi cancel`` must end the update."""
    pulumi_double.script(up=["hang"])
    monkeypatch.setenv("PULUMI_DOUBLE_IGNORE_INT", "1")
    started = time.monotonic()
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--deadline", "1.5", "--retries", "3")
    assert time.monotonic() - started < 15
    assert code == 1
    assert "cancelled at its deadline" in output
    assert len(ups(pulumi_double)) == 1  # no retry after the deadline
    [cancel] = [c for c in pulumi_double.calls() if c[:1] == ["cancel"]]
    assert "ai-slot-3" in cancel
    assert pulumi_double.commands().index("cancel") > pulumi_double.commands().index("up")
    assert read_outputs(github_files[0])["result"] == "deadline"


def test_soft_deadline_interrupts_the_cli_gracefully(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """A CLI that honours Ctrl-C stops on the interrupt alone: no ``pulumi cancel`` needed."""
    pulumi_double.script(up=["hang-int"])
    code, _ = up(tmp_path, "--stack", "ai-slot-3", "--deadline", "0.8", "--cancel-grace", "5")
    assert code == 1
    assert not [c for c in pulumi_double.calls() if c[:1] == ["cancel"]]


def test_backoff_doubles_between_attempts(pulumi_double: PulumiDouble) -> None:
    pulumi_double.script(up=["locked", "locked", "locked"])
    workspace, command = open_workspace()
    waits: list[float] = []
    outcome = UpRunner(
        workspace=workspace,
        command=command,
        stack="ai-slot-3",
        project_dir=PROJECT,
        policy=UpPolicy(retries=3, backoff=2.0),
        repair_targets=list,
        sleep=waits.append,
    ).run(mode="normal", fallback_repair=False)
    assert outcome.result == "succeeded"
    assert waits == [2.0, 4.0, 8.0]
    assert [a.outcome for a in outcome.attempts] == ["locked", "locked", "locked", "succeeded"]


def test_bad_mode_and_duration_are_clear_errors(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--mode", "fix")
    assert code == 2
    assert "unknown mode 'fix'" in output
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--deadline", "soon")
    assert code == 2
    assert "invalid duration 'soon'" in output
    assert not ups(pulumi_double)


def test_console_script_failure_is_one_clear_line(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """The installed ``codexctl`` as a workflow runs it: exit 1, one ``error:`` line, no traceback."""
    import os
    import subprocess
    import sys

    pulumi_double.script(up=["fail:redis"])
    output = tmp_path / "github_output"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("codexctl")), "ci", "up", "--stack", "ai-slot-3", "--retries", "0"],
        cwd=tmp_path,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "up failed in normal mode (redis)" in errors[0]
    assert "Traceback" not in done.stderr
    assert "failed_components=redis" in output.read_text().splitlines()
    assert (tmp_path / ".codex-ci" / "ai-slot-3" / "infra-report.json").is_file()


def test_up_continues_past_a_failing_group(pulumi_double: PulumiDouble, tmp_path: Path, repair_set: list[str]) -> None:
    """SPEC §4.3: one failing group does not hold back the others; pulumi only does that with the flag."""
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 0, output
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--mode", "repair")
    assert code == 0, output
    normal, repair = ups(pulumi_double)
    assert "--continue-on-error" in normal
    assert "--continue-on-error" in repair
    assert targets_of(repair) == repair_set


@pytest.mark.parametrize(
    ("stack", "args", "message"),
    [
        ("prod-typo", [], "stack 'prod-typo' means environment 'prod-typo'"),
        ("ai-slot-99", [], "slot 99 is out of range"),
        ("ai-repair", [], "runs only in repair mode"),
    ],
)
def test_unknown_stack_fails_locally_before_the_backend(
    pulumi_double: PulumiDouble,
    github_files: tuple[Path, Path],
    tmp_path: Path,
    stack: str,
    args: list[str],
    message: str,
) -> None:
    code, output = up(tmp_path, "--stack", stack, *args)
    assert code == 2
    assert message in output
    assert "Traceback" not in output
    assert pulumi_double.calls() == []  # no stack init, no config set, not even a version check
    assert pulumi_double.stacks() == []
    assert github_files[0].read_text() == ""


def test_the_stack_config_file_is_read_for_the_local_check(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """A stack named freely but configured to an environment (codex:env) is not a typo."""
    program = tmp_path / "program"
    (program / "stacks").mkdir(parents=True)
    (program / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (program / "stacks" / "Pulumi.dev-eu.yaml").write_text("config:\n  codex:env: dev\n")
    code, output = up(tmp_path, "--stack", "dev-eu", "--program-dir", str(program))
    assert code == 0, output
    assert len(ups(pulumi_double)) == 1


def test_pulumi_output_is_streamed_under_plain_step_titles(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """Off a terminal (a runner's log) the title is a plain line, and pulumi's lines come as they are printed."""
    pulumi_double.script(up=["fail:redis"])
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "1")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == "pulumi up ai-slot-3 (normal) …"
    assert "· normal up of ai-slot-3: attempt 1/2" in lines
    assert "  error: update failed" in lines  # the failed attempt's own output, indented
    assert "  up of ai-slot-3 done" in lines
    assert lines.index("  error: update failed") < lines.index("· normal up of ai-slot-3: attempt 2/2")
    assert not [line for line in lines if line.startswith("error:")]


def test_access_token_error_hints_at_the_backend_url(
    pulumi_double: PulumiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULUMI_BACKEND_URL")
    monkeypatch.setenv("PULUMI_DOUBLE_DOWN", "1")
    monkeypatch.setenv(
        "PULUMI_DOUBLE_DOWN_MESSAGE",
        "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions",
    )
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 1
    assert "pulumi: PULUMI_ACCESS_TOKEN must be set" in output
    assert "hint: set PULUMI_BACKEND_URL" in output
    monkeypatch.setenv("PULUMI_BACKEND_URL", "file:///nowhere")
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 1
    assert "PULUMI_BACKEND_URL" not in output


def test_missing_pulumi_cli_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An outside system missing, not bad input: exit 1 (exit 2 stays for bad options and files)."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 1
    assert "the pulumi CLI is not on PATH" in output
