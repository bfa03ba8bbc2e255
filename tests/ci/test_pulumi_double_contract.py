"""The contract the ``pulumi`` double (tests/ci/pulumi_double.py) keeps with the real CLI.

Each test runs against the double's backend models — ``diy`` (a file backend, the self-managed
layout) and, where the behaviour differs, ``cloud`` — and, under the ``e2e`` marker, against the
real ``pulumi`` on PATH with a file backend (``pytest -m e2e``; needs only the CLI, no cluster).
The program is a small one of its own: dynamic resources whose ``create`` sleeps or fails as
the stack's config says, so the real engine and the double do the same work.

The expectations come from the Pulumi sources the double cites, not from the double.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.ci.conftest import install_double

REAL_PULUMI = shutil.which("pulumi")
"""The real CLI, looked up before any test puts the double on PATH."""

PROGRAM = textwrap.dedent(
    '''\
    """Groups a, b and c (c depends on a): each a component with one dynamic resource."""
    import time

    import pulumi
    from pulumi.dynamic import CreateResult, Resource, ResourceProvider


    class Step(ResourceProvider):
        def create(self, props):
            time.sleep(float(props.get("sleep") or 0))
            if props.get("fail"):
                raise Exception(f"step {props['label']} failed")
            return CreateResult(id_=props["label"], outs=dict(props))


    class StepResource(Resource):
        def __init__(self, name, props, opts=None):
            super().__init__(Step(), name, props, opts)


    config = pulumi.Config()
    failing = (config.get("fail") or "").split(",")
    slow = config.get("slow") or ""
    steps = {}
    for group in ("a", "b", "c"):
        component = pulumi.ComponentResource("contract:index:Group", group)
        depends = [steps["a"]] if group == "c" else []
        steps[group] = StepResource(
            f"{group}/step",
            {"label": group, "fail": group in failing, "sleep": config.get("sleep") if group == slow else 0},
            pulumi.ResourceOptions(parent=component, depends_on=depends),
        )
    pulumi.export("namespace", config.get("namespace") or "ns-default")
    '''
)


@dataclass
class Cli:
    """One CLI (the double with a backend model, or the real one) with a project folder."""

    kind: str
    executable: str
    backend_url: str
    backend: Path | None
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def project(self, folder: Path, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Pulumi.yaml").write_text(
            f"name: {name}\nruntime:\n  name: python\n  options:\n    virtualenv: {sys.prefix}\n"
        )
        (folder / "__main__.py").write_text(PROGRAM)
        return folder

    def environ(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "PULUMI_BACKEND_URL": self.backend_url,
            "PULUMI_CONFIG_PASSPHRASE": "contract",
            "PULUMI_HOME": str(self.home),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            **self.env,
            **extra,
        }
        env.pop("PULUMI_ACCESS_TOKEN", None) if self.kind != "cloud" else None
        return env

    def run(self, cwd: Path, *args: str, check: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.executable, *args, "--non-interactive"],
            cwd=cwd,
            env=self.environ(**env),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def start(self, cwd: Path, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.executable, *args, "--non-interactive"],
            cwd=cwd,
            env=self.environ(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def lock_dir(self, project: str, stack: str) -> Path:
        assert self.backend is not None
        return self.backend / ".pulumi" / "locks" / "organization" / project / stack

    def locks(self, project: str, stack: str) -> list[Path]:
        folder = self.lock_dir(project, stack)
        return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _double(tmp_path: Path, kind: str) -> Cli:
    executable = install_double(tmp_path / "double")
    state = tmp_path / "double-state"
    state.mkdir()
    backend = tmp_path / "backend"
    env = {"PULUMI_DOUBLE_STATE": str(state), "PULUMI_DOUBLE_DYNAMIC": "run"}
    if kind == "cloud":
        env["PULUMI_ACCESS_TOKEN"] = "pul-double"
        return Cli("cloud", str(executable), "https://api.pulumi.com", None, tmp_path / "home", env)
    return Cli("diy", str(executable), f"file://{backend}", backend, tmp_path / "home", env)


def _real(tmp_path: Path) -> Cli:
    if REAL_PULUMI is None:
        pytest.skip("the real pulumi CLI is not on PATH")
    backend = tmp_path / "backend"
    backend.mkdir()
    return Cli("real", REAL_PULUMI, f"file://{backend}", backend, tmp_path / "home")


@pytest.fixture(params=["diy", pytest.param("real", marks=pytest.mark.e2e)])
def diy(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    """A self-managed backend: the double's diy model, or the real CLI with a file backend."""
    return _real(tmp_path) if request.param == "real" else _double(tmp_path, "diy")


