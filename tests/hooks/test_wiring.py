"""Hook steps in the real program under mocks: types, parents, dependency edges, secrets.

Pulumi creates a resource after everything it depends on and deletes it before them, so the
edges asserted here fix both the apply and the destroy order of every stage.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from codex_stacks.cli.preview import render_tree, reveal, write_components
from codex_stacks.offline.runner import ProgramRun, Registration, run_program
from tests.hooks.helpers import ALIMENTOR, all_hooks_project

HOOK = "pulumi-python:dynamic/codex-hooks:"
CANARY = "sk-canary-0d15ea5e"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


@cache
def program(project: str, stack: str = "ai-slot-3", openai: str | None = None) -> ProgramRun:
    config = {"codex:projectDir": project}
    if openai is not None:
        config["codex:openaiApiKey"] = openai
    return run_program(stack, config)


@pytest.fixture(scope="module")
def every_hook(tmp_path_factory: pytest.TempPathFactory) -> ProgramRun:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ISSUE_TITLE", raising=False)
        return program(str(all_hooks_project(tmp_path_factory.mktemp("wiring"))))


def find(run: ProgramRun, name: str) -> Registration:
    return next(r for r in run.registrations if r.name == name)


def objects_of(run: ProgramRun, component: str) -> list[Registration]:
    parent = find(run, component).urn
    return [r for r in run.children(parent) if r.type.startswith("kubernetes:")]


def reachable(run: ProgramRun, start: Registration) -> set[str]:
    """Every URN ``start`` waits for, directly or not (components' dependencies are children)."""
    by_urn = {r.urn: r for r in run.registrations}
    seen: set[str] = set()
    todo = list(start.dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen:
            continue
        seen.add(urn)
        if urn in by_urn:
            todo.extend(by_urn[urn].dependencies)
    return seen


def urns(items: Iterable[Registration]) -> set[str]:
    return {item.urn for item in items}


def test_one_resource_per_step_with_a_type_per_action(every_hook: ProgramRun) -> None:
    steps = {r.name: r.type.removeprefix(HOOK) for r in every_hook.registrations if r.type.startswith(HOOK)}
    assert steps == {
        "hook/beforeAll/ensure-data-dirs": "EnsureDataDirs",
        "hook/beforeAll/preflight": "Preflight",
        "hook/afterAll/settle": "Sleep",
        "hook/afterAll/announce": "GithubComment",
        "base/hook/beforeApply/note": "ShellStep",
        "base/hook/afterApply/postgres-ready": "KubectlWait",
        "base/hook/beforeDestroy/dump": "ShellStep",
        "base/hook/afterDestroy/farewell": "ShellStep",
        "codex/hook/beforeApply/ensure-codex-secrets": "EnsureCodexSecrets",
        "codex/hook/afterApply/reuse-dev-tls-secret": "ReuseDevTlsSecret",
        "codex/hook/afterApply/check-dev-host-ports": "CheckDevHostPorts",
    }
    assert find(every_hook, "codex/hook/afterApply/reuse-dev-tls-secret").parent == find(every_hook, "codex").urn
    assert find(every_hook, "hook/beforeAll/preflight").parent.endswith("pulumi:pulumi:Stack::codex-stacks-ai-slot-3")


def test_before_apply_is_a_dependency_of_its_components_objects(every_hook: ProgramRun) -> None:
    step = find(every_hook, "codex/hook/beforeApply/ensure-codex-secrets")
    objects = objects_of(every_hook, "codex")
    assert objects
    for obj in objects:
        assert step.urn in obj.dependencies or step.urn in reachable(every_hook, obj), obj.name
    first_tier = [obj for obj in objects if step.urn in obj.dependencies]
    assert first_tier  # a direct edge, not only through something else
    # and it waits for what the component waits for: the namespace exists before secrets go in
    assert find(every_hook, "base/namespace/alimentor-dev-3").urn in step.dependencies


def test_after_apply_depends_on_every_object_and_chains_in_file_order(every_hook: ProgramRun) -> None:
    tls = find(every_hook, "codex/hook/afterApply/reuse-dev-tls-secret")
    ports = find(every_hook, "codex/hook/afterApply/check-dev-host-ports")
    assert set(tls.dependencies) == urns(objects_of(every_hook, "codex"))
    assert ports.dependencies == (tls.urn,)
    wait = find(every_hook, "base/hook/afterApply/postgres-ready")
    assert set(wait.dependencies) == urns(objects_of(every_hook, "base"))


def test_destroy_stages_use_the_reverse_delete_order(every_hook: ProgramRun) -> None:
    base_objects = objects_of(every_hook, "base")
    # beforeDestroy depends on the objects: the engine deletes it (runs it) before any of them
    dump = find(every_hook, "base/hook/beforeDestroy/dump")
    assert set(dump.dependencies) == urns(base_objects)
    # afterDestroy is a dependency of the objects: deleted (run) after all of them are gone
    farewell = find(every_hook, "base/hook/afterDestroy/farewell")
    for obj in base_objects:
        assert farewell.urn in reachable(every_hook, obj), obj.name
    assert dump.inputs["stage"] == "beforeDestroy"
    assert farewell.inputs["stage"] == "afterDestroy"


def test_before_all_precedes_everything_and_after_all_follows_everything(every_hook: ProgramRun) -> None:
    dirs = find(every_hook, "hook/beforeAll/ensure-data-dirs")
    preflight = find(every_hook, "hook/beforeAll/preflight")
    assert dirs.dependencies == ()
    assert preflight.dependencies == (dirs.urn,)
    everything = [
        r
        for r in every_hook.registrations
        if r.custom and not r.type.startswith("pulumi:providers:") and not r.name.startswith("hook/")
    ]
    assert len(everything) > 10
    for resource in everything:
        assert preflight.urn in reachable(every_hook, resource), resource.name
    settle = find(every_hook, "hook/afterAll/settle")
    announce = find(every_hook, "hook/afterAll/announce")
    assert announce.dependencies == (settle.urn,)
    waits = reachable(every_hook, settle)
    for resource in everything:
        assert resource.urn in waits, resource.name


def test_the_secrets_a_step_holds_stay_encrypted_in_state(every_hook: ProgramRun) -> None:
    """The engine stores a step's outputs; ``secrets`` among them must be a secret output, and the
    Secret objects' data likewise (as the SDK's typed Secret class declares it)."""
    steps = [r for r in every_hook.registrations if r.type.startswith(HOOK)]
    assert steps
    for step in steps:
        assert "secrets" in step.additional_secret_outputs, step.name
    run = program(str(ALIMENTOR))
    secrets = [r for r in run.registrations if r.type == "kubernetes:core/v1:Secret"]
    assert secrets
    for secret in secrets:
        assert {"data", "stringData"} <= set(secret.additional_secret_outputs), secret.name


def test_secret_config_reaches_the_steps_as_secret_inputs_only(tmp_path: Path) -> None:
    run = program(str(all_hooks_project(tmp_path)), openai=CANARY)
    secrets = find(run, "codex/hook/beforeApply/ensure-codex-secrets")
    wrapped = secrets.raw_inputs["secrets"]
    assert wrapped[SIG_KEY] == SECRET_SIG
    assert wrapped["value"] == {"openai-secret": CANARY}
    for registration in run.registrations:
        assert CANARY not in json.dumps(strip_secrets(registration.raw_inputs), default=str), registration.name
        assert CANARY not in repr(reveal(dict(registration.inputs), show_secrets=False)), registration.name
    # no value configured, no secret input: the provider falls back to its environment
    announce = find(run, "hook/afterAll/announce")
    assert announce.raw_inputs["secrets"] == {}
    assert announce.raw_inputs["secret_keys"] == ["token"]


def test_the_canary_never_reaches_preview_output_or_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = program(str(ALIMENTOR), openai=CANARY)
    console = Console(record=True, width=200)
    console.print(render_tree(run))
    tree = console.export_text()
    assert "hook beforeApply ensure-codex-secrets (use: codex.ensure-codex-secrets)" in tree
    assert CANARY not in tree
    written = write_components(run, tmp_path / "preview", show_secrets=False)
    for path in written:
        assert CANARY not in path.read_text(encoding="utf-8")
    assert CANARY not in json.dumps(run.outputs, default=str)
    assert CANARY not in capsys.readouterr().out


def test_preview_tree_shows_steps_at_their_place_and_stage(every_hook: ProgramRun) -> None:
    console = Console(record=True, width=200)
    console.print(render_tree(every_hook))
    lines = [line.strip(" │├└─") for line in console.export_text().splitlines()]
    position = {line: index for index, line in enumerate(lines)}

    def at(text: str) -> int:
        return next(index for line, index in position.items() if line.startswith(text))

    assert at("hook beforeAll ensure-data-dirs") < at("hook beforeAll preflight") < at("InfrastructureGroup base")
    assert at("InfrastructureGroup base") < at("hook afterDestroy farewell") < at("hook beforeApply note")
    assert at("hook beforeApply note") < at("Namespace alimentor-dev-3") < at("hook afterApply postgres-ready")
    assert at("hook afterApply postgres-ready") < at("hook beforeDestroy dump") < at("CodexAgent")
    assert "(runs on destroy)" in lines[at("hook beforeDestroy dump")]
    assert at("ServiceComponent codex") < at("hook beforeApply ensure-codex-secrets") < at("Deployment codex")
    assert (
        at("Ingress slot-3") < at("hook afterApply reuse-dev-tls-secret") < at("hook afterApply check-dev-host-ports")
    )
    assert at("hook afterApply check-dev-host-ports") < at("hook afterAll settle") < at("hook afterAll announce")
    assert at("hook afterAll announce") == len([line for line in lines if line]) - 1


def strip_secrets(value: Any) -> Any:
    """The raw inputs with every secret-wrapped value replaced: what is stored in plain text."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return "[secret]"
        return {key: strip_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strip_secrets(item) for item in value]
    return value


def test_run_step_env_is_a_secret_input(every_hook: ProgramRun) -> None:
    note = find(every_hook, "base/hook/beforeApply/note")
    assert note.raw_inputs["secrets"][SIG_KEY] == SECRET_SIG
    assert note.raw_inputs["secrets"]["value"] == {"env:ISSUE_TITLE": "untitled"}
    assert "ISSUE_TITLE" not in note.raw_inputs["params"]["env"]


def test_providers_are_pickled_by_reference_with_no_state(every_hook: ProgramRun) -> None:
    """Stable module paths, nothing captured: the pickle is just ``module.Class()``."""
    import pickletools

    modules = set()
    for registration in every_hook.registrations:
        if not registration.type.startswith(HOOK):
            continue
        blob = base64.b64decode(registration.raw_inputs["__provider"]["value"])
        strings = [arg for op, arg, _ in pickletools.genops(blob) if isinstance(arg, str)]
        module, cls = strings[:2]
        assert module.startswith("codex_stacks.components.hooks.providers."), registration.name
        assert cls.endswith("Provider")
        assert len(strings) == 2, f"{registration.name} pickles state: {strings[2:]}"
        assert len(blob) < 200
        modules.add(module)
    assert len(modules) == 9
