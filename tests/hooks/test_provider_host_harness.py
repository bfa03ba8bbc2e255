"""The provider-host harness: registrations under mocks, then the SDK's real provider host.

The sample provider writes a real file in ``tmp_path``, so every step is checked on disk,
not on what a mock answered.
"""

from __future__ import annotations

import base64
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import CreateResult, Resource, ResourceProvider
from pulumi.runtime import settings as pulumi_settings

from tests.support.provider_host import (
    PROVIDER_KEY,
    REPO_ROOT,
    SECRET_SIG,
    SIG_KEY,
    DynamicRegistration,
    ProviderHost,
    ProviderHostError,
    capture_dynamic_registration,
)
from tests.support.sample_provider import SampleFile

SAMPLE_TYPE = "pulumi-python:dynamic/codex:SampleFile"


def register_file(
    directory: Path,
    *,
    name: str = "greeting",
    filename: str = "hello.txt",
    content: str = "hello",
    fail_with: str | None = None,
    stack: str = "test",
) -> DynamicRegistration:
    """Register one SampleFile under mocks and return its registration."""

    def build() -> None:
        SampleFile(
            name,
            directory=str(directory),
            filename=filename,
            content=content,
            token=pulumi.Output.secret("s3cr3t"),
            fail_with=fail_with,
        )

    (registration,) = capture_dynamic_registration(build, stack=stack)
    return registration


@pytest.fixture(scope="module")
def host() -> Iterator[ProviderHost]:
    """One provider host for the module, as the engine keeps one per deployment."""
    with ProviderHost(config={"codex:stamp": "from-config"}) as running:
        yield running


# --------------------------------------------------------------------------- registration


def test_registration_keeps_pickled_provider_and_secret_markers(tmp_path: Path) -> None:
    registration = register_file(tmp_path)

    assert registration.type == SAMPLE_TYPE
    assert registration.name == "greeting"
    assert registration.urn == f"urn:pulumi:test::codex::{SAMPLE_TYPE}::greeting"
    assert registration.parent == "urn:pulumi:test::codex::pulumi:pulumi:Stack::codex-test"
    # The SDK makes the pickled provider a secret by default; the token was made one.
    assert registration.raw_inputs[PROVIDER_KEY][SIG_KEY] == SECRET_SIG
    assert registration.raw_inputs["token"] == {SIG_KEY: SECRET_SIG, "value": "s3cr3t"}
    assert registration.is_secret("token")
    assert not registration.is_secret("content")
    assert registration.inputs["token"] == "s3cr3t"
    assert registration.inputs["content"] == "hello"
    # Pickled by reference: the host must import the class from its module path.
    pickle = base64.b64decode(registration.provider)
    assert b"tests.support.sample_provider" in pickle
    assert b"FileProvider" in pickle


def test_registration_records_parent_and_dependencies(tmp_path: Path) -> None:
    def build() -> None:
        group = pulumi.ComponentResource("codex:test:Group", "group")
        inner = pulumi.ComponentResource("codex:test:Inner", "inner", opts=pulumi.ResourceOptions(parent=group))
        first = SampleFile(
            "first",
            directory=str(tmp_path),
            filename="a.txt",
            content="a",
            opts=pulumi.ResourceOptions(parent=inner),
        )
        SampleFile(
            "second",
            directory=str(tmp_path),
            filename="b.txt",
            content=first.id,
            opts=pulumi.ResourceOptions(depends_on=[first]),
        )

    first, second = capture_dynamic_registration(build, stack="deps")

    # URNs as the engine builds them: the whole parent type chain, without the root stack.
    inner_urn = "urn:pulumi:deps::codex::codex:test:Group$codex:test:Inner::inner"
    chain = f"codex:test:Group$codex:test:Inner${SAMPLE_TYPE}"
    assert first.urn == f"urn:pulumi:deps::codex::{chain}::first"
    assert first.parent == inner_urn
    assert second.urn == f"urn:pulumi:deps::codex::{SAMPLE_TYPE}::second"
    assert second.dependencies == (first.urn,)
    assert second.property_dependencies["content"] == (first.urn,)