@pytest.fixture(params=["diy", "cloud", pytest.param("real", marks=pytest.mark.e2e)])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    if request.param == "real":
        return _real(tmp_path)
    return _double(tmp_path, request.param)


@pytest.fixture
def project(cli: Cli, tmp_path: Path) -> Path:
    return cli.project(tmp_path / "proj", "contract")


@pytest.fixture
def diy_project(diy: Cli, tmp_path: Path) -> Path:
    return diy.project(tmp_path / "proj", "contract")


def up(cli: Cli, cwd: Path, stack: str, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    return cli.run(cwd, "up", "--yes", "--skip-preview", "--stack", stack, *extra, **env)


def config_set(cli: Cli, cwd: Path, stack: str, key: str, value: str) -> None:
    cli.run(cwd, "config", "set", key, "--plaintext", "--stack", stack, "--", value, check=True)


def stack_json(cli: Cli, cwd: Path, *args: str) -> Any:
    done = cli.run(cwd, *args, check=True)
    return json.loads(done.stdout)


# ------------------------------------------------------------------------------------------
# Stacks


def test_a_fresh_stack_lists_name_and_current_only_and_has_no_outputs(cli: Cli, project: Path) -> None:
    """stack_ls.go formatStackSummariesJSON: lastUpdate and resourceCount only once deployed;
    stack_output.go on a never-deployed stack: ``{}`` (diy getSnapshotStackOutputs)."""
    cli.run(project, "stack", "init", "dev", check=True)
    [row] = stack_json(cli, project, "stack", "ls", "--json")
    assert row["name"] == "dev"
    assert "lastUpdate" not in row
    assert "resourceCount" not in row
    assert stack_json(cli, project, "stack", "output", "--json", "--stack", "dev") == {}


def test_outputs_exist_only_after_a_successful_up(cli: Cli, project: Path) -> None:
    cli.run(project, "stack", "init", "dev", check=True)
    config_set(cli, project, "dev", "namespace", "team-ns")
    done = up(cli, project, "dev")
    assert done.returncode == 0, done.stdout + done.stderr
    assert stack_json(cli, project, "stack", "output", "--json", "--stack", "dev") == {"namespace": "team-ns"}
    [row] = stack_json(cli, project, "stack", "ls", "--json")
    assert row["resourceCount"] == 7  # the root Stack, 3 components, 3 dynamic resources
    assert "lastUpdate" in row


def test_a_second_init_of_a_stack_fails(cli: Cli, project: Path) -> None:
    """backenderr.StackAlreadyExistsError: ``stack '<org>/<project>/<stack>' already exists``."""
    cli.run(project, "stack", "init", "dev", check=True)
    done = cli.run(project, "stack", "init", "dev")
    assert done.returncode != 0
    assert "/contract/dev' already exists" in done.stderr


def test_select_of_a_missing_stack_fails(cli: Cli, project: Path) -> None:
    done = cli.run(project, "stack", "select", "--stack", "nope")
    assert done.returncode != 0
    assert "no stack named 'nope' found" in done.stderr


def test_stacks_are_kept_per_project(cli: Cli, tmp_path: Path) -> None:
    """Project mode (diy store.go projectReferenceStore): one stack name in two projects is two
    stacks, and ``stack ls`` lists the current project's only."""
    first = cli.project(tmp_path / "one", "team-one")
    second = cli.project(tmp_path / "two", "team-two")
    cli.run(first, "stack", "init", "ai-slot-1", check=True)
    cli.run(second, "stack", "init", "ai-slot-1", check=True)
    config_set(cli, first, "ai-slot-1", "namespace", "one-ns")
    assert up(cli, first, "ai-slot-1").returncode == 0
    assert [r["name"] for r in stack_json(cli, first, "stack", "ls", "--json")] == ["ai-slot-1"]
    assert [r["name"] for r in stack_json(cli, second, "stack", "ls", "--json")] == ["ai-slot-1"]
    assert stack_json(cli, second, "stack", "output", "--json", "--stack", "ai-slot-1") == {}
    assert stack_json(cli, first, "stack", "output", "--json", "--stack", "ai-slot-1") == {"namespace": "one-ns"}
    if cli.backend is not None:
        stacks = cli.backend / ".pulumi" / "stacks"
        assert (stacks / "team-one" / "ai-slot-1.json").is_file()
        assert (stacks / "team-two" / "ai-slot-1.json").is_file()


def test_stack_rm_refuses_a_stack_with_resources(cli: Cli, project: Path) -> None:
    cli.run(project, "stack", "init", "dev", check=True)
    assert up(cli, project, "dev").returncode == 0
    done = cli.run(project, "stack", "rm", "--yes", "dev")
    assert done.returncode != 0
    assert "'dev' still has resources; removal rejected" in done.stderr
    assert cli.run(project, "destroy", "--yes", "--skip-preview", "--stack", "dev").returncode == 0
    cli.run(project, "stack", "rm", "--yes", "dev", check=True)
    assert stack_json(cli, project, "stack", "ls", "--json") == []


def test_tags_on_a_current_cli(cli: Cli, project: Path) -> None:
    """stack_tags.go (diy since v3.211.0): user tags only on diy, system tags on the cloud."""
    cli.run(project, "stack", "init", "dev", check=True)
    cli.run(project, "stack", "tag", "set", "codex:binding", "acme/shop#issue-1", "--stack", "dev", check=True)
    tags = stack_json(cli, project, "stack", "tag", "ls", "--json", "--stack", "dev")
    assert tags["codex:binding"] == "acme/shop#issue-1"
    if cli.kind != "cloud":
        assert tags == {"codex:binding": "acme/shop#issue-1"}
    missing = cli.run(project, "stack", "tag", "get", "nope", "--stack", "dev")
    assert missing.returncode != 0
    assert "stack tag 'nope' not found for stack 'dev'" in missing.stderr


def test_tags_need_3_211_on_a_self_managed_backend(tmp_path: Path) -> None:
    """Before v3.211.0 diyBackend.UpdateStackTags answered ``stack tags not supported in diy mode``."""
    cli = _double(tmp_path, "diy")
    project = cli.project(tmp_path / "proj", "contract")
    cli.run(project, "stack", "init", "dev", check=True)
    old = cli.run(project, "stack", "tag", "set", "k", "v", "--stack", "dev", PULUMI_DOUBLE_VERSION="3.210.0")
    assert old.returncode != 0
    assert "stack tags not supported in diy mode" in old.stderr
    listed = cli.run(project, "stack", "tag", "ls", "--json", "--stack", "dev", PULUMI_DOUBLE_VERSION="3.210.0")
    assert listed.stdout.strip() == "null"


# ------------------------------------------------------------------------------------------
# Locks (pkg/backend/diy/lock.go) and cancel (backend.go CancelCurrentUpdate)


def plant_lock(cli: Cli, project: str, stack: str, *, pid: int = 4242, host: str = "elsewhere") -> Path:
    folder = cli.lock_dir(project, stack)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4()}.json"
    path.write_text(json.dumps({"pid": pid, "username": "ci", "hostname": host, "timestamp": "2024-01-02T03:04:05Z"}))
    return path


