"""services.yaml itself broken: ``ci up --fallback-repair`` deploys the repair set planned from
the project folder of the stack's last successful normal up (else the default branch), and the
infra report says services.yaml is broken (docs/repair.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import PROJECT, PulumiDouble, make_program
from tests.support.kube_double import KubeDouble

runner = CliRunner()
FAST = ["--backoff", "0.01", "--cancel-grace", "1", "--retries", "0"]
BROKEN = "services:\n  - name: web\n\timage: x\n"  # a tab on line 3


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def team_repo(folder: Path) -> tuple[Path, Path, str]:
    """A team's repository with the example project in deploy/; its first commit."""
    repo = folder / "repo"
    project = repo / "deploy"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns(".data", ".github", "__pycache__"))
    git(repo.parent, "init", "-q", "-b", "main", str(repo))
    return repo, project, commit_all(repo, "good")


def up(tmp_path: Path, project: Path, *args: str) -> tuple[int, str]:
    report = tmp_path / "ci" / "infra-report.json"
    result = runner.invoke(app, ["ci", "up", "--report", str(report), *FAST, "--project-dir", str(project), *args])
    return result.exit_code, result.output


def report_of(tmp_path: Path) -> dict[str, object]:
    return dict(json.loads((tmp_path / "ci" / "infra-report.json").read_text()))


def tags(double: PulumiDouble, stack: str) -> dict[str, str]:
    path = double.stacks_dir() / f"{stack}.pulumi-tags"
    return dict(json.loads(path.read_text())["tags"]) if path.exists() else {}


def targets_of(call: list[str]) -> list[str]:
    return [call[i + 1] for i, arg in enumerate(call) if arg == "--target"]


def project_dirs_set(double: PulumiDouble) -> list[str]:
    return [c[-1] for c in double.calls() if c[:3] == ["config", "set", "codex:projectDir"]]


def test_a_broken_services_yaml_is_repaired_from_the_last_good_up(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    repo, project, good = team_repo(tmp_path)
    code, output = up(tmp_path, project, "--stack", "ai-slot-3")
    assert code == 0, output
    assert tags(pulumi_double, "ai-slot-3")["codex:last-good-commit"] == good

    (project / "services.yaml").write_text(BROKEN)
    commit_all(repo, "broken")
    code, output = up(tmp_path, project, "--stack", "ai-slot-3", "--fallback-repair")
    assert code == 0, output
    assert "services.yaml is broken" in output
    repair = [c for c in pulumi_double.calls() if c[:1] == ["up"]][-1]
    assert any("::codex-agent" in urn for urn in targets_of(repair))
    # the repair run was planned from the good commit's folder, and the stack keeps its own folder
    used = project_dirs_set(pulumi_double)
    assert used[-2] != str(project)
    assert (Path(used[-2]) / "services.yaml").read_text() != BROKEN
    assert pulumi_double.config("ai-slot-3")["codex:projectDir"] == str(project)
    report = report_of(tmp_path)
    broken = report["services_yaml"]
    assert isinstance(broken, dict)
    assert (broken["file"], broken["line"], broken["commit"]) == ("services.yaml", 3, good)
    assert "services.yaml is broken (services.yaml:3" in str(report["summary"])
    assert report["healthy"] is False
    # a failed repair does not move the last good commit
    assert tags(pulumi_double, "ai-slot-3")["codex:last-good-commit"] == good


def test_without_fallback_a_broken_services_yaml_is_one_error(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    _, project, _ = team_repo(tmp_path)
    (project / "services.yaml").write_text(BROKEN)
    code, output = up(tmp_path, project, "--stack", "ai-slot-3")
    assert code == 2, output
    assert "services.yaml:3" in output
    assert "Traceback" not in output
    assert [c for c in pulumi_double.calls() if c[:1] == ["up"]] == []


def test_a_stack_never_deployed_is_repaired_from_the_default_branch(
    pulumi_double: PulumiDouble, tmp_path: Path
) -> None:
    origin, _, good = team_repo(tmp_path / "origin")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)], check=True)
    (clone / "deploy" / "services.yaml").write_text(BROKEN)
    code, output = up(tmp_path, clone / "deploy", "--stack", "ai-slot-3", "--fallback-repair")
    assert code == 0, output
    report = report_of(tmp_path)
    assert isinstance(report["services_yaml"], dict)
    assert report["services_yaml"]["commit"] == good
    assert "default branch main" in output


