"""The lifecycle every step shares: re-run rules, destroy stages, continueOnError, timeout."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from codex_stacks.components.hooks.providers.base import HookError
from codex_stacks.components.hooks.providers.shell import ShellStepProvider
from codex_stacks.components.hooks.providers.sleep import SleepProvider
from tests.hooks.helpers import step_props


def shell(script: str, **kwargs: object) -> dict[str, object]:
    return step_props("run", {"script": script, "env": {}}, **kwargs)  # type: ignore[arg-type]


def test_diff_reruns_on_changed_inputs_or_guarded_objects_never_replaces() -> None:
    provider = SleepProvider()
    olds = step_props("sleep", {"seconds": 0})
    same = provider.diff("id", {**olds, "result": {}, "warnings": []}, dict(olds))
    assert not same.changes
    guarded = provider.diff("id", olds, {**olds, "guard": "fedcba9876543210"})
    assert guarded.changes
    assert not guarded.replaces
    assert not guarded.delete_before_replace
    params = provider.diff("id", olds, {**olds, "params": {"seconds": 1}})
    assert params.changes
    secret = provider.diff("id", olds, {**olds, "secrets": {"openai-secret": "new"}})
    assert secret.changes


def test_always_reruns_every_up_but_not_a_destroy_stage_or_a_stored_registration() -> None:
    """Each up gives an ``always`` step a new run token (the plan makes one per run); registered
    again from a repair store it keeps the old one, and does not run (docs/repair.md)."""
    provider = SleepProvider()
    always = step_props("sleep", {"seconds": 0}, always=True, run="first-up")
    assert provider.diff("id", always, {**always, "run": "second-up"}).changes
    assert not provider.diff("id", always, dict(always)).changes
    armed = step_props("sleep", {"seconds": 0}, always=True, stage="beforeDestroy")
    assert not provider.diff("id", armed, dict(armed)).changes


def test_apply_stage_runs_on_create_and_update_not_on_delete(tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    props = shell(f'echo x >> "{marker}"')
    provider = ShellStepProvider()
    created = provider.create(props)
    assert created.id.startswith("step-")
    assert created.outs["result"] == {"exit_code": 0}
    provider.update(created.id, created.outs, props)
    provider.delete(created.id, created.outs)
    assert marker.read_text().count("x") == 2


@pytest.mark.parametrize("stage", ["beforeDestroy", "afterDestroy"])
def test_destroy_stage_is_armed_on_create_and_runs_on_delete(tmp_path: Path, stage: str) -> None:
    marker = tmp_path / "destroyed"
    props = shell(f'touch "{marker}"', stage=stage)
    provider = ShellStepProvider()
    created = provider.create(props)
    assert created.outs["result"] == {"armed": True}
    provider.update(created.id, created.outs, props)
    assert not marker.exists()
    provider.delete(created.id, created.outs)
    assert marker.exists()


def test_failure_is_an_error_naming_the_step() -> None:
    with pytest.raises(HookError, match=r"hook codex/afterApply/migrate failed: script exited with 3: boom"):
        ShellStepProvider().create(shell("echo boom >&2; exit 3", step="migrate"))


def test_continue_on_error_turns_the_failure_into_a_warning(capfd: pytest.CaptureFixture[str]) -> None:
    created = ShellStepProvider().create(shell("exit 1", continue_on_error=True))
    assert created.outs["result"]["failed"].startswith("script exited with 1")
    assert created.outs["warnings"] == [f"failed, continuing (continueOnError): {created.outs['result']['failed']}"]
    assert "warning: hook codex/afterApply/step: failed, continuing" in capfd.readouterr().err


def test_timeout_kills_the_script_and_its_children(tmp_path: Path) -> None:
    marker = tmp_path / "late"
    started = time.monotonic()
    with pytest.raises(HookError, match=r"timed out after 0.2s"):
        ShellStepProvider().create(shell(f'(sleep 0.5; touch "{marker}") & sleep 5', timeout=0.2))
    assert time.monotonic() - started < 0.5
    time.sleep(0.6)
    assert not marker.exists()  # the background child died with the group


def test_sleep_sleeps_and_a_sleep_past_the_timeout_fails() -> None:
    started = time.monotonic()
    assert SleepProvider().create(step_props("sleep", {"seconds": 0.05})).outs["result"] == {"slept": 0.05}
    assert time.monotonic() - started >= 0.05
    with pytest.raises(HookError, match="timed out after 0.1s"):
        SleepProvider().create(step_props("sleep", {"seconds": 30}, timeout=0.1))
