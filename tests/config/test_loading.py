"""services.yaml: model, YAML and template errors name the file, the line and the key path."""

from __future__ import annotations

import pytest

from codex_stacks.config.schema import services_schema
from codex_stacks.config.templating import EnvPolicy, OutsideValues, is_enabled, render, slug
from codex_stacks.errors import CombinedError, ConfigError, TemplateError
from tests.config.conftest import load


def test_minimal_file_gets_defaults() -> None:
    settings = load("project: demo\n")
    assert settings.project == "demo"
    assert settings.max_slots == 0
    assert settings.codex.timeouts.exec == "60m"
    assert settings.repair.services is None  # the agent's service: codex.service
    assert (settings.codex.service, settings.codex.rbac) == ("codex", "builtin")


def test_unknown_key_is_reported_with_path_line_and_suggestion() -> None:
    text = (
        "project: demo\nservices:\n  - name: api\n    manifests: []\n    overlays:\n      ai:\n"
        "        pvcMounts:\n          - name: data\n            claimName: data\n            mountPth: /data\n"
        "environments:\n  ai: {}\n"
    )
    with pytest.raises(CombinedError) as info:  # the unknown key first, then the key it hides
        load(text)
    error = info.value
    assert error.location.path == "services[0].overlays.ai.pvcMounts[0].mountPth"
    assert error.location.line == 10
    assert error.hint == "did you mean 'mountPath'?"
    assert "unknown key 'mountPth'" in str(error)


def test_unknown_top_level_key_suggests_the_real_one() -> None:
    with pytest.raises(ConfigError) as info:
        load("project: demo\nmaxSlot: 3\n")
    assert info.value.hint == "did you mean 'maxSlots'?"
    assert info.value.location.line == 2


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"duplicate key 'project' \(first given on line 1\)") as info:
        load("project: a\nmaxSlots: 1\nproject: b\n")
    assert info.value.location.line == 3


def test_wrong_type_names_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        load("project: demo\nmaxSlots: many\n")
    assert info.value.location.path == "maxSlots"
    assert "maxSlots must be a whole number of 0 or more, not 'many'" in info.value.message


def test_missing_required_key_of_a_union_member() -> None:
    with pytest.raises(ConfigError) as info:
        load("project: demo\nimages:\n  api:\n    type: build\n    repository: r\n")
    assert info.value.location.path == "images.api.tagTemplate"
    assert "missing required key 'tagTemplate'" in info.value.message


def test_duplicate_component_names_are_errors() -> None:
    text = "project: demo\ninfrastructure:\n  - name: db\nservices:\n  - name: db\n"
    with pytest.raises(ConfigError, match=r"names must be unique.*is also infrastructure\[0\]"):
        load(text)


def test_depends_on_unknown_item() -> None:
    with pytest.raises(ConfigError, match="dependsOn names unknown item 'cache'"):
        load("project: demo\nservices:\n  - name: api\n    dependsOn: [cache]\n")


def test_environment_from_loop_and_unknown_parent() -> None:
    with pytest.raises(ConfigError, match="'from' loops"):
        load("project: demo\nenvironments:\n  a: {from: b}\n  b: {from: a}\n")
    with pytest.raises(ConfigError, match="unknown environment 'nope'"):
        load("project: demo\nenvironments:\n  a: {from: nope}\n")


def test_yaml_syntax_error_has_line() -> None:
    with pytest.raises(ConfigError, match="invalid YAML") as info:
        load("project: demo\nservices: [\n  - a\n")
    assert info.value.location.line is not None


