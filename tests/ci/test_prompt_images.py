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

from codex_stacks.ci.report import FailedComponent, InfraReport, write_report
from codex_stacks.cli.app import app
from codex_stacks.prompts.context import InfraReport as PromptReport
from tests.ci.conftest import read_outputs

runner = CliRunner()


@pytest.fixture
def fake_runner(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stands in for ``codex_stacks.prompts.runner.run_prompt`` (written elsewhere), recording its calls."""
    calls: list[dict[str, Any]] = []

    def run_prompt(**kwargs: Any) -> int:
        calls.append(kwargs)
        return 0

    import codex_stacks.prompts.runner as module

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
    ("kind", "number", "expected"),
    [
        ("dev_issue", "--issue", "repair_issue"),
        ("dev_review", "--pr", "repair_issue"),
        ("plan_issue", "--issue", "repair_plan"),
    ],
)
def test_prompt_switches_to_repair_when_up_was_not_ready(
    fake_runner: list[dict[str, Any]], tmp_path: Path, kind: str, number: str, expected: str
) -> None:
    report = tmp_path / "infra-report.json"
    failed = [FailedComponent(component="postgres", reason="CrashLoopBackOff")]
    write_report(InfraReport(healthy=False, failed=failed, summary="postgres failed"), path=report)
    result = runner.invoke(
        app, ["ci", "prompt", "--stack", "ai-slot-3", "--kind", kind, number, "7", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    [call] = fake_runner
    assert call["kind"] == expected
    assert call["infra_report"].failed[0].component == "postgres"


def test_prompt_without_report_runs_the_kind(
    fake_runner: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ci up ran here (no .codex-ci/<stack>/infra-report.json): the kind asked for runs."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ci", "prompt", "-s", "ai-slot-3", "-k", "plan_issue", "--issue", "4"])
    assert result.exit_code == 0, result.output
    assert fake_runner[0]["kind"] == "plan_issue"
    assert fake_runner[0]["infra_report"] is None


def test_explicit_missing_report_is_an_error(fake_runner: list[dict[str, Any]], tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    result = runner.invoke(
        app, ["ci", "prompt", "-s", "ai-slot-3", "-k", "plan_issue", "--issue", "4", "--report", str(missing)]
    )
    assert result.exit_code == 2
    assert f"--report {missing}: no such file" in result.output
    assert fake_runner == []


def test_unknown_kind_is_refused_before_the_repair_substitution(
    fake_runner: list[dict[str, Any]], tmp_path: Path
) -> None:
    report = tmp_path / "infra-report.json"
    write_report(InfraReport(healthy=False, summary="postgres failed"), path=report)
    result = runner.invoke(
        app, ["ci", "prompt", "-s", "ai-slot-3", "-k", "bogus", "--issue", "42", "--report", str(report)]
    )
    assert result.exit_code == 2
    assert "unknown prompt kind 'bogus'" in result.output
    assert "instead of" not in result.output
    assert fake_runner == []


def test_missing_number_names_the_kind_asked_for(fake_runner: list[dict[str, Any]], tmp_path: Path) -> None:
    report = tmp_path / "infra-report.json"
    write_report(InfraReport(healthy=False, summary="postgres failed"), path=report)
    result = runner.invoke(app, ["ci", "prompt", "-s", "ai-slot-3", "-k", "dev_issue", "--report", str(report)])
    assert result.exit_code == 2
    assert "prompt kind dev_issue needs --issue" in result.output
    assert fake_runner == []


def test_prompt_failure_exits_non_zero(
    fake_runner: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import codex_stacks.prompts.runner as module

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(module, "run_prompt", lambda **_: 3)
    result = runner.invoke(app, ["ci", "prompt", "-s", "ai-slot-3", "-k", "dev_issue", "--issue", "5"])
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
if args[:1] == ["buildx"] and os.path.exists(os.path.join(state, "no-buildx")):
    sys.stderr.write("unknown command: docker buildx\\n\\nUsage:  docker [OPTIONS] COMMAND\\n\\n")
    sys.stderr.write("Run 'docker --help' for more information\\n")
    sys.exit(1)
if args[:1] == ["push"] and os.path.exists(failures):
    os.unlink(failures)
    sys.stderr.write("error: connection reset by peer\\n")
    sys.exit(1)
sys.exit(0)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project with the Dockerfiles its build images name (the bundled copy has none)."""
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "project-example", copy)
    for dockerfile in (
        "services/django_backend/Dockerfile",
        "services/chat_backend/Dockerfile",
        "services/web_frontend/Dockerfile",
        "deploy/codex/Dockerfile",
    ):
        (copy / dockerfile).parent.mkdir(parents=True, exist_ok=True)
        (copy / dockerfile).write_text("FROM scratch\n")
    monkeypatch.setenv("CODEX_PROJECT_DIR", str(copy))
    return copy


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Path) -> Path:
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
    project = Path(os.environ["CODEX_PROJECT_DIR"])
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
    assert result.exit_code == 1  # the registry failed, not the call
    assert "failed after 1 attempt: error: connection reset by peer" in result.output


