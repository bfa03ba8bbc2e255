"""``codexctl ci ensure-slot``: reuse, lowest free, no free slot, and race-freedom across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import REPO_ROOT, PulumiDouble, read_outputs

runner = CliRunner()


def ensure(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ci", "ensure-slot", *args])
    return result.exit_code, result.output


def test_claims_lowest_free_slot_and_binds_it(pulumi_double: PulumiDouble, github_files: tuple[Path, Path]) -> None:
    pulumi_double.make_stack("ai-slot-1", tags={"codex:binding": "issue-3"})
    code, output = ensure("--issue", "7", "--max", "5")
    assert code == 0, output
    assert output.strip().splitlines()[-1] == "ai-slot-2"
    assert pulumi_double.read("ai-slot-2", "tags")["codex:binding"] == "issue-7"
    assert ["stack", "init", "ai-slot-2"] in pulumi_double.calls()
    outputs = read_outputs(github_files[0])
    assert outputs == {"stack": "ai-slot-2", "slot": "2", "reused": "false"}
    assert "ai-slot-2" in github_files[1].read_text()


def test_reuses_the_slot_already_bound(pulumi_double: PulumiDouble, github_files: tuple[Path, Path]) -> None:
    pulumi_double.make_stack("ai-slot-1", tags={"codex:binding": "issue-3"})
    pulumi_double.make_stack("ai-slot-4", tags={"codex:binding": "pr-9"})
    code, output = ensure("--pr", "9", "--max", "5")
    assert code == 0, output
    assert read_outputs(github_files[0])["stack"] == "ai-slot-4"
    assert read_outputs(github_files[0])["reused"] == "true"
    assert not [c for c in pulumi_double.calls() if c[:2] == ["stack", "init"]]


def test_max_slots_comes_from_services_yaml(pulumi_double: PulumiDouble) -> None:
    for number in range(1, 10):
        pulumi_double.make_stack(f"ai-slot-{number}", tags={"codex:binding": f"issue-{100 + number}"})
    code, output = ensure("--issue", "7")  # the example project has maxSlots: 10
    assert code == 0, output
    assert output.strip().splitlines()[-1] == "ai-slot-10"


def test_no_free_slot_is_one_clear_error(pulumi_double: PulumiDouble) -> None:
    pulumi_double.make_stack("ai-slot-1", tags={"codex:binding": "issue-1"})
    pulumi_double.make_stack("ai-slot-2", tags={"codex:binding": "issue-2"})
    code, output = ensure("--issue", "7", "--max", "2")
    assert code == 2
    assert "no free slot for issue-7: all 2 slot stacks are taken" in output
    assert "Traceback" not in output
    assert pulumi_double.stacks() == ["ai-slot-1", "ai-slot-2"]


def test_issue_or_pr_is_required(pulumi_double: PulumiDouble) -> None:
    code, output = ensure("--max", "2")
    assert code == 2
    assert "exactly one of --issue N or --pr N" in output


def test_parallel_processes_get_distinct_slots(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    """10 real ``codexctl`` processes at once, 10 issues: 10 distinct slots, every binding right."""
    count = 10
    env = dict(os.environ)
    codexctl = Path(sys.executable).with_name("codexctl")
    procs = []
    for issue in range(1, count + 1):
        out = tmp_path / f"out-{issue}"
        out.touch()
        procs.append(
            (
                issue,
                out,
                subprocess.Popen(
                    [str(codexctl), "ci", "ensure-slot", "--issue", str(issue), "--max", str(count)],
                    env={**env, "GITHUB_OUTPUT": str(out)},
                    cwd=REPO_ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    slots: dict[int, str] = {}
    for issue, out, proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        slots[issue] = read_outputs(out)["stack"]
        assert stdout.strip() == slots[issue]
    assert sorted(slots.values(), key=lambda s: int(s.rsplit("-", 1)[1])) == [
        f"ai-slot-{n}" for n in range(1, count + 1)
    ]
    for issue, stack in slots.items():
        assert pulumi_double.read(stack, "tags")["codex:binding"] == f"issue-{issue}"
    inits = [c for c in pulumi_double.calls() if c[:2] == ["stack", "init"]]
    assert len(inits) >= count  # losers of a race retried the next slot, none shared one


def test_parallel_processes_for_one_issue_agree_on_one_slot(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    codexctl = Path(sys.executable).with_name("codexctl")
    procs = [
        subprocess.Popen(
            [str(codexctl), "ci", "ensure-slot", "--issue", "5", "--max", "6"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), results
    assert {stdout.strip() for stdout, _ in results} == {"ai-slot-1"}
    assert pulumi_double.stacks() == ["ai-slot-1"]


def test_find_slot_claims_nothing(pulumi_double: PulumiDouble, github_files: tuple[Path, Path]) -> None:
    pulumi_double.make_stack("ai-slot-2", tags={"codex:binding": "pr-4"})
    result = runner.invoke(app, ["ci", "find-slot", "--pr", "4"])
    assert result.exit_code == 0, result.output
    assert read_outputs(github_files[0]) == {"stack": "ai-slot-2", "slot": "2"}
    result = runner.invoke(app, ["ci", "find-slot", "--issue", "4"])
    assert result.exit_code == 0, result.output
    assert "ai-slot" not in result.output
    assert pulumi_double.stacks() == ["ai-slot-2"]


def test_backend_errors_are_one_line_not_a_traceback(
    pulumi_double: PulumiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_DOUBLE_DOWN", "1")
    code, output = ensure("--issue", "7", "--max", "3")
    assert code == 1
    assert "pulumi: could not reach the backend: connection refused" in output
    assert "Traceback" not in output


def test_max_zero_means_no_limit(pulumi_double: PulumiDouble, github_files: tuple[Path, Path]) -> None:
    """SPEC §2: maxSlots 0 is "no limit"; --max 0 says the same on the command line."""
    for number in range(1, 13):
        pulumi_double.make_stack(f"ai-slot-{number}", tags={"codex:binding": f"issue-{100 + number}"})
    code, output = ensure("--issue", "7", "--max", "0")
    assert code == 0, output
    assert output.strip().splitlines()[-1] == "ai-slot-13"
    assert read_outputs(github_files[0])["slot"] == "13"


def test_max_slots_zero_in_services_yaml_means_no_limit(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "examples" / "project-example", project)
    services = project / "services.yaml"
    services.write_text(services.read_text().replace("maxSlots: 10", "maxSlots: 0"))
    for number in range(1, 11):
        pulumi_double.make_stack(f"ai-slot-{number}", tags={"codex:binding": f"issue-{100 + number}"})
    code, output = ensure("--issue", "7", "--project-dir", str(project))
    assert code == 0, output
    assert output.strip().splitlines()[-1] == "ai-slot-11"


@pytest.mark.parametrize("variable", ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"])
def test_unwritable_github_files_are_one_line(
    pulumi_double: PulumiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """$GITHUB_OUTPUT failing fails the step (later steps need it); the summary only warns."""
    monkeypatch.setenv(variable, str(tmp_path / "missing-dir" / "file"))
    result = runner.invoke(app, ["ci", "find-slot", "--issue", "5"])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"cannot write ${variable} ({tmp_path / 'missing-dir' / 'file'})" in result.output
    if variable == "GITHUB_OUTPUT":
        assert result.exit_code == 2
        assert "error:" in result.output
    else:
        assert result.exit_code == 0
        assert "warning:" in result.output


def test_unwritable_output_from_the_console_script_has_no_traceback(
    pulumi_double: PulumiDouble, tmp_path: Path
) -> None:
    codexctl = Path(sys.executable).with_name("codexctl")
    done = subprocess.run(
        [str(codexctl), "ci", "find-slot", "--issue", "5"],
        env={**os.environ, "GITHUB_OUTPUT": "/nonexistent/out"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("error:")] == [
        "error: cannot write $GITHUB_OUTPUT (/nonexistent/out): No such file or directory"
    ]
