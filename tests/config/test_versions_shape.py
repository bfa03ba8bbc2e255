"""``versions`` maps names to version strings: any other shape is refused where it is written.

Before, ``versions: 5`` or a list was read as no versions at all, ``api: true`` became the text
``True`` and ``api: [1]`` the text ``[1]`` in a manifest — and ``codexctl validate`` said nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import PlanRequest, build_plan
from tests.config.error_messages import problems_of, project, shown

CONFIG_MAP = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {v: \"{{ versions['api'] | default('none') }}\"}\n"
)


def services(versions: str) -> str:
    # ``versions`` starts on line 4.
    return (
        "project: shop\nenvironments:\n  dev: {}\n"
        f"{versions}\n"
        "infrastructure:\n  - name: base\n    manifests: [{path: cm.yaml}]\n"
    )


def rendered(versions: str) -> dict[str, Any]:
    folder = project(services(versions), {"cm.yaml": CONFIG_MAP})
    plan = build_plan(PlanRequest(stack="dev", project_dir=folder))
    [config_map] = [obj for obj in plan.objects if obj.kind == "ConfigMap"]
    data: dict[str, Any] = config_map.manifest["data"]
    return data


def plan_error(versions: str) -> str:
    folder = project(services(versions), {"cm.yaml": CONFIG_MAP})
    with pytest.raises(CodexError) as caught:
        build_plan(PlanRequest(stack="dev", project_dir=folder))
    return shown(caught.value, folder)


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        pytest.param("versions: {api: v1.2.3}", "v1.2.3", id="a string"),
        pytest.param("versions: {api: 16}", "16", id="a whole number, as its text"),
        pytest.param("versions: {api: 1.5}", "1.5", id="a number, as its text"),
        pytest.param('versions: {api: "v{{ 1 + 1 }}"}', "v2", id="a template"),
        pytest.param('versions: {api: "{{ 7 }}"}', "7", id="a template giving a number"),
        pytest.param("versions: {web: v1}", "none", id="another name"),
        pytest.param("versions:", "none", id="empty"),
        pytest.param("", "none", id="absent"),
    ],
)
def test_a_version_reaches_the_template_as_text(versions: str, expected: str) -> None:
    assert rendered(versions) == {"v": expected}


SHAPE = "services.yaml:4: versions: must be a mapping of names to version strings, not {kind}"
ENTRY = "services.yaml:4: versions.api: must be a version string, not {kind}"
RESULT = "services.yaml:4: versions.api: the template gives {kind}, not a version string"


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        pytest.param("versions: 5", SHAPE.format(kind="a number"), id="a number"),
        pytest.param("versions: [api]", SHAPE.format(kind="a list"), id="a list"),
        pytest.param("versions: v1", SHAPE.format(kind="a string"), id="a string"),
        pytest.param("versions: \"{{ {'api': 'v1'} }}\"", SHAPE.format(kind="a template"), id="a template"),
        pytest.param("versions: {api: true}", ENTRY.format(kind="a boolean"), id="entry a boolean"),
        pytest.param("versions: {api: [1]}", ENTRY.format(kind="a list"), id="entry a list"),
        pytest.param("versions: {api: {x: 1}}", ENTRY.format(kind="a mapping"), id="entry a mapping"),
        pytest.param("versions: {api: }", ENTRY.format(kind="empty"), id="entry empty"),
        pytest.param('versions: {api: "{{ [1] }}"}', RESULT.format(kind="a list"), id="template a list"),
        pytest.param('versions: {api: "{{ false }}"}', RESULT.format(kind="a boolean"), id="template a boolean"),
        pytest.param('versions: {api: "{{ {} }}"}', RESULT.format(kind="a mapping"), id="template a mapping"),
        pytest.param('versions: {api: "{{ none }}"}', RESULT.format(kind="empty"), id="template empty"),
    ],
)
def test_a_version_that_is_not_text_is_refused_at_its_line(versions: str, expected: str) -> None:
    assert plan_error(versions) == expected
    assert problems_of(services(versions), files={"cm.yaml": CONFIG_MAP}) == expected


def test_every_entry_that_is_not_text_is_named_at_once() -> None:
    versions = "versions:\n  api: v1\n  web: true\n  db: [1]"
    assert plan_error(versions) == (
        "services.yaml:6: versions.web: must be a version string, not a boolean\n"
        "services.yaml:7: versions.db: must be a version string, not a list"
    )