def test_a_foreign_lock_blocks_updates_with_the_locked_message(diy: Cli, diy_project: Path) -> None:
    diy.run(diy_project, "stack", "init", "dev", check=True)
    lock = plant_lock(diy, "contract", "dev")
    done = up(diy, diy_project, "dev")
    assert done.returncode != 0
    assert "the stack is currently locked by 1 lock(s)." in done.stderr
    assert f"{lock.name}" in done.stderr
    assert "created by ci@elsewhere (pid 4242) at 2024-01-02T03:04:05Z" in done.stderr
    removal = diy.run(diy_project, "stack", "rm", "--yes", "dev")
    assert "the stack is currently locked by 1 lock(s)." in removal.stderr
    assert diy.locks("contract", "dev") == [lock]  # nothing of its own left behind


def test_a_lock_of_another_stack_does_not_matter(diy: Cli, diy_project: Path) -> None:
    diy.run(diy_project, "stack", "init", "dev", check=True)
    plant_lock(diy, "contract", "other")
    assert up(diy, diy_project, "dev").returncode == 0
    assert diy.locks("contract", "dev") == []


def test_cancel_deletes_every_lock_and_leaves_the_update_running(diy: Cli, diy_project: Path) -> None:
    """CancelCurrentUpdate lists the lock folder and deletes every lock; it signals no process."""
    diy.run(diy_project, "stack", "init", "dev", check=True)
    config_set(diy, diy_project, "dev", "slow", "a")
    config_set(diy, diy_project, "dev", "sleep", "4")
    running = diy.start(diy_project, "up", "--yes", "--skip-preview", "--stack", "dev")
    try:
        _wait_for(lambda: diy.locks("contract", "dev"), timeout=60)
        cancel = diy.run(diy_project, "cancel", "--yes", "--stack", "dev")
        assert cancel.returncode == 0, cancel.stderr
        assert "The currently running update for 'dev' has been canceled!" in cancel.stdout
        assert diy.locks("contract", "dev") == []
        assert running.poll() is None  # the update goes on
        second = up(diy, diy_project, "dev")  # nothing stops a second update now
        assert second.returncode == 0, second.stdout + second.stderr
        stdout, stderr = running.communicate(timeout=120)
    finally:
        running.kill()
    assert "there was a problem deleting the lock" in stdout + stderr


