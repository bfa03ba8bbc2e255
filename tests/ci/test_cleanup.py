"""``ci cleanup`` and ``ci gc``: namespace first, then destroy + stack rm, data dir, claim last;
gc by age, by closed issues, and of what failed runs left (claims without stacks, stacks without claims)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_stacks.ci.cleanup import safe_data_dir
from codex_stacks.ci.errors import CiError
from codex_stacks.cli.app import app
from tests.ci.conftest import (
    CI_TOKEN,
    REPOSITORY,
    PulumiDouble,
    admin_client,
    deleted_namespaces,
    read_outputs,
    slot_namespaces,
)
from tests.ci.test_ensure_slot import leases, plant_claim, slot_leases
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


def slot(double: PulumiDouble, api: KubeDouble, number: int, holder: str, **tags: str) -> None:
    """A claimed, deployed slot: its Lease, and its stack with outputs as after a successful up."""
    plant_claim(api, slot=number, holder=holder)
    stack = f"ai-slot-{number}"
    double.make_stack(stack, tags={"codex:binding": holder, **tags}, resources=12, outputs={"namespace": f"ns-{stack}"})


def order(double: PulumiDouble, api: KubeDouble) -> list[str]:
    """Every step of the cleanup that changes something, in time order, from both doubles' records."""
    steps = [(record["time"], record["argv"]) for record in double.records()]
    events = [(t, " ".join(w for w in argv if w != "--non-interactive").split(" --", 1)[0]) for t, argv in steps]
    events = [(t, name) for t, name in events if name.startswith(("destroy", "stack rm"))]
    events += [(request.at, f"DELETE {request.path.rsplit('/', 2)[-2]}") for request in api.calls("DELETE")]
    return [name for _, name in sorted(events)]


def test_cleanup_by_issue_in_the_safe_order(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], data_root: Path, kube_api: KubeDouble
) -> None:
    kube_api.create_namespace("ns-ai-slot-3")
    kube_api.create_namespace("ns-ai-slot-4")
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    slot(pulumi_double, kube_api, 4, f"{REPOSITORY}#issue-8")
    result = runner.invoke(app, ["ci", "cleanup", "--issue", "7"])
    assert result.exit_code == 0, result.output
    assert pulumi_double.stacks() == ["ai-slot-4"]
    assert slot_leases(kube_api) == {4: f"{REPOSITORY}#issue-8"}
    assert not (data_root / "slots" / "3").exists()
    assert (data_root / "slots" / "4" / "postgres" / "PG_VERSION").exists()
    assert read_outputs(github_files[0]) == {"stack": "ai-slot-3", "removed": "true", "namespace": "ns-ai-slot-3"}
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3"]
    assert slot_namespaces(kube_api) == {"ns-ai-slot-4"}
    # through the kubeconfig's credentials: the runner's own account
    assert {request.authorization for request in kube_api.calls("DELETE")} == {f"Bearer {CI_TOKEN}"}
    # namespace gone first, then destroy and stack rm, the claim (Lease) last
    assert order(pulumi_double, kube_api) == ["DELETE namespaces", "destroy", "stack rm", "DELETE leases"]
    assert "claim acme-shop-" in result.output


def test_cleanup_keep_data(pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble) -> None:
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    result = runner.invoke(app, ["ci", "cleanup", "--stack", "ai-slot-3", "--keep-data"])
    assert result.exit_code == 0, result.output
    assert pulumi_double.stacks() == []
    assert slot_leases(kube_api) == {}  # --stack releases the slot's claim too
    assert (data_root / "slots" / "3").exists()


def test_cleanup_of_unbound_issue_is_a_no_op(
    pulumi_double: PulumiDouble, github_files: tuple[Path, Path], kube_api: KubeDouble
) -> None:
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    result = runner.invoke(app, ["ci", "cleanup", "--pr", "7"])
    assert result.exit_code == 0, result.output
    assert "nothing to clean up" in result.output
    assert pulumi_double.stacks() == ["ai-slot-3"]
    assert read_outputs(github_files[0])["removed"] == "false"