def test_a_last_good_commit_missing_from_a_shallow_checkout_is_fetched(
    pulumi_double: PulumiDouble, tmp_path: Path
) -> None:
    origin, project, good = team_repo(tmp_path / "origin")
    code, output = up(tmp_path, project, "--stack", "ai-slot-3")
    assert code == 0, output
    (project / "services.yaml").write_text(BROKEN)
    commit_all(origin, "broken")
    clone = tmp_path / "clone"  # a workflow's checkout: depth 1, the good commit is not in it
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)], check=True)
    assert subprocess.run(["git", "-C", str(clone), "cat-file", "-e", good], capture_output=True).returncode != 0
    code, output = up(tmp_path, clone / "deploy", "--stack", "ai-slot-3", "--fallback-repair")
    assert code == 0, output
    assert report_of(tmp_path)["services_yaml"]["commit"] == good  # type: ignore[index]
    assert "last good up" in output


def test_with_no_commit_to_repair_from_the_report_still_says_why(pulumi_double: PulumiDouble, tmp_path: Path) -> None:
    project = tmp_path / "plain"  # not a git checkout
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns(".data", ".github"))
    (project / "services.yaml").write_text(BROKEN)
    code, output = up(tmp_path, project, "--stack", "ai-slot-3", "--fallback-repair")
    assert code == 1, output
    report = report_of(tmp_path)
    assert report["services_yaml"] == {
        "file": "services.yaml",
        "line": 3,
        "message": report["services_yaml"]["message"],  # type: ignore[index]
        "commit": "",
        "project_dir": "",
    }
    assert "could not be deployed" in str(report["summary"])
    assert [c for c in pulumi_double.calls() if c[:1] == ["up"]] == []


def test_ci_prompt_plans_the_agent_from_the_commit_ci_up_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent is started by ``ci prompt``, which plans it too: from the report's old folder
    while services.yaml is broken (here the cluster is unreachable, so planning got that far)."""
    broken = tmp_path / "broken"
    shutil.copytree(PROJECT, broken, ignore=shutil.ignore_patterns(".data", ".github"))
    (broken / "services.yaml").write_text(BROKEN)
    good = tmp_path / "ci" / "last-good" / "deploy"
    shutil.copytree(PROJECT, good, ignore=shutil.ignore_patterns(".data", ".github"))
    program = make_program(tmp_path / "program")
    (program / "stacks" / "Pulumi.ai-slot-3.yaml").write_text(
        yaml.safe_dump({"config": {"codex:projectDir": str(broken), "codex:slot": "3", "codex:env": "ai"}})
    )
    monkeypatch.setenv("CODEX_PROGRAM_DIR", str(program))
    with KubeDouble() as gone:
        config = gone.kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    report = tmp_path / "ci" / "infra-report.json"
    prompt = ["ci", "prompt", "-s", "ai-slot-3", "-k", "dev_issue", "--issue", "42", "--report", str(report)]
    problem = {"file": "services.yaml", "line": 3, "message": "a tab", "commit": "ab" * 20}

    report.write_text(json.dumps({"healthy": False, "services_yaml": problem}))
    result = runner.invoke(app, prompt)
    assert result.exit_code == 2, result.output  # no old folder: the broken file is all there is
    assert "services.yaml:3" in result.output

    report.write_text(json.dumps({"healthy": False, "services_yaml": {**problem, "project_dir": str(good)}}))
    result = runner.invoke(app, prompt)
    assert result.exit_code == 1, result.output
    assert "the agent comes from commit abababababab" in result.output
    assert "cannot reach the Kubernetes API server" in result.output