def test_one_sigint_cancels_gracefully_and_releases_the_lock(diy: Cli, diy_project: Path) -> None:
    """cancellation_scope.go: the first SIGINT waits for in-flight steps, reports ``update
    canceled`` and unlocks; the exit is non-zero."""
    diy.run(diy_project, "stack", "init", "dev", check=True)
    config_set(diy, diy_project, "dev", "slow", "a")
    config_set(diy, diy_project, "dev", "sleep", "3")
    running = diy.start(diy_project, "up", "--yes", "--skip-preview", "--stack", "dev")
    _wait_for(lambda: in_flight(diy, "dev", "a/step"), timeout=90)  # the slow step is in flight
    running.send_signal(signal.SIGINT)
    started = time.monotonic()
    stdout, stderr = running.communicate(timeout=120)
    assert running.returncode != 0
    assert "received; cancelling" in stdout
    assert "update canceled" in stdout + stderr
    assert time.monotonic() - started > 0.5  # the in-flight step was awaited
    assert diy.locks("contract", "dev") == []


def test_pending_operations_warn_and_the_next_up_goes_on(diy: Cli, diy_project: Path) -> None:
    """Two SIGINTs terminate mid-step: the checkpoint keeps a pending operation; the next up warns
    (deployment_executor.go printPendingOperationsWarning) and succeeds, keeping it."""
    diy.run(diy_project, "stack", "init", "dev", check=True)
    config_set(diy, diy_project, "dev", "slow", "b")
    config_set(diy, diy_project, "dev", "sleep", "30")
    running = diy.start(diy_project, "up", "--yes", "--skip-preview", "--stack", "dev")

    def pending() -> list[Any]:
        return pending_ops(diy, "dev")

    _wait_for(lambda: in_flight(diy, "dev", "b/step"), timeout=90)
    running.send_signal(signal.SIGINT)
    time.sleep(0.5)
    running.send_signal(signal.SIGINT)
    stdout, _ = running.communicate(timeout=60)
    assert "terminating" in stdout
    assert [op["type"] for op in pending()] == ["creating"]
    config_set(diy, diy_project, "dev", "sleep", "0")
    again = up(diy, diy_project, "dev")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "pending operations from previous deployment" in again.stdout
    refreshed = diy.run(diy_project, "refresh", "--yes", "--skip-preview", "--clear-pending-creates", "--stack", "dev")
    assert refreshed.returncode == 0, refreshed.stderr
    assert pending() == []


def test_concurrent_stack_inits_never_both_win(diy: Cli, diy_project: Path) -> None:
    """Lock = list, write, list: with consistent listings at most one of N creators of one stack
    succeeds; the others fail locked, already-exists, or with the raw read error of a lock that
    vanished (lock.go checkForLock)."""
    procs = [diy.start(diy_project, "stack", "init", "shared", "--no-select") for _ in range(8)]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    winners = [code for code, _ in results if code == 0]
    assert len(winners) <= 1
    for code, stderr in results:
        if code != 0:
            assert any(
                text in stderr for text in ("currently locked by", "already exists", "code=NotFound", "no such file")
            ), stderr