def test_cleanup_of_another_repositorys_issue_touches_nothing(
    pulumi_double: PulumiDouble, kube_api: KubeDouble, data_root: Path
) -> None:
    plant_claim(kube_api, slot=3, holder="acme/other#issue-7", repository="acme/other", project="other")
    result = runner.invoke(app, ["ci", "cleanup", "--issue", "7"])
    assert result.exit_code == 0, result.output
    assert "nothing to clean up" in result.output
    assert slot_leases(kube_api, "acme/other") == {3: "acme/other#issue-7"}


def test_the_destroy_waits_out_a_lock_like_up(
    pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble
) -> None:
    import os

    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    lock = pulumi_double.plant_lock("ai-slot-3", pid=os.getpid())

    def unlock_after_the_first_destroy() -> None:
        """Once the first destroy has met the lock and ended (not on a timer: a loaded machine
        reaches the destroy late, and then the first attempt found no lock any more)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pids = [r["pid"] for r in pulumi_double.records() if "destroy" in r["argv"]]
            if pids and not Path(f"/proc/{pids[0]}").exists():
                break
            time.sleep(0.05)
        lock.unlink()

    threading.Thread(target=unlock_after_the_first_destroy, daemon=True).start()
    result = runner.invoke(app, ["ci", "cleanup", "--stack", "ai-slot-3", "--backoff", "1", "--retries", "5"])
    assert result.exit_code == 0, result.output
    assert len([c for c in pulumi_double.calls() if c[:1] == ["destroy"]]) >= 2
    assert pulumi_double.stacks() == []


def test_a_failed_destroy_keeps_the_claim(pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble) -> None:
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    pulumi_double.script(destroy=["fail:item-0"])
    result = runner.invoke(app, ["ci", "cleanup", "--issue", "7"])
    assert result.exit_code == 1
    assert "destroy of ai-slot-3 failed" in result.output
    assert pulumi_double.stacks() == ["ai-slot-3"]
    assert slot_leases(kube_api) == {3: f"{REPOSITORY}#issue-7"}  # the slot is not free yet


@pytest.mark.parametrize(
    ("root", "env_dir"),
    [
        ("/", "/slots/3"),
        ("/srv/data", "/srv/data"),
        ("/srv/data", "/srv/other/slots/3"),
        ("/srv/data", "/srv/data/../etc"),
        ("/etc/codex", "/etc/codex/slots/3"),
    ],
)
def test_unsafe_data_dirs_are_refused(root: str, env_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_DATA_ROOT_ALLOWED", raising=False)
    with pytest.raises(CiError, match="refusing to delete"):
        safe_data_dir(root=root, env_dir=env_dir)


def test_a_slot_data_dir_that_links_to_other_data_loses_the_link_only(
    pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble
) -> None:
    """A slot's folder made a link to another environment's data (by a run: services.yaml and the
    hooks come from strangers) is removed as a link; what it points to stays."""
    staging = data_root / "ai-staging" / "postgres"
    staging.mkdir(parents=True)
    (staging / "PG_VERSION").write_text("16")
    shutil.rmtree(data_root / "slots" / "3")
    (data_root / "slots" / "3").symlink_to(data_root / "ai-staging")
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    result = runner.invoke(app, ["ci", "cleanup", "--issue", "7"])
    assert result.exit_code == 0, result.output
    assert not (data_root / "slots" / "3").is_symlink()
    assert not (data_root / "slots" / "3").exists()
    assert (staging / "PG_VERSION").read_text() == "16"
    assert slot_leases(kube_api) == {}


def test_a_link_on_the_way_to_the_data_dir_is_refused_and_the_claim_kept(
    pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble
) -> None:
    """``<root>/slots`` a link to another folder: nothing is deleted through it (exit 2, bad
    input), and the slot stays claimed until someone looks."""
    elsewhere = data_root.parent / "elsewhere"
    shutil.move(data_root / "slots", elsewhere)
    (data_root / "slots").symlink_to(elsewhere)
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    result = runner.invoke(app, ["ci", "cleanup", "--issue", "7"])
    assert result.exit_code == 2, result.output
    assert "slots is a symbolic link (never followed)" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert (elsewhere / "3" / "postgres" / "PG_VERSION").read_text() == "16"
    assert slot_leases(kube_api) == {3: f"{REPOSITORY}#issue-7"}


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
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    slot(pulumi_double, kube_api, 4, f"{REPOSITORY}#issue-8")
    slot(pulumi_double, kube_api, 5, f"{REPOSITORY}#pr-9")
    pulumi_double.make_stack("ai-staging", resources=30)
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", github_api])
    assert result.exit_code == 0, result.output
    assert pulumi_double.stacks() == ["ai-slot-4", "ai-staging"]
    assert slot_leases(kube_api) == {4: f"{REPOSITORY}#issue-8"}
    assert sorted((request.path, request.authorization) for request in github.requests) == [
        ("/repos/acme/shop/issues/7", "Bearer t0ken"),
        ("/repos/acme/shop/issues/8", "Bearer t0ken"),
        ("/repos/acme/shop/issues/9", "Bearer t0ken"),
    ]
    assert read_outputs(github_files[0]) == {"removed": "ai-slot-3,ai-slot-5", "failed": ""}
    assert deleted_namespaces(kube_api) == ["ns-ai-slot-3", "ns-ai-slot-5"]
    assert not (data_root / "slots" / "3").exists()
    assert (data_root / "slots" / "4").exists()


def test_gc_of_one_repository_leaves_another_repositorys_slots(
    pulumi_double: PulumiDouble, github: GithubDouble, data_root: Path, kube_api: KubeDouble
) -> None:
    """Issue 7 is closed in acme/shop; acme/other's slot for its own issue 7 stays."""
    github_api = github.url
    plant_claim(kube_api, slot=3, holder="acme/other#issue-7", repository="acme/other", project="other")
    pulumi_double.make_stack("ai-slot-3", tags={"codex:binding": "acme/other#issue-7"}, resources=3, project="other")
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", github_api])
    assert result.exit_code == 0, result.output
    assert "removed: nothing" in result.output
    assert slot_leases(kube_api, "acme/other") == {3: "acme/other#issue-7"}
    assert pulumi_double.stacks("other") == ["ai-slot-3"]
    assert github.requests == []


