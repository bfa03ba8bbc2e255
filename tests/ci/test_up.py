"""``codexctl ci up`` against the faithful pulumi double: invocations, the stack's own settings,
retries of transient failures only, one update at a time at the deadline, stale locks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codex_stacks.ci.settings import read_settings
from codex_stacks.ci.up import UpPolicy, UpRunner
from codex_stacks.ci.workspace import open_workspace
from codex_stacks.cli.app import app
from tests.ci.conftest import PROJECT, PulumiDouble, make_program, read_outputs

runner = CliRunner()
FAST = ["--backoff", "0.01", "--cancel-grace", "1"]
CODEXCTL = Path(sys.executable).with_name("codexctl")


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


def stack_file(double: PulumiDouble, stack: str, config: dict[str, str]) -> None:
    """What a team writes into its program's stack file (stacks/Pulumi.<stack>.yaml)."""
    path = double.program / "stacks" / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))


def outputs_of(double: PulumiDouble, stack: str) -> dict[str, object]:
    root = next(r for r in double.resources(stack) if r["type"] == "pulumi:pulumi:Stack")
    return dict(root["outputs"])


def test_success_sets_the_mode_and_leaves_the_project_folder_to_the_stack(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 0, output
    commands = pulumi_double.commands()
    assert commands.index("config set") < commands.index("up")
    assert mode_sets(pulumi_double) == ["normal"]
    assert pulumi_double.config("ai-slot-3") == {"codex:mode": "normal"}  # no projectDir written
    [call] = ups(pulumi_double)
    assert call[:3] == ["up", "--yes", "--skip-preview"]
    assert "--target" not in call
    assert "--continue-on-error" in call
    assert call[call.index("--stack") + 1] == "ai-slot-3"
    assert outputs_of(pulumi_double, "ai-slot-3")["namespace"] == "project-example-dev-3"
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
    tags = pulumi_double.tags("ai-slot-3")
    assert tags["codex:last-result"] == "succeeded"
    assert tags["codex:last-mode"] == "normal"


def test_a_branch_that_is_no_branch_name_is_one_line(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    stack_file(pulumi_double, "ai-slot-3", {"codex:branch": "a..b"})
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 2, output
    assert "codex:branch" in output
    assert "'a..b' is not a usable branch name" in output
    assert "Traceback" not in output
    assert ups(pulumi_double) == []


def test_a_newcomers_project_folder_in_the_stack_file_is_deployed(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """A user points their slot at their project in the stack file and runs ci up without
    --project-dir: their project is deployed, not the bundled example."""
    mine = tmp_path / "my-project"
    shutil.copytree(PROJECT, mine, ignore=shutil.ignore_patterns(".data", ".github"))
    services = mine / "services.yaml"
    services.write_text(services.read_text().replace("project: project-example", "project: newcomer", 1))
    stack_file(pulumi_double, "ai-slot-3", {"codex:projectDir": str(mine)})
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 0, output
    assert outputs_of(pulumi_double, "ai-slot-3")["namespace"] == "newcomer-dev-3"
    assert pulumi_double.config("ai-slot-3")["codex:projectDir"] == str(mine)


def test_an_explicit_project_dir_wins_and_is_saved(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--project-dir", str(PROJECT))
    assert code == 0, output
    assert pulumi_double.config("ai-slot-3")["codex:projectDir"] == str(PROJECT.resolve())


def test_fresh_stack_is_created(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    code, output = up(tmp_path, "--stack", "ai-staging")
    assert code == 0, output
    assert ["stack", "init", "ai-staging"] in pulumi_double.calls()
    assert pulumi_double.stacks() == ["ai-staging"]


def test_a_live_lock_is_waited_for(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """A lock of a running process on this host is never cleared: ci up waits (retries) until it goes."""
    pulumi_double.make_stack("ai-slot-3")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    lock = pulumi_double.plant_lock("ai-slot-3", pid=holder.pid)
    threading.Timer(4.0, lambda: lock.unlink()).start()
    try:
        code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "6", "--backoff", "1")
    finally:
        holder.kill()
    assert code == 0, output
    assert "locked by a running update" in output
    assert "clearing a stale lock" not in output
    assert len(ups(pulumi_double)) >= 2


def test_a_stale_lock_of_a_dead_process_is_cleared_with_a_log_line(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pulumi_double.make_stack("ai-slot-3")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = pulumi_double.plant_lock("ai-slot-3", pid=int(dead.stdout), host=socket.gethostname())
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "2")
    assert code == 0, output
    assert f"clearing a stale lock of ai-slot-3: runner@{socket.gethostname()} (pid {int(dead.stdout)})" in output
    assert "no longer runs on this host" in output
    assert not lock.exists()
    assert read_outputs(github_files[0])["attempts"] == "2"


@pytest.mark.parametrize(("age", "cleared"), [(3600.0, True), (60.0, False)])
def test_another_hosts_lock_is_stale_after_deadline_and_grace(
    pulumi_double: PulumiDouble, tmp_path: Path, age: float, cleared: bool
) -> None:
    pulumi_double.make_stack("ai-slot-3")
    lock = pulumi_double.plant_lock("ai-slot-3", pid=1, host="runner-elsewhere", age=age)
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "1", "--deadline", "20m", "--cancel-grace", "1m")
    assert ("clearing a stale lock" in output) is cleared
    assert lock.exists() is not cleared
    assert code == (0 if cleared else 1), output


def test_locks_are_retried_within_bounds_and_the_failure_is_one_line(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pulumi_double.make_stack("ai-slot-3")
    pulumi_double.plant_lock("ai-slot-3", pid=os.getpid())  # this test process: alive, never stale
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "2")
    assert code == 1
    assert len(ups(pulumi_double)) == 3
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "up failed in normal mode" in errors[0]
    assert read_outputs(github_files[0])["result"] == "failed"


def test_pending_operations_warn_and_the_up_goes_on(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """Current CLIs warn about an earlier run's pending operations and continue (no failure to retry)."""
    pulumi_double.make_stack("ai-slot-3", resources=3)
    path = pulumi_double.stacks_dir() / "ai-slot-3.json"
    data = json.loads(path.read_text())
    resource = data["checkpoint"]["latest"]["resources"][1]
    data["checkpoint"]["latest"]["pending_operations"] = [{"resource": resource, "type": "creating"}]
    path.write_text(json.dumps(data))
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "2")
    assert code == 0, output
    assert "pending operations from previous deployment" in output
    assert [c for c in pulumi_double.commands() if c in ("up", "refresh")] == ["up"]


def test_a_failed_resource_is_not_retried(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pulumi_double.script(up=["fail:data-services"] * 5)
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "3")
    assert code == 1, output
    assert len(ups(pulumi_double)) == 1
    outputs = read_outputs(github_files[0])
    assert outputs["failed_components"] == "data-services"
    assert outputs["infra_ready"] == "false"
    assert mode_sets(pulumi_double) == ["normal"]


def test_a_resource_failing_on_the_network_is_retried(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    message = 'Get "https://10.0.0.1:6443/api": dial tcp 10.0.0.1:6443: connect: connection refused'
    pulumi_double.script(up=[{"fail": ["data-services"], "message": message}])
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "2")
    assert code == 0, output
    assert len(ups(pulumi_double)) == 2


def test_a_backend_network_error_is_retried(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.make_stack("ai-slot-3")
    pulumi_double.script(
        up=[{"error": "read .pulumi/stacks/codex/ai-slot-3.json: dial tcp 10.1.1.1:9000: i/o timeout"}]
    )
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "2")
    assert code == 0, output
    assert len(ups(pulumi_double)) == 2


def test_a_program_error_is_not_retried_and_falls_back(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """A broken manifest outside the repair set: the real program fails, once; the repair set,
    which does not render it, comes up."""
    broken = tmp_path / "broken"
    shutil.copytree(PROJECT, broken, ignore=shutil.ignore_patterns(".data", ".github"))
    manifest = broken / "services" / "chat_backend" / "deploy.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ nope.missing }}}\n")
    code, output = up(
        tmp_path, "--stack", "ai-slot-3", "--retries", "3", "--fallback-repair", "--project-dir", str(broken)
    )
    assert code == 0, output
    assert [c[0] for c in ups(pulumi_double)] == ["up", "up"]
    normal, repair = ups(pulumi_double)
    assert targets_of(normal) == []
    assert targets_of(repair)
    assert "only the repair set was deployed" in output


def test_fallback_repair_keeps_independent_groups_and_targets_the_repair_set(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pulumi_double.script(up=["fail:web-frontend,data-services"])
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "1", "--fallback-repair")
    assert code == 0, output
    normal, repair = ups(pulumi_double)
    assert targets_of(normal) == []
    assert any("::codex-agent" in urn for urn in targets_of(repair))
    assert mode_sets(pulumi_double) == ["normal", "repair"]
    assert pulumi_double.config("ai-slot-3")["codex:mode"] == "repair"
    outputs = read_outputs(github_files[0])
    assert outputs["result"] == "repaired"
    assert outputs["infra_ready"] == "false"
    assert outputs["mode"] == "repair"
    assert outputs["failed_components"] == "data-services,web-frontend"
    report = json.loads((tmp_path / "report" / "infra-report.json").read_text())
    assert report["failed"] == [
        {
            "component": "data-services",
            "reason": "data-services failed to become ready",
            "kind": "component",
            "step": "",
        },
        {"component": "web-frontend", "reason": "web-frontend failed to become ready", "kind": "component", "step": ""},
    ]
    # --continue-on-error: groups that do not depend on the failed ones came up in the normal run
    names = {r["urn"].rsplit("::", 1)[-1].split("/", 1)[0] for r in pulumi_double.resources("ai-slot-3")}
    assert "observability" in names


def test_repair_targets_use_the_stacks_own_namespace(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """The double checks --target against what the program registers with the stack's config: a
    target list computed without the stack file's codex:namespace would not be found."""
    stack_file(pulumi_double, "ai-slot-3", {"codex:namespace": "custom-ns"})
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--mode", "repair")
    assert code == 0, output
    [call] = ups(pulumi_double)
    assert any("custom-ns" in urn for urn in targets_of(call))
    assert not any("project-example-dev-3" in urn for urn in targets_of(call))


def test_repair_targets_use_the_programs_project_name(
    pulumi_double: PulumiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = make_program(tmp_path / "team-program", name="team-a")
    monkeypatch.setenv("CODEX_PROGRAM_DIR", str(program))
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--mode", "repair")
    assert code == 0, output
    [call] = ups(pulumi_double)
    assert targets_of(call)
    assert all(urn.startswith("urn:pulumi:ai-slot-3::team-a::") for urn in targets_of(call))
    assert pulumi_double.stacks("team-a") == ["ai-slot-3"]


def test_normal_run_after_repair_sets_normal_again(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.make_stack("ai-slot-3")
    stack_file(pulumi_double, "ai-slot-3", {"codex:mode": "repair"})
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 0, output
    assert pulumi_double.config("ai-slot-3")["codex:mode"] == "normal"


def test_a_repair_only_environment_runs_in_repair_mode_by_default(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    code, output = up(tmp_path, "--stack", "ai-repair")
    assert code == 0, output
    assert mode_sets(pulumi_double) == ["repair"]
    [call] = ups(pulumi_double)
    assert targets_of(call)
    code, output = up(tmp_path, "--stack", "ai-repair", "--mode", "normal")
    assert code == 2
    assert "--mode normal: stack ai-repair's environment runs only in repair mode" in output
    assert "leave --mode out, or pass --mode repair" in output


# ------------------------------------------------------------------------------------------
# The deadline: one update at a time


def test_at_the_deadline_pulumi_is_interrupted_and_nothing_starts_while_it_runs(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """The CLI's in-flight step ignores the first SIGINT (it waits for it, as the engine does):
    the second SIGINT ends it; only then do the refresh and the repair fallback start."""
    pulumi_double.script(up=["slow:120"])
    started = time.monotonic()
    code, output = up(
        tmp_path,
        "--stack",
        "ai-slot-3",
        "--deadline",
        "60",
        "--fallback-reserve",
        "45",
        "--cancel-grace",
        "2",
        "--fallback-repair",
    )
    assert time.monotonic() - started < 100
    assert code == 0, output
    assert "second SIGINT" in output
    assert pulumi_double.overlaps() == []  # no up, refresh or cancel began while the first up lived
    commands = [c for c in pulumi_double.commands() if c in ("up", "refresh", "cancel")]
    assert commands == ["up", "refresh", "up"]
    outputs = read_outputs(github_files[0])
    assert outputs["result"] == "repaired"


def test_a_graceful_cancel_needs_one_sigint(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.script(up=["slow:3"])
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--deadline", "4", "--cancel-grace", "60", "--retries", "3")
    assert code == 1
    assert "second SIGINT" not in output
    assert "up was stopped at its deadline" in output
    assert len(ups(pulumi_double)) == 1
    assert "cancel" not in pulumi_double.commands()
    assert pulumi_double.locks("ai-slot-3") == []  # the CLI released its lock


def test_a_hung_cli_is_killed_and_its_stale_lock_cleared_before_the_fallback(
    pulumi_double: PulumiDouble, tmp_path: Path
) -> None:
    pulumi_double.script(up=[{"hang": 300}])
    code, output = up(
        tmp_path,
        "--stack",
        "ai-slot-3",
        "--deadline",
        "60",
        "--fallback-reserve",
        "45",
        "--cancel-grace",
        "1",
        "--fallback-repair",
    )
    assert code == 0, output
    assert "killing it (SIGKILL" in output
    assert "clearing a stale lock of ai-slot-3" in output
    assert pulumi_double.overlaps() == []
    assert "cancel" not in pulumi_double.commands()


def test_sigterm_to_codexctl_reaches_pulumi_and_nothing_else_starts(
    pulumi_double: PulumiDouble, tmp_path: Path
) -> None:
    pulumi_double.script(up=["slow:5"])
    process = subprocess.Popen(
        [str(CODEXCTL), "ci", "up", "--stack", "ai-slot-3", "--fallback-repair", "--retries", "3"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pulumi_double.wait_in_step("ai-slot-3")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "SIGTERM received; cancelling" in stderr  # pulumi got it and cancelled gracefully
    assert "was interrupted" in stderr
    assert [c for c in pulumi_double.commands() if c in ("up", "refresh", "cancel")] == ["up"]
    assert pulumi_double.locks("ai-slot-3") == []
    assert pulumi_double.overlaps() == []


def test_backoff_doubles_with_jitter(pulumi_double: PulumiDouble) -> None:
    pulumi_double.make_stack("ai-slot-3")
    pulumi_double.plant_lock("ai-slot-3", pid=os.getpid())
    program = Path(os.environ["CODEX_PROGRAM_DIR"])
    workspace, command = open_workspace(program_dir=program)
    waits: list[float] = []
    outcome = UpRunner(
        workspace=workspace,
        command=command,
        stack="ai-slot-3",
        settings=read_settings("ai-slot-3", program_dir=program, project_dir=None),
        policy=UpPolicy(retries=3, backoff=2.0),
        repair_targets=list,
        sleep=waits.append,
        clock=lambda: 0.0,
        jitter=iter([0.0, 1.0, 0.5]).__next__,
    ).run(mode="normal", fallback_repair=False)
    assert outcome.result == "failed"
    assert waits == [1.0, 4.0, 6.0]  # base·2^n halved, plus up to the other half
    assert [a.outcome for a in outcome.attempts] == ["locked"] * 4


def test_bad_mode_and_duration_are_clear_errors(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--mode", "fix")
    assert code == 2
    assert "unknown mode 'fix'" in output
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--deadline", "soon")
    assert code == 2
    assert "invalid duration 'soon'" in output
    assert not ups(pulumi_double)


def test_json_output(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.script(up=["fail:chat-backend"])
    result = runner.invoke(app, ["ci", "up", "--stack", "ai-slot-3", *FAST, "--output", "json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["result"] == "failed"
    assert document["failed"] == [
        {"component": "chat-backend", "reason": "chat-backend failed to become ready", "kind": "component", "step": ""}
    ]
    assert document["attempts"] == [{"mode": "normal", "number": 1, "outcome": "resource", "message": "update failed"}]


def test_console_script_failure_is_one_clear_line(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.script(up=["fail:chat-backend"])
    output = tmp_path / "github_output"
    done = subprocess.run(
        [str(CODEXCTL), "ci", "up", "--stack", "ai-slot-3", "--retries", "0"],
        cwd=tmp_path,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "up failed in normal mode (chat-backend)" in errors[0]
    assert "Traceback" not in done.stderr
    assert "failed_components=chat-backend" in output.read_text().splitlines()
    assert (tmp_path / ".codex-ci" / "ai-slot-3" / "infra-report.json").is_file()


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("prod-typo", "stack 'prod-typo' means environment 'prod-typo'"),
        ("ai-slot-99", "slot 99 is out of range"),
    ],
)
def test_unknown_stack_fails_locally_before_the_backend(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], tmp_path: Path, stack: str, message: str
) -> None:
    code, output = up(tmp_path, "--stack", stack)
    assert code == 2
    assert message in output
    assert "Traceback" not in output
    assert pulumi_double.calls() == []
    assert github_files[0].read_text() == ""


def test_the_stack_config_file_is_read_for_the_local_check(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """A stack named freely but configured to an environment (codex:env) is not a typo."""
    stack_file(pulumi_double, "dev-eu", {"codex:env": "dev"})
    code, output = up(tmp_path, "--stack", "dev-eu")
    assert code == 0, output
    assert len(ups(pulumi_double)) == 1


def test_pulumi_output_is_streamed_under_plain_step_titles(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    pulumi_double.script(
        up=[{"fail": ["chat-backend"], "message": "dial tcp 10.0.0.1:6443: connect: connection refused"}]
    )
    code, output = up(tmp_path, "--stack", "ai-slot-3", "--retries", "1")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == "pulumi up ai-slot-3 (normal) …"
    assert "· normal up of ai-slot-3: attempt 1/2" in lines
    assert "  Updating (ai-slot-3):" in lines
    assert lines.index("  Updating (ai-slot-3):") < lines.index("· normal up of ai-slot-3: attempt 2/2")
    assert not [line for line in lines if line.startswith("error:")]


def test_access_token_error_hints_at_the_backend_url(
    pulumi_double: PulumiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULUMI_BACKEND_URL")
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 1
    assert "pulumi: PULUMI_ACCESS_TOKEN must be set" in output
    assert "hint: set PULUMI_BACKEND_URL" in output


def test_missing_pulumi_cli_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("CODEX_PROGRAM_DIR", str(make_program(tmp_path / "program")))
    code, output = up(tmp_path, "--stack", "ai-slot-3")
    assert code == 1
    assert "the pulumi CLI is not on PATH" in output