def test_a_lagging_listing_lets_two_updates_hold_the_lock(tmp_path: Path) -> None:
    """The double's lag model: where listings lag (NFS, some S3-compatible stores), list-write-list
    is no mutual exclusion: two updates of one stack both take the lock and both run."""
    cli = _double(tmp_path, "diy")
    project = cli.project(tmp_path / "proj", "contract")
    cli.run(project, "stack", "init", "dev", check=True)
    config_set(cli, project, "dev", "slow", "a")
    config_set(cli, project, "dev", "sleep", "2")
    procs = [cli.start(project, "up", "--yes", "--skip-preview", "--stack", "dev", PULUMI_DOUBLE_LIST_LAG="30")]
    _wait_for(lambda: cli.locks("contract", "dev"), timeout=60)
    procs.append(cli.start(project, "up", "--yes", "--skip-preview", "--stack", "dev", PULUMI_DOUBLE_LIST_LAG="30"))
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    consistent = [cli.start(project, "up", "--yes", "--skip-preview", "--stack", "dev") for _ in range(2)]
    codes = sorted(p.wait(timeout=120) for p in consistent)
    assert codes[0] == 0
    assert codes[1] != 0  # without the lag the second one is refused


def test_the_cloud_creates_atomically_and_refuses_a_second_update(tmp_path: Path) -> None:
    cli = _double(tmp_path, "cloud")
    project = cli.project(tmp_path / "proj", "contract")
    procs = [cli.start(project, "stack", "init", "shared") for _ in range(8)]
    codes = [p.wait(timeout=120) for p in procs]
    assert codes.count(0) == 1
    config_set(cli, project, "shared", "slow", "a")
    config_set(cli, project, "shared", "sleep", "3")
    running = cli.start(project, "up", "--yes", "--skip-preview", "--stack", "shared")
    time.sleep(1.5)
    second = up(cli, project, "shared")
    assert second.returncode != 0
    assert "[409] Conflict: Another update is currently in progress." in second.stderr
    cancel = cli.run(project, "cancel", "--yes", "--stack", "shared")
    assert cancel.returncode == 0
    running.communicate(timeout=60)
    assert running.returncode != 0  # the service cancelled it


# ------------------------------------------------------------------------------------------
# Targets, failures and events (deployment_executor.go, up.go --continue-on-error)


def test_an_unknown_target_fails_the_update(cli: Cli, project: Path) -> None:
    cli.run(project, "stack", "init", "dev", check=True)
    target = "urn:pulumi:dev::contract::contract:index:Group::zzz"
    done = up(cli, project, "dev", "--target", target)
    assert done.returncode != 0
    assert f"Target '{target}' could not be found in the stack." in done.stdout
    known = "urn:pulumi:dev::contract::contract:index:Group::a"
    assert up(cli, project, "dev", "--target", known).returncode == 0


def test_continue_on_error_keeps_independent_groups_going(cli: Cli, project: Path, tmp_path: Path) -> None:
    """A failed step fails its dependents only; the run is non-zero; the failure is an event."""
    cli.run(project, "stack", "init", "dev", check=True)
    config_set(cli, project, "dev", "fail", "a")
    log = tmp_path / "events.jsonl"
    done = up(cli, project, "dev", "--continue-on-error", "--event-log", str(log), PULUMI_DEBUG_COMMANDS="true")
    assert done.returncode != 0
    events = [json.loads(line) for line in log.read_text().splitlines()]
    failed = [e["resOpFailedEvent"]["metadata"]["urn"] for e in events if "resOpFailedEvent" in e]
    assert [urn.rsplit("::", 1)[-1] for urn in failed] == ["a/step"]
    errors = [e["diagnosticEvent"] for e in events if e.get("diagnosticEvent", {}).get("severity") == "error"]
    assert any("step a failed" in e["message"] for e in errors)
    outputs = [e for e in events if "resOutputsEvent" in e]
    done_urns = {e["resOutputsEvent"]["metadata"]["urn"].rsplit("::", 1)[-1] for e in outputs}
    assert "b/step" in done_urns
    assert "c/step" not in done_urns
    assert "summaryEvent" in events[-2]
    assert "cancelEvent" in events[-1]


def pending_ops(cli: Cli, stack: str) -> list[Any]:
    """``latest.pending_operations`` of the stack's checkpoint (the engine writes it before a step)."""
    assert cli.backend is not None
    path = cli.backend / ".pulumi" / "stacks" / "contract" / f"{stack}.json"
    latest = json.loads(path.read_text())["checkpoint"].get("latest") or {}
    return list(latest.get("pending_operations") or [])


def in_flight(cli: Cli, stack: str, name: str) -> bool:
    return any(op["resource"]["urn"].endswith(f"::{name}") for op in pending_ops(cli, stack))


def _wait_for(check: Any, *, timeout: float) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")
