"""``ci cleanup`` and ``ci gc``: destroy + stack rm + the slot's data dir; gc by age and closed issues."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.ci.cleanup import safe_data_dir
from codex_stacks.ci.errors import CiError
from codex_stacks.cli.app import app
from tests.ci.conftest import CI_TOKEN, PulumiDouble, deleted_namespaces, read_outputs, slot_namespaces
from tests.support.github_double import GithubDouble
from tests.support.kube_double import KubeDouble, free_port

runner = CliRunner()


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project's dataPaths.root follows $DATA_ROOT: slot data lives in <root>/slots/<N>."""
    root = tmp_path / "data"
    for slot in (3, 4):
        (root / "slots" / str(slot) / "postgres").mkdir(parents=True)
        (root / "slots" / str(slot) / "postgres" / "PG_VERSION").write_text("16")
    monkeypatch.setenv("DATA_ROOT", str(root))
    return root


def test_cleanup_by_issue_destroys_removes_and_deletes_data(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], data_root: Path, kube_api: KubeDouble
) -> None:
    kube_api.create_namespace("ns-ai-slot-3")
    kube_api.create_namespace("ns-ai-slot-4")
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": "issue-7"}, resources=12)
    pulumi_double.make_stack("ai-slot-4", tags={"codex:binding": "issue-8"}, resources=12)
    result = runner.invoke(app, ["ci", "cleanup", "--issue", "7"])
    assert result.exit_code == 0, result.output
    commands = [c for c in pulumi_double.calls() if c[:1] == ["destroy"] or c[:2] == ["stack", "rm"]]
    destroy = ["destroy", "--skip-preview", "--yes", "--color", "never", "--exec-kind", "auto.local"]
    assert commands[0] == [*destroy, "--stack", "ai-slot-3"]
    assert commands[1] == ["stack", "rm", "--yes", "ai-slot-3"]
    assert pulumi_double.stacks() == ["ai-slot-4"]
    assert not (data_root / "slots" / "3").exists()
    assert (data_root / "slots" / "4" / "postgres" / "PG_VERSION").exists()
    assert read_outputs(github_files[0]) == {"stack": "ai-slot-3", "removed": "true", "namespace": "ns-ai-slot-3"}
    # the namespace the stack's outputs named (read before destroy), through the kubeconfig's credentials
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3"]
    assert {request.authorization for request in kube_api.requests} == {f"Bearer {CI_TOKEN}"}
    assert slot_namespaces(kube_api) == {"ns-ai-slot-4"}
    assert "namespace ns-ai-slot-3 deleted" in result.output


def test_cleanup_keep_data(pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble) -> None:
    pulumi_double.make_stack("ai-slot-3", resources=2)
    result = runner.invoke(app, ["ci", "cleanup", "--stack", "ai-slot-3", "--keep-data"])
    assert result.exit_code == 0, result.output
    assert pulumi_double.stacks() == []
    assert (data_root / "slots" / "3").exists()


def test_cleanup_of_unbound_issue_is_a_no_op(pulumi_double: PulumiDouble, github_files: tuple[Path, Path]) -> None:
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": "issue-7"})
    result = runner.invoke(app, ["ci", "cleanup", "--pr", "7"])
    assert result.exit_code == 0, result.output
    assert "nothing to clean up" in result.output
    assert pulumi_double.stacks() == ["ai-slot-3"]
    assert read_outputs(github_files[0])["removed"] == "false"


def test_cleanup_waits_out_a_lock(pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble) -> None:
    pulumi_double.make_stack("ai-slot-3", resources=2)
    pulumi_double.script(destroy=["locked"])
    from codex_stacks.ci.cleanup import remove_stack
    from codex_stacks.ci.workspace import open_workspace

    workspace, _ = open_workspace()
    waits: list[float] = []
    project = Path(__file__).resolve().parents[2] / "examples" / "project-example"
    remove_stack(workspace, stack="ai-slot-3", project_dir=project, backoff=1.5, sleep=waits.append)
    assert waits == [1.5]
    assert len([c for c in pulumi_double.calls() if c[:1] == ["destroy"]]) == 2
    assert pulumi_double.stacks() == []


@pytest.mark.parametrize(
    ("root", "env_dir"),
    [("/", "/slots/3"), ("/data", "/data"), ("/data", "/other/slots/3"), ("/data", "/data/../etc")],
)
def test_unsafe_data_dirs_are_refused(root: str, env_dir: str) -> None:
    with pytest.raises(CiError, match="refusing to delete"):
        safe_data_dir(root=root, env_dir=env_dir)


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root" / "slots").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "slots" / "3").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(CiError):
        safe_data_dir(root=str(tmp_path / "root"), env_dir=str(tmp_path / "root" / "slots" / "3"))


@pytest.fixture
def github() -> Iterator[GithubDouble]:
    """The GitHub API double (tests/support/github_double.py): acme/shop is private, so without a
    token its issues answer 404, as on GitHub; #7 and #9 are closed, #8 is open, #9 is a pull request."""
    with GithubDouble(repos={"acme/shop": 11}, private=["acme/shop"]) as double:
        double.add_issue("acme/shop", 7, state="closed")
        double.add_issue("acme/shop", 8, state="open")
        double.add_issue("acme/shop", 9, state="closed", pull=True)
        yield double


@pytest.fixture
def github_api(github: GithubDouble) -> str:
    return github.url