@pytest.mark.parametrize(("text", "message"), [("", "the file is empty"), ("- a\n- b\n", "must be a mapping")])
def test_top_level_must_be_a_mapping(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(text)


def test_versions_given_as_numbers_become_strings() -> None:
    versions = load("project: demo\nversions:\n  pg: 16\n  app: 0.1\n").scope["versions"]
    assert dict(versions) == {"pg": "16", "app": "0.1"}


def test_mcp_servers_need_their_fields_and_unique_names() -> None:
    base = "project: demo\ncodex:\n  mcp:\n    servers:\n"
    with pytest.raises(ConfigError, match="needs command"):
        load(base + "      - {name: fs, type: stdio}\n")
    with pytest.raises(ConfigError, match="repeated: a"):
        load(base + "      - {name: a, type: http, url: 'http://x'}\n      - {name: a, type: http, url: 'http://y'}\n")


def test_hook_step_with_unknown_built_in_and_bad_params() -> None:
    base = "project: demo\nhooks:\n  beforeAll:\n"
    with pytest.raises(ConfigError, match="unknown hook 'codex.nope'"):
        load(base + "    - {name: x, use: codex.nope}\n")
    with pytest.raises(ConfigError) as info:
        load(base + "    - {name: x, use: sleep, with: {seconds: -1}}\n")
    assert str(info.value.location.path).startswith("hooks.beforeAll[0]")
    with pytest.raises(ConfigError, match="exactly one of 'use'"):
        load(base + "    - {name: x}\n")


def test_template_undefined_variable_names_file_and_line() -> None:
    with pytest.raises(TemplateError, match="'nope' is undefined") as info:
        load("project: demo\n\nregistry: '{{ nope }}'\n")
    assert info.value.location.line == 3
    assert info.value.location.file is not None
    assert info.value.location.file.name == "services.yaml"


def test_template_syntax_error_names_line() -> None:
    with pytest.raises(TemplateError, match="syntax error") as info:
        render("a: 1\nb: {{ x }\n", {"x": 1}, source="m.yaml")
    assert info.value.location.line == 2


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ project.__class__.__base__.__subclasses__() }}",
        "{{ env_or.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
    ],
)
def test_sandbox_blocks_attribute_escapes(expression: str) -> None:
    with pytest.raises(TemplateError):
        render(expression, {"project": "demo"}, source="evil.yaml")


def test_filters_and_functions() -> None:
    policy = EnvPolicy(
        declared={"CODEX_TEST_VALUE": False, "CODEX_TEST_MISSING": False}, environ={"CODEX_TEST_VALUE": "v"}
    )
    env_or = policy.reader(OutsideValues())
    assert env_or("CODEX_TEST_VALUE", "x") == "v"
    assert env_or("CODEX_TEST_MISSING", "fallback") == "fallback"
    assert slug("Fix Login (#12)") == "fix-login-12"
    assert render("{{ 'A B' | slug }}-{{ env_or('CODEX_TEST_VALUE') }}", {"env_or": env_or}, source="t") == "a-b-v"


@pytest.mark.parametrize(
    ("value", "enabled"),
    [
        ("False", False),
        ("", False),
        ("0", False),
        ("no", False),
        (False, False),
        ("True", True),
        ("yes", True),
        (None, True),
    ],
)
def test_when_values(value: object, enabled: bool) -> None:
    assert is_enabled(value) is enabled


def test_json_schema_comes_from_the_model() -> None:
    schema = services_schema()
    assert schema["additionalProperties"] is False
    assert {"project", "codex", "maxSlots", "infrastructure", "services", "repair"} <= set(schema["properties"])
    assert "pvcMounts" in schema["$defs"]["Overlay"]["properties"]


@pytest.mark.parametrize("url", ["http://api.example.com", "http://10.0.0.5:8080", "ftp://api.github.com"])
def test_github_comment_sends_its_token_over_https_only(url: str) -> None:
    step = "hooks:\n  beforeAll:\n    - name: c\n      use: github.comment\n"
    step += f"      with: {{repository: a/b, number: 1, body: hi, apiUrl: '{url}'}}\n"
    with pytest.raises(ConfigError) as info:
        load("project: demo\n" + step)
    assert info.value.location.line == 4
    assert "apiUrl" in str(info.value)


def test_github_comment_may_use_plain_http_on_this_machine() -> None:
    step = "hooks:\n  beforeAll:\n    - name: c\n      use: github.comment\n"
    step += "      with: {repository: a/b, number: 1, body: hi, apiUrl: 'http://127.0.0.1:8080'}\n"
    load("project: demo\n" + step)