def test_gc_older_than_uses_the_last_used_tag(
    pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble
) -> None:
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7", **{"codex:last-used": "2020-01-01T00:00:00Z"})
    slot(pulumi_double, kube_api, 4, f"{REPOSITORY}#issue-8", **{"codex:last-used": "2999-01-01T00:00:00Z"})
    result = runner.invoke(app, ["ci", "gc", "--older-than", "7d", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert pulumi_double.stacks() == ["ai-slot-3", "ai-slot-4"]
    assert "ai-slot-3: idle for " in result.output
    # whole days since 2020, then the hours when there are any (none in the first hour of a UTC day)
    assert re.fullmatch(r"\d{4} days( \d{1,2} h)?", result.output.split("ai-slot-3: idle for ", 1)[1].splitlines()[0])
    result = runner.invoke(app, ["ci", "gc", "--older-than", "7d", "--output", "json"])
    assert result.exit_code == 0, result.output
    assert pulumi_double.stacks() == ["ai-slot-4"]
    document = json.loads(result.stdout)
    assert [item["stack"] for item in document["removed"]] == ["ai-slot-3"]
    assert document["failed"] == []


def test_gc_collects_what_failed_runs_left(pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble) -> None:
    """A claim whose stack never came (a run killed mid-claim), a stack of this repository whose
    claim is gone, an abandoned claiming lock: all past --orphan-age, all collected; younger ones
    (a claim in progress) and a stack from before claims (no repository) are left alone."""
    plant_claim(kube_api, slot=1, holder=f"{REPOSITORY}#issue-1", age=3 * 3600)  # no stack: orphan
    plant_claim(kube_api, slot=2, holder=f"{REPOSITORY}#issue-2")  # no stack yet, just claimed
    pulumi_double.make_stack(
        "ai-slot-3", tags={"codex:binding": f"{REPOSITORY}#issue-3", "codex:last-used": "2020-01-01T00:00:00Z"}
    )
    pulumi_double.make_stack("ai-slot-4", tags={"codex:binding": "issue-4"})  # from before claims
    result = runner.invoke(app, ["ci", "gc", "--older-than", "30d", "--orphan-age", "2h"])
    assert result.exit_code == 0, result.output
    assert slot_leases(kube_api) == {2: f"{REPOSITORY}#issue-2"}
    assert pulumi_double.stacks() == ["ai-slot-4"]
    assert "claimed 3 h ago but no stack" in result.output
    assert "stack without a claim" in result.output


def test_gc_releases_abandoned_claiming_locks(pulumi_double: PulumiDouble, kube_api: KubeDouble) -> None:
    from datetime import UTC, datetime, timedelta

    from codex_stacks.ci.claims import ClaimStore
    from codex_stacks.ci.slots import Binding

    store = ClaimStore(client=admin_client(kube_api), repository=REPOSITORY, project="codex")
    binding = Binding(repository=REPOSITORY, kind="issue", number=5)
    assert store.lock_binding(binding, now=datetime.now(UTC) - timedelta(hours=1)) is not None
    result = runner.invoke(app, ["ci", "gc", "--older-than", "30d"])
    assert result.exit_code == 0, result.output
    assert leases(kube_api) == {}
    assert "an abandoned claiming lock" in result.output


def test_gc_github_errors_are_one_line(pulumi_double: PulumiDouble, github_api: str, kube_api: KubeDouble) -> None:
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-404")
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", github_api])
    assert result.exit_code == 1
    assert "GitHub API answered 404 for acme/shop#404" in result.output
    assert "Traceback" not in result.output
    assert pulumi_double.stacks() == ["ai-slot-3"]


def test_gc_waits_out_a_rate_limit_that_resets_soon(
    pulumi_double: PulumiDouble,
    github: GithubDouble,
    data_root: Path,
    kube_api: KubeDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hourly quota is spent and comes back in a second or two: gc waits for it and goes on."""
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    github.exhaust(reset_in=1.5)
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", github.url])
    assert result.exit_code == 0, result.output
    assert "GitHub API rate limit (primary) at acme/shop#7: waiting" in result.output
    assert [request.status for request in github.requests] == [403, 200]
    assert pulumi_double.stacks() == []


def test_gc_waits_out_a_secondary_rate_limit(
    pulumi_double: PulumiDouble,
    github: GithubDouble,
    data_root: Path,
    kube_api: KubeDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    github.secondary_limit("GET", "/issues/7", status=429, retry_after=1)
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", github.url])
    assert result.exit_code == 0, result.output
    assert "GitHub API rate limit (secondary) at acme/shop#7: waiting 1s" in result.output
    assert pulumi_double.stacks() == []


def test_gc_asks_once_when_the_rate_limit_lasts_long(
    pulumi_double: PulumiDouble,
    github: GithubDouble,
    github_files: tuple[Path, Path],
    data_root: Path,
    kube_api: KubeDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Spent for ten minutes: every lookup fails naming the limit and its reset; the API is asked
    once, not once per slot; no slot is removed."""
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    for number, issue in ((3, 7), (4, 8), (5, 9)):
        kind = "pr" if issue == 9 else "issue"
        slot(pulumi_double, kube_api, number, f"{REPOSITORY}#{kind}-{issue}")
    github.exhaust(reset_in=600)
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", github.url])
    assert result.exit_code == 1
    assert github.count("GET") == 1
    text = " ".join(result.output.split())
    for issue in (7, 8, 9):
        assert "GitHub API rate limit: the API rate limit is spent until " in text
        assert f"acme/shop#{issue} not looked up" in text
    assert "may read issues" not in text
    assert "hint: gc runs again on its schedule; the limit is per token" in text
    assert pulumi_double.stacks() == ["ai-slot-3", "ai-slot-4", "ai-slot-5"]
    assert read_outputs(github_files[0])["failed"] == "ai-slot-3,ai-slot-4,ai-slot-5"


def test_a_refusal_that_is_not_a_rate_limit_still_points_at_the_token(
    pulumi_double: PulumiDouble, github: GithubDouble, kube_api: KubeDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 403 without rate-limit headers or words (a token without access): the token's rights."""
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    github.fault("GET", "/issues/7", status=403)
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", github.url])
    assert result.exit_code == 1
    assert "GitHub API answered 403 for acme/shop#7" in result.output
    assert "check that GITHUB_TOKEN may read issues and pull requests" in " ".join(result.output.split())
    assert "rate limit" not in result.output
    assert github.count("GET") == 1


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
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    slot(pulumi_double, kube_api, 2, f"{REPOSITORY}#issue-404")  # lookup fails
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")  # destroy fails
    slot(pulumi_double, kube_api, 4, f"{REPOSITORY}#pr-9")  # removed
    slot(pulumi_double, kube_api, 5, f"{REPOSITORY}#issue-8")  # open: kept
    pulumi_double.script(destroy=["fail:item-0"])
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", github_api])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert pulumi_double.stacks() == ["ai-slot-2", "ai-slot-3", "ai-slot-5"]
    assert read_outputs(github_files[0]) == {"removed": "ai-slot-4", "failed": "ai-slot-2,ai-slot-3"}
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: gc: 2 slot(s) failed, the others were handled:"]
    assert "  ai-slot-2: GitHub API answered 404 for acme/shop#404" in result.output
    assert "  ai-slot-3: destroy of ai-slot-3 failed: update failed" in result.output
    summary = github_files[1].read_text()
    assert "`ai-slot-4`: pr-9 is closed" in summary
    assert "`ai-slot-3`: **failed**" in summary


def test_gc_closed_without_a_token_warns(
    pulumi_double: PulumiDouble, github_api: str, monkeypatch: pytest.MonkeyPatch, kube_api: KubeDouble
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-404")
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", github_api])
    assert "warning: --closed without $GITHUB_TOKEN" in result.output
    assert "hint: set GITHUB_TOKEN" in result.output
    assert result.exit_code == 1


def test_gc_unreachable_github_is_exit_1(
    pulumi_double: PulumiDouble, monkeypatch: pytest.MonkeyPatch, kube_api: KubeDouble
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    api = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["ci", "gc", "--closed", "--api-url", api])
    assert result.exit_code == 1
    assert f"cannot reach the GitHub API at {api}" in result.output
    assert pulumi_double.stacks() == ["ai-slot-3"]


def test_sigterm_to_cleanup_reaches_the_destroy_and_nothing_is_retried(
    pulumi_double: PulumiDouble, data_root: Path, kube_api: KubeDouble, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    slot(pulumi_double, kube_api, 3, f"{REPOSITORY}#issue-7")
    pulumi_double.script(destroy=["slow:5"])
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("codexctl")), "ci", "cleanup", "--issue", "7", "--keep-namespace"],
        cwd=tmp_path,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pulumi_double.wait_in_step("ai-slot-3")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "destroy of ai-slot-3 was interrupted" in stderr
    assert [c for c in pulumi_double.commands() if c in ("destroy", "stack rm")] == ["destroy"]
    assert slot_leases(kube_api) == {3: f"{REPOSITORY}#issue-7"}  # the slot stays claimed