def test_programs_in_one_process_do_not_leak_into_each_other(tmp_path: Path) -> None:
    stack_before = pulumi.get_stack()
    first = register_file(tmp_path, name="one", stack="first")
    second = register_file(tmp_path, name="two", stack="second")

    assert first.urn.startswith("urn:pulumi:first::codex::")
    assert second.urn == f"urn:pulumi:second::codex::{SAMPLE_TYPE}::two"
    assert second.parent == "urn:pulumi:second::codex::pulumi:pulumi:Stack::codex-second"
    # The caller's runtime state is untouched.
    assert pulumi.get_stack() == stack_before
    assert pulumi_settings.get_root_resource() is None


def test_config_reaches_the_program_and_stays_there(tmp_path: Path) -> None:
    def build() -> None:
        greeting = pulumi.Config().require("greeting")
        SampleFile("configured", directory=str(tmp_path), filename="c.txt", content=greeting)

    (registration,) = capture_dynamic_registration(build, config={"codex:greeting": "bonjour"})

    assert registration.inputs["content"] == "bonjour"
    assert pulumi.Config("codex").get("greeting") is None


def test_program_error_propagates_and_next_program_still_runs(tmp_path: Path) -> None:
    def build() -> None:
        SampleFile("before-error", directory=str(tmp_path), filename="e.txt", content="e")
        raise ValueError("program bug")

    with pytest.raises(ValueError, match="program bug"):
        capture_dynamic_registration(build)

    assert register_file(tmp_path).name == "greeting"


# --------------------------------------------------------------------------- provider host


def test_lifecycle_runs_through_the_provider_host(host: ProviderHost, tmp_path: Path) -> None:
    registration = register_file(tmp_path, content="hello")
    urn = registration.urn
    target = tmp_path / "hello.txt"

    checked = host.check(urn, {}, registration.raw_inputs)
    assert checked.failures == ()
    # Like the engine, the harness strips secrets: this host does not accept them.
    assert not host.accepts_secrets
    assert checked.inputs["token"] == "s3cr3t"
    assert checked.inputs[PROVIDER_KEY] == registration.provider

    created = host.create(urn, checked.inputs)
    assert created.id == str(target)
    assert target.read_text(encoding="utf-8") == "hello"
    assert created.outputs["path"] == str(target)
    assert created.outputs["stamp"] == "from-config"
    assert created.outputs[PROVIDER_KEY] == registration.provider

    unchanged = host.diff(created.id, urn, created.outputs, checked.inputs)
    assert unchanged.changes == "none"
    assert not unchanged.has_changes

    edited = register_file(tmp_path, content="hello again")
    news = host.check(urn, checked.inputs, edited.raw_inputs).inputs
    changed = host.diff(created.id, urn, created.outputs, news, old_inputs=checked.inputs)
    assert changed.changes == "some"
    assert changed.replaces == ()
    assert not changed.delete_before_replace

    updated = host.update(created.id, urn, created.outputs, news, old_inputs=checked.inputs)
    assert updated["content"] == "hello again"
    assert target.read_text(encoding="utf-8") == "hello again"

    moved = register_file(tmp_path, filename="moved.txt", content="hello again")
    moved_news = host.check(urn, news, moved.raw_inputs).inputs
    replacing = host.diff(created.id, urn, updated, moved_news)
    assert replacing.replaces == ("filename",)
    assert replacing.delete_before_replace

    target.write_text("edited by hand", encoding="utf-8")
    refreshed = host.read(created.id, urn, updated, inputs=news)
    assert refreshed.id == created.id
    assert refreshed.outputs["content"] == "edited by hand"

    host.delete(created.id, urn, updated)
    assert not target.exists()


def test_secret_config_reaches_configure_unwrapped(tmp_path: Path) -> None:
    registration = register_file(tmp_path)

    with ProviderHost(config={"codex:stamp": "hush"}, secret_config_keys=["codex:stamp"]) as secret_host:
        inputs = secret_host.check(registration.urn, {}, registration.raw_inputs).inputs
        created = secret_host.create(registration.urn, inputs)

    assert created.outputs["stamp"] == "hush"
    assert (tmp_path / "hello.txt").read_text(encoding="utf-8") == "hello"