def test_gc_closed_asks_github_and_removes_only_closed(
    pulumi_double: PulumiDouble,
    github_files: tuple[Path, Path],
    github: GithubDouble,
    data_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    kube_api: KubeDouble,
) -> None:
    github_api = github.url
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/shop")
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": "issue-7"}, resources=4)
    pulumi_double.make_stack("ai-slot-4", tags={"codex:binding": "issue-8"}, resources=4)
    pulumi_double.make_stack("ai-slot-5", tags={"codex:binding": "pr-9"}, resources=4)
    pulumi_double.make_stack("ai-staging", resources=30)
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", github_api])
    assert result.exit_code == 0, result.output
    assert pulumi_double.stacks() == ["ai-slot-4", "ai-staging"]
    assert sorted((request.path, request.authorization) for request in github.requests) == [
        ("/repos/acme/shop/issues/7", "Bearer t0ken"),
        ("/repos/acme/shop/issues/8", "Bearer t0ken"),
        ("/repos/acme/shop/issues/9", "Bearer t0ken"),
    ]
    assert read_outputs(github_files[0]) == {"removed": "ai-slot-3,ai-slot-5", "failed": ""}
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3", "ns-ai-slot-5"]
    assert not (data_root / "slots" / "3").exists()
    assert (data_root / "slots" / "4").exists()


def test_gc_older_than_uses_the_last_used_tag(
    pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble
) -> None:
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": "issue-7", "codex:last-used": "2020-01-01T00:00:00Z"})
    pulumi_double.make_stack("ai-slot-4", tags={"codex:binding": "issue-8", "codex:last-used": "2999-01-01T00:00:00Z"})
    result = runner.invoke(app, ["ci", "gc", "--older-than", "7d", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert pulumi_double.stacks() == ["ai-slot-3", "ai-slot-4"]
    assert "ai-slot-3: idle for " in result.output
    assert " days " in result.output.split("ai-slot-3: idle for ", 1)[1].splitlines()[0]
    result = runner.invoke(app, ["ci", "gc", "--older-than", "7d"])
    assert result.exit_code == 0, result.output
    assert pulumi_double.stacks() == ["ai-slot-4"]


def test_gc_github_errors_are_one_line(pulumi_double: PulumiDouble, github_api: str) -> None:
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": "issue-404"})
    result = runner.invoke(app, ["ci", "gc", "--closed", "--repository", "acme/shop", "--api-url", github_api])
    assert result.exit_code == 1  # the GitHub API failed, not the call
    assert "GitHub API answered 404 for acme/shop#404" in result.output
    assert "Traceback" not in result.output
    assert pulumi_double.stacks() == ["ai-slot-3"]


def test_gc_needs_a_criterion(pulumi_double: PulumiDouble) -> None:
    result = runner.invoke(app, ["ci", "gc"])
    assert result.exit_code == 2
    assert "give --older-than D, --closed, or both" in result.output
    assert not pulumi_double.calls()


def test_gc_goes_on_after_a_failed_destroy_and_a_failed_lookup(
    pulumi_double: PulumiDouble,
    github_files: tuple[Path, Path],
    github_api: str,
    data_root: Path,
    kube_api: KubeDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One broken slot must not keep gc from the rest: every failure is reported, outputs are written."""
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    pulumi_double.make_stack("ai-slot-2", tags={"codex:binding": "issue-404"}, resources=4)  # lookup fails
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": "issue-7"}, resources=4)  # destroy fails
    pulumi_double.make_stack("ai-slot-4", tags={"codex:binding": "pr-9"}, resources=4)  # removed
    pulumi_double.make_stack("ai-slot-5", tags={"codex:binding": "issue-8"}, resources=4)  # open: kept
    pulumi_double.script(destroy=["fail"])
    result = runner.invoke(app, ["ci", "gc", "--closed", "--repository", "acme/shop", "--api-url", github_api])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert pulumi_double.stacks() == ["ai-slot-2", "ai-slot-3", "ai-slot-5"]
    assert read_outputs(github_files[0]) == {"removed": "ai-slot-4", "failed": "ai-slot-2,ai-slot-3"}
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: gc: 2 slot stack(s) failed, the others were handled:"]
    assert "  ai-slot-2: GitHub API answered 404 for acme/shop#404" in result.output
    assert "  ai-slot-3: destroy of ai-slot-3 failed: update failed" in result.output
    summary = github_files[1].read_text()
    assert "`ai-slot-4`: pr-9 is closed" in summary
    assert "`ai-slot-3`: **failed**" in summary


def test_gc_older_than_zero_means_every_idle_slot(pulumi_double: PulumiDouble, data_root: Path) -> None:
    pulumi_double.make_stack("ai-slot-3", tags={"codex:last-used": "2020-01-01T00:00:00Z"})
    pulumi_double.make_stack("ai-slot-4", tags={"codex:last-used": "2026-01-01T00:00:00Z"})
    result = runner.invoke(app, ["ci", "gc", "--older-than", "0", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would remove: ai-slot-3, ai-slot-4" in result.output


def test_gc_closed_without_a_token_warns(
    pulumi_double: PulumiDouble, github_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": "issue-404"})
    result = runner.invoke(app, ["ci", "gc", "--closed", "--repository", "acme/shop", "--api-url", github_api])
    assert "warning: --closed without $GITHUB_TOKEN" in result.output
    assert "hint: set GITHUB_TOKEN" in result.output  # the 404 of a private repository says why
    assert result.exit_code == 1


def test_gc_unreachable_github_is_exit_1(pulumi_double: PulumiDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": "issue-7"})
    api = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["ci", "gc", "--closed", "--repository", "acme/shop", "--api-url", api])
    assert result.exit_code == 1
    assert f"cannot reach the GitHub API at {api}" in result.output
    assert pulumi_double.stacks() == ["ai-slot-3"]