def test_images_unknown_name(fake_docker: Path) -> None:
    result = runner.invoke(app, ["ci", "images", "--stack", "ai-staging", "--only", "nope"])
    assert result.exit_code == 2
    assert "unknown image(s) nope" in result.output


def test_images_progress_names_each_image_as_it_starts(fake_docker: Path) -> None:
    (fake_docker / "present.json").write_text("[]")
    result = runner.invoke(
        app, ["ci", "images", "--stack", "ai-staging", "--only", "redis", "--only", "django-backend"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "images of ai-staging: 2 to check …"  # a plain title: no spinner in a runner's log
    redis = "localhost:32000/library/redis:7-bookworm"
    started = [line for line in lines if "mirroring from" in line or "building from" in line]
    assert started[0].startswith(f"· [1/2] {redis}: mirroring from docker.io/library/redis:")
    assert started[1].startswith("· [2/2] localhost:32000/project-example/django-backend:staging-0.1.0: building from")
    assert lines.index(started[0]) < lines.index(f"· [1/2] {redis}: mirrored")


def test_missing_dockerfile_is_checked_before_anything_runs(fake_docker: Path, project: Path) -> None:
    (project / "services/chat_backend/Dockerfile").unlink()
    result = runner.invoke(app, ["ci", "images", "--stack", "ai-staging"])
    assert result.exit_code == 2
    assert "image chat-backend: Dockerfile services/chat_backend/Dockerfile does not exist" in result.output
    assert not (fake_docker / "calls.jsonl").exists()  # nothing mirrored, nothing built


def test_missing_build_context_is_named(fake_docker: Path, project: Path) -> None:
    import shutil

    shutil.rmtree(project / "services/web_frontend")
    result = runner.invoke(app, ["ci", "images", "--stack", "ai-staging", "--only", "web-frontend"])
    assert result.exit_code == 2
    assert "image web-frontend: build context services/web_frontend is not a folder" in result.output


def test_build_error_quotes_the_telling_line_and_keeps_outputs_of_done_images(
    fake_docker: Path, github_files: tuple[Path, Path]
) -> None:
    (fake_docker / "present.json").write_text("[]")
    (fake_docker / "no-buildx").write_text("1")
    result = runner.invoke(
        app,
        ["ci", "images", "--stack", "ai-staging", "--only", "redis", "--only", "django-backend", "--retries", "0"],
    )
    assert result.exit_code == 1
    assert "failed after 1 attempt: unknown command: docker buildx" in result.output
    assert "docker --help" not in result.output
    outputs = read_outputs(github_files[0])
    assert outputs["mirrored"] == "localhost:32000/library/redis:7-bookworm"
    assert outputs["built"] == ""
    assert "unknown command: docker buildx" in github_files[1].read_text()
