"""Planning hook steps (pure): stages, ``when``, defaults from the target, guards, bad steps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codex_stacks.errors import CodexError, ConfigError, PlanError
from codex_stacks.plan import PlanRequest, build_plan
from codex_stacks.plan.hooks import hooks_at, safe_data_dirs
from tests.conftest import MINIMAL, NAMESPACE_MANIFEST, MakeProject
from tests.hooks.helpers import ALIMENTOR, all_hooks_project

EXAMPLE = ALIMENTOR.parent / "project-example"


def plan_of(project: Path, stack: str = "ai-slot-3", **kwargs: object):  # type: ignore[no-untyped-def]
    return build_plan(PlanRequest(stack=stack, project_dir=project, **kwargs))  # type: ignore[arg-type]


@pytest.fixture
def alimentor(tmp_path: Path) -> Path:
    project = tmp_path / "alimentor"
    shutil.copytree(ALIMENTOR, project)
    return project


def edit(project: Path, old: str, new: str) -> None:
    services = project / "services.yaml"
    text = services.read_text(encoding="utf-8")
    assert old in text
    services.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_alimentor_slot_plans_all_four_domain_hooks_with_target_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALIMENTOR_DATA_ROOT", raising=False)
    plan = plan_of(ALIMENTOR)
    assert [(h.stage, h.component, h.step, h.action) for h in plan.hooks] == [
        ("beforeAll", None, "ensure-data-dirs", "codex.ensure-data-dirs"),
        ("beforeApply", "codex", "ensure-codex-secrets", "codex.ensure-codex-secrets"),
        ("afterApply", "codex", "reuse-dev-tls-secret", "codex.reuse-dev-tls-secret"),
        ("afterApply", "codex", "check-dev-host-ports", "codex.check-dev-host-ports"),
    ]
    dirs, secrets, tls, ports = plan.hooks
    root = f"{ALIMENTOR}/.data"
    assert dict(dirs.params) == {
        "root": root,
        "env_dir": f"{root}/slots/3",
        "paths": [f"{root}/slots/3/postgres"],
        "mode": "0777",
        "delete_on_destroy": False,
    }
    assert secrets.params["namespace"] == "alimentor-dev-3"
    assert [(s["name"], s["key"], s["config"]) for s in secrets.params["secrets"]] == [
        ("openai-secret", "OPENAI_API_KEY", "openaiApiKey"),
        ("github-secret", "CODEX_GH_PAT", "githubToken"),
        ("context7-secret", "CONTEXT7_API_KEY", "context7ApiKey"),
    ]
    assert dict(secrets.secret_config) == {
        "openai-secret": "openaiApiKey",
        "github-secret": "githubToken",
        "context7-secret": "context7ApiKey",
    }
    assert tls.params["secret_name"] == "alimentor-dev-3-tls"
    assert tls.params["source_namespace"] == "alimentor-staging"
    assert tls.params["namespace"] == "alimentor-dev-3"
    assert tls.params["wait"] == 120.0
    assert ports.params["http_host"] == "dev-3.staging.alimentor.example"
    assert ports.params["ports"] == [80, 443]
    assert ports.continue_on_error
    assert tls.resource_name == "codex/hook/afterApply/reuse-dev-tls-secret"
    assert dirs.resource_name == "hook/beforeAll/ensure-data-dirs"
    assert hooks_at(plan.hooks, "afterApply", "codex") == [tls, ports]


def test_steps_of_components_the_stack_does_not_deploy_are_not_planned() -> None:
    plan = plan_of(ALIMENTOR, "ai-staging")
    assert [h.step for h in plan.hooks] == ["ensure-data-dirs"]
    assert plan.hooks[0].params["env_dir"].endswith("/.data/ai-staging")


def test_when_false_skips_a_step(alimentor: Path) -> None:
    edit(
        alimentor,
        "        - name: check-dev-host-ports\n",
        '        - name: check-dev-host-ports\n          when: "{{ slot > 5 }}"\n',
    )
    assert "check-dev-host-ports" not in [h.step for h in plan_of(alimentor).hooks]


def test_project_example_uses_the_domain_hooks_instead_of_shell() -> None:
    slot = plan_of(EXAMPLE)
    assert [(h.component, h.step) for h in slot.hooks] == [
        (None, "ensure-data-dirs"),
        ("codex", "ensure-codex-secrets"),
        ("codex", "reuse-dev-tls-secret"),
    ]
    assert slot.hooks[0].params["paths"][-2:] == [
        f"{slot.hooks[0].params['env_dir']}/postgres",
        f"{slot.hooks[0].params['env_dir']}/redis",
    ]
    assert slot.hooks[1].params["namespace"] == "project-example-dev-3"
    assert slot.hooks[2].params["secret_name"] == "project-example-dev-3-tls"
    assert slot.hooks[2].params["source_namespace"] == "project-example-staging"
    staging = plan_of(EXAMPLE, "ai-staging")
    assert [h.step for h in staging.hooks] == ["ensure-data-dirs"]


def test_guard_changes_only_with_the_guarded_objects(tmp_path: Path) -> None:
    project = all_hooks_project(tmp_path)
    before = {h.resource_name: h.guard for h in plan_of(project).hooks}
    postgres = project / "deploy" / "postgres.yaml"
    postgres.write_text(postgres.read_text().replace("containerPort: 5432", "containerPort: 5433"), encoding="utf-8")
    after = {h.resource_name: h.guard for h in plan_of(project).hooks}
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == [
        "base/hook/afterApply/postgres-ready",
        "base/hook/afterDestroy/farewell",
        "base/hook/beforeApply/note",
        "base/hook/beforeDestroy/dump",
        "hook/afterAll/announce",
        "hook/afterAll/settle",
        "hook/beforeAll/ensure-data-dirs",
        "hook/beforeAll/preflight",
    ]
    # same inputs, same plan: nothing re-runs
    assert after == {h.resource_name: h.guard for h in plan_of(project).hooks}


def test_run_steps_get_the_context_as_env_and_outside_text_only_as_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISSUE_TITLE", "Fix $(rm -rf /) {{ 7*7 }}")
    plan = plan_of(all_hooks_project(tmp_path))
    (note,) = hooks_at(plan.hooks, "beforeApply", "base")
    assert note.action == "run"
    assert note.params["script"] == 'echo "$ISSUE_TITLE" > "$CODEX_DATA_DIR/note.txt"'
    # rendered once, never evaluated; a secret input, like every value of a step's env:
    assert dict(note.secret_values) == {"env:ISSUE_TITLE": "Fix $(rm -rf /) {{ 7*7 }}"}
    assert "ISSUE_TITLE" not in note.params["env"]
    assert note.params["env"]["CODEX_NAMESPACE"] == "alimentor-dev-3"
    assert note.params["env"]["CODEX_SLOT"] == "3"


def test_every_stage_is_planned_in_order(tmp_path: Path) -> None:
    plan = plan_of(all_hooks_project(tmp_path))
    assert [h.resource_name for h in plan.hooks][:8] == [
        "hook/beforeAll/ensure-data-dirs",
        "hook/beforeAll/preflight",
        "hook/afterAll/settle",
        "hook/afterAll/announce",
        "base/hook/beforeApply/note",
        "base/hook/afterApply/postgres-ready",
        "base/hook/beforeDestroy/dump",
        "base/hook/afterDestroy/farewell",
    ]
    announce = next(h for h in plan.hooks if h.step == "announce")
    assert announce.params["body"] == "Slot 3 is up at https://dev-3.staging.alimentor.example"
    assert announce.params["marker"] == "<!-- codex-stacks:ai-slot-3:announce -->"
    assert dict(announce.secret_config) == {"token": "githubToken"}
    wait = next(h for h in plan.hooks if h.step == "postgres-ready")
    assert (wait.params["api_version"], wait.params["plural"], wait.params["namespace"]) == (
        "apps/v1",
        "deployments",
        "alimentor-dev-3",
    )
    assert wait.params["wait"] == 120.0


# --------------------------------------------------------------------------- bad steps


@pytest.mark.parametrize(
    ("old", "new", "error", "message"),
    [
        (
            "use: codex.ensure-data-dirs\n",
            "use: codex.ensure-data-dir\n",
            ConfigError,
            "unknown hook 'codex.ensure-data-dir'",
        ),
        (
            "sourceNamespace: alimentor-staging\n",
            "sourceNamespace: alimentor-staging\n            color: blue\n",
            ConfigError,
            "bad parameters for codex.reuse-dev-tls-secret: with.color",
        ),
        ("wait: 2m\n", "wait: soon\n", ConfigError, "with.wait"),
        (
            "        - name: check-dev-host-ports\n          use: codex.check-dev-host-ports\n",
            "        - name: check-dev-host-ports\n          use: codex.check-dev-host-ports\n          run: echo\n",
            ConfigError,
            "exactly one of 'use'",
        ),
        (
            "        - name: check-dev-host-ports\n",
            "        - name: reuse-dev-tls-secret\n",
            PlanError,
            "hook step name 'reuse-dev-tls-secret' is used twice in afterApply",
        ),
        ("dirs: [postgres]", "dirs: [../postgres]", PlanError, "/.data/slots/postgres' leaves"),
    ],
)
def test_bad_steps_fail_before_anything_registers(
    alimentor: Path, old: str, new: str, error: type[CodexError], message: str
) -> None:
    if "dirs:" in old:
        edit(
            alimentor,
            "      use: codex.ensure-data-dirs\n",
            "      use: codex.ensure-data-dirs\n      with:\n        dirs: [../postgres]\n",
        )
    else:
        edit(alimentor, old, new)
    with pytest.raises(error) as failure:
        plan_of(alimentor)
    assert message in str(failure.value)


def test_bad_step_error_names_its_location(alimentor: Path) -> None:
    edit(alimentor, "use: codex.ensure-codex-secrets\n", "use: codex.ensure-codex-secret\n")
    with pytest.raises(ConfigError) as failure:
        plan_of(alimentor)
    assert "services[1].hooks.beforeApply[0]" in str(failure.value)
    assert "services.yaml:" in str(failure.value)


@pytest.mark.parametrize(
    ("data_paths", "message"),
    [
        ("dataPaths:\n  root: /\n", "data root '/' is not allowed"),
        ("dataPaths:\n  root: /srv/data\n  envDir: /srv/other\n", "not inside the data root '/srv/data'"),
        ("dataPaths:\n  root: /srv/data\n  envDir: /srv/data\n", "not inside the data root"),
    ],
)
def test_unsafe_data_paths_never_reach_a_step(alimentor: Path, data_paths: str, message: str) -> None:
    edit(
        alimentor,
        'dataPaths:\n  root: \'{{ env_or("ALIMENTOR_DATA_ROOT", project_root ~ "/.data") }}\'\n',
        data_paths,
    )
    with pytest.raises(CodexError, match=message):  # caught at load, or at the latest by the planner
        plan_of(alimentor)


@pytest.mark.parametrize("root", ["/", "relative/data"])
def test_unsafe_root_given_to_the_step_is_a_plan_error(alimentor: Path, root: str) -> None:
    edit(
        alimentor,
        "      use: codex.ensure-data-dirs\n",
        f"      use: codex.ensure-data-dirs\n      with:\n        root: {root}\n",
    )
    with pytest.raises(PlanError, match="is not allowed") as failure:
        plan_of(alimentor)
    assert failure.value.location.path == "hooks.beforeAll[0].with"


def test_safe_data_dirs_normalises_before_checking() -> None:
    assert safe_data_dirs(root="/srv/d/", env_dir="/srv/d/x/../dev", dirs=["pg"], where="w") == ["/srv/d/dev/pg"]
    with pytest.raises(PlanError):
        safe_data_dirs(root="/srv/d", env_dir="/srv/d/dev", dirs=["a/../../.."], where="w")
    with pytest.raises(PlanError):
        safe_data_dirs(root="/srv/d", env_dir="/srv/dd", dirs=["pg"], where="w")


def test_tls_step_outside_a_slot_needs_a_secret_name(alimentor: Path) -> None:
    edit(alimentor, "    when: \"{{ env == 'ai' }}\"\n", "")
    with pytest.raises(PlanError, match="needs a slot to name the secret"):
        plan_of(alimentor, "ai-staging")
    edit(
        alimentor,
        "            sourceNamespace: alimentor-staging\n",
        "            sourceNamespace: alimentor-staging\n            secretName: staging-tls\n",
    )
    tls = next(h for h in plan_of(alimentor, "ai-staging").hooks if h.step == "reuse-dev-tls-secret")
    assert tls.params["secret_name"] == "staging-tls"


@pytest.mark.parametrize(("always", "expected"), [(None, True), ("false", False), ("true", True)])
def test_agent_secrets_are_refreshed_on_every_up_unless_a_step_says_otherwise(
    make_project: MakeProject, always: str | None, expected: bool
) -> None:
    """The credentials come from the runner (a job's github.token expires with the job), so a
    step that ran once must run again; other built-ins re-run only when their inputs change."""
    option = "" if always is None else f"\n      always: {always}"
    services = (
        MINIMAL
        + f"""\
hooks:
  beforeAll:
    - name: secrets
      use: codex.ensure-codex-secrets{option}
    - name: pause
      use: sleep
      with: {{seconds: 1}}
"""
    )
    project = make_project(services, {"ns.yaml": NAMESPACE_MANIFEST})
    planned = {hook.step: hook.always for hook in plan_of(project).hooks}
    assert planned == {"secrets": expected, "pause": False}
