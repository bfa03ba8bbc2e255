"""Go-template equivalence: every case renders to the same bytes in Go (upstream's engine, with a
function map mirroring codexctl's) and, after `codexctl import`'s conversion, in this project's
template engine (the sandboxed Jinja2 that renders manifests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_stacks.config.templating import EnvPolicy, OutsideValues, outside_data, render_text, restore_outside
from codex_stacks.importer.convert import BASE_DOMAINS_VAR, NOW_VARIABLE, to_text
from tests.importer import goharness
from tests.importer.equivalence_cases import CASES, CONTEXTS


def jinja_render(template: str, context: dict[str, Any], env_vars: set[str]) -> str:
    """The converted template rendered the way a manifest is: this project's context names,
    outside values (env_or, codex:vars) as placeholders put back after rendering."""
    known = OutsideValues()
    environ = {**context["envMap"], NOW_VARIABLE: context["now"]}
    scope = {
        "env": context["env"],
        "namespace": context["namespace"],
        "project": context["project"],
        "project_root": context["projectRoot"],
        "slot": context["slot"],
        "versions": dict(context["versions"]),
        BASE_DOMAINS_VAR: dict(context["baseDomain"]),
        "vars": outside_data(dict(context["userVars"]), origin="vars", known=known),
        "env_or": EnvPolicy(declared=dict.fromkeys(env_vars | set(environ), False), environ=environ).reader(known),
    }
    rendered = render_text(template, scope, source=Path("case.yaml"), known=known)
    return str(restore_outside(rendered.text, rendered.outside))


@pytest.fixture(scope="module")
def go_outputs(go_renderer: Path) -> dict[str, dict[str, dict[str, str]]]:
    return {name: goharness.render(go_renderer, context, CASES) for name, context in CONTEXTS.items()}


def test_there_are_at_least_a_hundred_cases() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("context_name", sorted(CONTEXTS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_converted_template_renders_like_go(
    case: str, context_name: str, go_outputs: dict[str, dict[str, dict[str, str]]]
) -> None:
    expected = go_outputs[context_name][case]
    assert not expected.get("error"), f"the case is not valid for Go: {expected['error']}"
    converted, converter = to_text(CASES[case])
    assert [issue for issue in converter.issues if issue.manual] == []
    actual = jinja_render(converted, CONTEXTS[context_name], set(converter.usage.env_vars))
    assert actual == expected["output"], f"converted:\n{converted}"
