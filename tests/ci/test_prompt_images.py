"""``ci prompt`` (repair prompt when the last up was not ready) and ``ci images`` with a fake docker."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codexctl.ci.report import FailedComponent, InfraReport, write_report
from codexctl.cli.app import app
from codexctl.prompts.context import InfraReport as PromptReport
from tests.ci.conftest import read_outputs

runner = CliRunner()


@pytest.fixture
def fake_runner(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stands in for ``codexctl.prompts.runner.run_prompt`` (written elsewhere), recording its calls."""
    calls: list[dict[str, Any]] = []

    def run_prompt(**kwargs: Any) -> int:
        calls.append(kwargs)
        return 0

    import codexctl.prompts.runner as module

    monkeypatch.setattr(module, "run_prompt", run_prompt)
    return calls


def test_prompt_keeps_the_kind_when_infra_is_ready(
    fake_runner: list[dict[str, Any]], tmp_path: Path, github_files: tuple[Path, Path]
) -> None:
    report = tmp_path / "infra-report.json"
    write_report(InfraReport(healthy=True, summary="ok"), path=report)
    result = runner.invoke(
        app, ["ci", "prompt", "--stack", "ai-slot-3", "--kind", "dev_issue", "--issue", "7", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    [call] = fake_runner
    assert call["kind"] == "dev_issue"
    assert call["issue"] == 7
    assert call["stack"] == "ai-slot-3"
    assert isinstance(call["infra_report"], PromptReport)
    assert call["infra_report"].healthy is True
    assert read_outputs(github_files[0]) == {"kind": "dev_issue", "exit_code": "0"}


@pytest.mark.parametrize(
    ("kind", "expected"), [("dev_issue", "repair_issue"), ("dev_review", "repair_issue"), ("plan_issue", "repair_plan")]
)
def test_prompt_switches_to_repair_when_up_was_not_ready(
    fake_runner: list[dict[str, Any]], tmp_path: Path, kind: str, expected: str
) -> None:
    report = tmp_path / "infra-report.json"
    failed = [FailedComponent(component="postgres", reason="CrashLoopBackOff")]
    write_report(InfraReport(healthy=False, failed=failed, summary="postgres failed"), path=report)
    result = runner.invoke(app, ["ci", "prompt", "--stack", "ai-slot-3", "--kind", kind, "--report", str(report)])
    assert result.exit_code == 0, result.output
    [call] = fake_runner
    assert call["kind"] == expected
    assert call["infra_report"].failed[0].component == "postgres"


def test_prompt_without_report_runs_the_kind(fake_runner: list[dict[str, Any]], tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    result = runner.invoke(app, ["ci", "prompt", "-s", "ai-slot-3", "-k", "plan_issue", "--report", str(missing)])
    assert result.exit_code == 0, result.output
    assert fake_runner[0]["kind"] == "plan_issue"
    assert fake_runner[0]["infra_report"] is None


def test_prompt_failure_exits_non_zero(fake_runner: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    import codexctl.prompts.runner as module

    monkeypatch.setattr(module, "run_prompt", lambda **_: 3)
    result = runner.invoke(app, ["ci", "prompt", "-s", "ai-slot-3", "-k", "dev_issue", "--report", "/nonexistent"])
    assert result.exit_code == 1
    assert "exited with 3" in result.output


FAKE_DOCKER = """#!{python} -S
import json, os, sys
state = os.environ["FAKE_DOCKER_STATE"]
args = sys.argv[1:]
with open(os.path.join(state, "calls.jsonl"), "a") as f:
    f.write(json.dumps(args) + "\\n")
present = json.load(open(os.path.join(state, "present.json")))
failures = os.path.join(state, "fail-once")
if args[:2] == ["manifest", "inspect"]:
    sys.exit(0 if args[2] in present else 1)
if args[:1] == ["push"] and os.path.exists(failures):
    os.unlink(failures)
    sys.stderr.write("error: connection reset by peer\\n")
    sys.exit(1)
sys.exit(0)
"""


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "dockerbin"
    bin_dir.mkdir()
    state = tmp_path / "docker-state"
    state.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable))
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    # only the fake docker: no skopeo/crane from the machine may take over
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin")
    monkeypatch.setenv("FAKE_DOCKER_STATE", str(state))
    (state / "present.json").write_text(json.dumps(["localhost:32000/library/busybox:1.37.0"]))
    return state


def docker_calls(state: Path) -> list[list[str]]:
    return [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]


def test_images_mirror_build_and_skip(fake_docker: Path, github_files: tuple[Path, Path]) -> None:
    (fake_docker / "fail-once").write_text("1")
    result = runner.invoke(
        app,
        [
            "ci",
            "images",
            "--stack",
            "ai-staging",
            "--only",
            "busybox",
            "--only",
            "postgres",
            "--only",
            "django-backend",
            "--backoff",
            "0.01",
        ],
    )
    assert result.exit_code == 0, result.output
    calls = docker_calls(fake_docker)
    source = "docker.io/library/postgres:16-bookworm"
    local = "localhost:32000/library/postgres:16-bookworm"
    assert ["pull", "localhost:32000/library/busybox:1.37.0"] not in calls
    assert calls.count(["push", local]) == 2  # failed once, retried
    assert ["pull", source] in calls
    assert ["tag", source, local] in calls
    project = Path(__file__).resolve().parents[2] / "examples" / "project-example"
    [build] = [c for c in calls if c[:2] == ["buildx", "build"]]
    assert build[:3] == ["buildx", "build", "--push"]
    assert build[build.index("--file") + 1] == str(project / "services/django_backend/Dockerfile")
    assert build[build.index("--tag") + 1] == "localhost:32000/project-example/django-backend:staging-0.1.0"
    assert "SERVICE_VERSION=0.1.0" in build
    assert build[-1] == str(project / "services/django_backend")
    outputs = read_outputs(github_files[0])
    assert outputs["skipped"] == "localhost:32000/library/busybox:1.37.0"
    assert outputs["mirrored"] == local
    assert outputs["built"] == "localhost:32000/project-example/django-backend:staging-0.1.0"


def test_images_kaniko_builder(fake_docker: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    executor = tmp_path / "dockerbin" / "executor"
    executor.write_text(
        f"#!{sys.executable} -S\nimport sys, json\n"
        f"open('{tmp_path}/kaniko.json', 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    executor.chmod(0o755)
    monkeypatch.setenv("CODEX_KANIKO_EXECUTOR", str(executor))
    monkeypatch.setenv("CODEX_IMAGE_BUILDER", "kaniko")
    result = runner.invoke(app, ["ci", "images", "--stack", "ai-staging", "--only", "web-frontend"])
    assert result.exit_code == 0, result.output
    args = json.loads((tmp_path / "kaniko.json").read_text())
    assert args[args.index("--destination") + 1] == "localhost:32000/project-example/web-frontend:staging-0.1.0"
    assert args[args.index("--context") + 1].startswith("dir://")


def test_images_give_up_after_retries(fake_docker: Path) -> None:
    (fake_docker / "present.json").write_text("[]")
    (fake_docker / "fail-once").write_text("1")
    result = runner.invoke(
        app, ["ci", "images", "--stack", "ai-staging", "--only", "redis", "--retries", "0", "--backoff", "0"]
    )
    assert result.exit_code == 2
    assert "failed 1 times: error: connection reset by peer" in result.output


def test_images_unknown_name(fake_docker: Path) -> None:
    result = runner.invoke(app, ["ci", "images", "--stack", "ai-staging", "--only", "nope"])
    assert result.exit_code == 2
    assert "unknown image(s) nope" in result.output