def test_check_failures_come_back_as_values(host: ProviderHost, tmp_path: Path) -> None:
    registration = register_file(tmp_path, filename="../escape.txt")

    checked = host.check(registration.urn, {}, registration.raw_inputs)

    assert [failure.property for failure in checked.failures] == ["filename"]
    assert "plain" in checked.failures[0].reason


def test_provider_exception_surfaces_as_provider_host_error(host: ProviderHost, tmp_path: Path) -> None:
    registration = register_file(tmp_path, fail_with="disk full")
    inputs = host.check(registration.urn, {}, registration.raw_inputs).inputs

    with pytest.raises(ProviderHostError) as caught:
        host.create(registration.urn, inputs)

    error = caught.value
    assert error.method == "Create"
    assert error.code is not None
    assert error.code.name == "UNKNOWN"
    assert "RuntimeError: sample provider refused: disk full" in error.details
    assert not (tmp_path / "hello.txt").exists()


def test_slow_provider_hits_the_call_deadline(tmp_path: Path) -> None:
    class SlowProvider(ResourceProvider):
        def create(self, props: dict[str, Any]) -> CreateResult:
            import time

            time.sleep(30)
            return CreateResult("never", {})

    class Slow(Resource, module="test", name="Slow"):
        pass

    def build() -> None:
        Slow(SlowProvider(), "slow", {"value": "x"})

    (registration,) = capture_dynamic_registration(build)

    with ProviderHost() as slow_host, pytest.raises(ProviderHostError) as caught:
        slow_host.create(registration.urn, registration.raw_inputs, timeout=0.5)

    assert caught.value.code is not None
    assert caught.value.code.name == "DEADLINE_EXCEEDED"


# --------------------------------------------------------------------------- pickling


def test_provider_pickled_by_value_needs_no_import(tmp_path: Path) -> None:
    """A class defined in a function is pickled by value (dill): it runs from any cwd."""

    class InlineProvider(ResourceProvider):
        def create(self, props: dict[str, Any]) -> CreateResult:
            import pathlib

            pathlib.Path(props["path"]).write_text("inline", encoding="utf-8")
            return CreateResult(props["path"], {})

    class Inline(Resource, module="test", name="Inline"):
        pass

    target = tmp_path / "inline.txt"

    def build() -> None:
        Inline(InlineProvider(), "inline", {"path": str(target)})

    (registration,) = capture_dynamic_registration(build)
    assert b"tests.support" not in base64.b64decode(registration.provider)

    with ProviderHost(cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}) as elsewhere:
        elsewhere.create(registration.urn, registration.raw_inputs)

    assert target.read_text(encoding="utf-8") == "inline"


def test_provider_pickled_by_reference_needs_the_project_root(tmp_path: Path) -> None:
    """The host imports a by-reference provider from its cwd; elsewhere it cannot."""
    registration = register_file(tmp_path)

    with (
        ProviderHost(cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}) as elsewhere,
        pytest.raises(ProviderHostError) as caught,
    ):
        elsewhere.check(registration.urn, {}, registration.raw_inputs)

    assert "No module named 'tests'" in caught.value.details
    # ...which is why the default cwd is the project root, as the engine uses.
    assert Path(__file__).resolve().parents[2] == REPO_ROOT


# --------------------------------------------------------------------------- host process


def _script(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell script as the host")
def test_host_that_dies_at_start_reports_its_stderr(tmp_path: Path) -> None:
    broken = _script(tmp_path / "broken-python", "echo 'cannot import pulumi' >&2; exit 3")

    with pytest.raises(ProviderHostError) as caught:
        ProviderHost(python=broken).start()

    assert "exited with code 3" in str(caught.value)
    assert "cannot import pulumi" in caught.value.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell script as the host")
def test_host_that_never_prints_a_port_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    silent = _script(tmp_path / "silent-python", f"echo $$ > {pid_file}; exec sleep 60")
    host = ProviderHost(python=silent, startup_timeout=0.5)

    with pytest.raises(ProviderHostError, match="no port within"):
        host.start()

    pid = int(pid_file.read_text(encoding="utf-8"))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
