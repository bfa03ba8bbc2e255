"""services.yaml as a user writes it (codex_stacks/config: loader, model, hooks, tomlblocks,
templating, scope), case by case where a sampled mutation run (tools/mutation.py config) found a
behaviour no in-process test held: what is refused, with which message, at which key path and
line, and what loads. Expected messages are written out by hand."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.config.scope import Scope
from codex_stacks.config.templating import (
    EnvPolicy,
    Outside,
    OutsideValues,
    evaluate,
    render,
    render_text,
    restore_outside,
)
from codex_stacks.config.tomlblocks import dumps
from codex_stacks.errors import CodexError, CombinedError, Location, TemplateError
from tests.config.conftest import load


def problems(text: str) -> list[CodexError]:
    """Every problem ``validate`` reports for ``text`` (one or several)."""
    with pytest.raises(CodexError) as info:
        load(text)
    error = info.value
    return list(error.problems) if isinstance(error, CombinedError) else [error]


def test_an_empty_file_is_refused_naming_the_file() -> None:
    (error,) = problems("")
    assert error.message == "the file is empty"
    assert error.location.file is not None
    assert error.location.file.name == "services.yaml"


def test_environments_as_a_list_is_refused_at_its_key() -> None:
    (error,) = problems("project: demo\nenvironments:\n  - dev\n")
    assert error.message == "environments must be a mapping of environment names"
    assert (error.location.path, error.location.line) == ("environments", 2)


def test_every_item_that_is_not_a_mapping_is_reported() -> None:
    found = problems("project: demo\nservices:\n  - just-text\n  - 5\n  - name: api\n")
    assert [(p.location.path, p.location.line) for p in found] == [("services[0]", 3), ("services[1]", 4)]
    assert found[0].message == "an item must be a mapping with a name, not a string"


def test_a_file_without_a_project_says_so() -> None:
    found = problems("maxSlots: 1\nenvironments:\n  dev: {}\n")
    assert [(p.message, p.location.path) for p in found] == [("missing required key 'project'", "project")]


@pytest.mark.parametrize("root", ["/", "/srv/..", "//"])
def test_a_code_root_of_the_whole_disk_is_refused(root: str) -> None:
    text = f"project: demo\ncodex:\n  workspace:\n    source: hostPath\n    codeRoot: '{root}'\n"
    (error,) = problems(text)
    assert f"codeRoot {root!r} must be an absolute folder other than /" in error.message
    assert error.location.path == "codex.workspace.codeRoot"


def test_a_code_root_is_kept_normalised() -> None:
    text = "project: demo\ncodex:\n  workspace:\n    source: hostPath\n    codeRoot: /srv/./slots/\n"
    assert load(text).codex.workspace.code_root == "/srv/slots"


def test_a_timeout_that_is_no_duration_is_refused_with_examples() -> None:
    (error,) = problems("project: demo\ncodex:\n  timeouts:\n    exec: soon\n")
    assert "'soon' is not a duration (use e.g. 30s, 5m, 1h30m)" in error.message
    assert (error.location.path, error.location.line) == ("codex.timeouts.exec", 4)


CODEX_WITH_SERVER = (
    "project: demo\ncodex:\n  mcp:\n    servers:\n      - name: docs\n        type: stdio\n        command: docs-mcp\n"
    "  configBlocks:\n"
)


def test_config_blocks_that_add_to_one_table_load() -> None:
    text = CODEX_WITH_SERVER + '    - "[features]\\na = 1\\n"\n    - "[features]\\nb = 2\\n"\n'
    text += '    - "[mcp_servers.docs]\\ntool_timeout_sec = 30\\n"\n'
    blocks = load(text).codex.config_blocks
    assert [tomllib.loads(block) for block in blocks] == [
        {"features": {"a": 1}},
        {"features": {"b": 2}},
        {"mcp_servers": {"docs": {"tool_timeout_sec": 30}}},
    ]


def test_a_config_block_that_sets_a_key_of_a_declared_server_is_refused() -> None:
    (error,) = problems(CODEX_WITH_SERVER + '    - "[mcp_servers.docs]\\ncommand = \\"other\\"\\n"\n')
    assert error.message.endswith("'mcp_servers.docs.command' is set by codex.mcp.servers (docs), not by a block")
    assert error.location.path == "codex.configBlocks[0]"


def test_two_config_blocks_that_set_one_key_of_a_table_are_refused() -> None:
    (error,) = problems(CODEX_WITH_SERVER + '    - "[features]\\na = 1\\n"\n    - "[features]\\na = 2\\n"\n')
    assert error.message.endswith("block [1] repeats an earlier block: 'features.a' is set twice")


def test_toml_written_for_an_array_of_tables_reads_back_the_same() -> None:
    data = {"model": "o3", "profiles": [{"name": "a", "x": 1}, {"name": "b"}], "tools": {"web": {"on": True}}}
    text = dumps(data)
    assert tomllib.loads(text) == data
    assert '[[profiles]]\nname = "a"\nx = 1\n\n[[profiles]]\nname = "b"\n' in text
    assert "[tools.web]\non = true\n" in text


def test_a_value_that_needs_itself_names_the_whole_chain() -> None:
    scope = Scope()
    scope.define("a", lambda: scope["b"])
    scope.define("b", lambda: scope["a"])
    with pytest.raises(TemplateError) as info:
        scope["a"]
    assert info.value.message == "a is defined in terms of itself (a -> b -> a)"


def test_tojson_writes_keys_in_order() -> None:
    assert render("{{ v|tojson }}", {"v": {"b": 1, "a": [2]}}, source="t.txt") == '{"a": [2], "b": 1}'


def test_an_undeclared_variable_in_a_value_with_whitespace_control_names_the_line() -> None:
    """Whitespace control sends the value through the full template compiler."""
    reader = EnvPolicy(declared={}, environ={"NOPE": "x"}).reader(OutsideValues())
    source = Path("/project/services.yaml")
    with pytest.raises(TemplateError) as info:
        evaluate(
            "{{- env_or('NOPE') }}",
            {"env_or": reader},
            where=lambda line: Location(file=source, line=7),
            name="value",
            known=OutsideValues(),
        )
    assert info.value.message == "env_or('NOPE'): NOPE is not declared"
    assert (info.value.location.file, info.value.location.line) == (source, 7)
    assert info.value.hint == "declare it in services.yaml: envVars: {NOPE: {}} (add secret: true for a secret)"


def test_an_outside_value_inside_a_larger_expression_is_refused_with_the_fix() -> None:
    known = OutsideValues()
    value = known.add(Outside("a: b", origin="vars.title"))
    with pytest.raises(TemplateError) as info:
        render_text("title: {{ v ~ '!' }}\n", {"v": value}, source=Path("/project/m.yaml"), known=known)
    assert info.value.message.startswith("the value of vars.title is used inside a larger expression here")
    assert info.value.hint == (
        "output it on its own, e.g. key: {{ vars.title }}, or give it to a filter that makes it safe (| quote)"
    )
    assert (info.value.location.file, info.value.location.line) == (Path("/project/m.yaml"), 1)


def test_outside_values_in_lists_are_restored_and_secret_ones_named_by_path() -> None:
    tokens = {"zcodexoutside0xab": Outside("s3cret", origin="env_or('TOKEN')", secret=True)}
    document: dict[str, Any] = {"env": [{"name": "A", "value": "zcodexoutside0xab"}, {"value": "plain"}]}
    paths: list[str] = []
    assert restore_outside(document, tokens, paths) == {"env": [{"name": "A", "value": "s3cret"}, {"value": "plain"}]}
    assert paths == ["env[0].value"]
