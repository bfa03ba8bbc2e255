"""Prompts: every kind in every language for every example stack says its facts, and nothing else leaks."""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path

import pytest

from codex_stacks.errors import CodexError, TemplateError
from codex_stacks.plan import Plan, PlanRequest, build_plan
from codex_stacks.prompts import BUNDLED_PROMPTS, KINDS, InfraReport, build_context, render_prompt
from codex_stacks.prompts import render as render_module
from codex_stacks.prompts.render import choose_lang
from tests.prompts.conftest import EXAMPLE, copy_example

LANGS = ("en", "ru")
STACKS = (
    ("dev", "normal"),
    ("ai-staging", "normal"),
    ("ai-slot-1", "normal"),
    ("ai-slot-3", "normal"),
    ("dev", "repair"),
    ("ai-staging", "repair"),
    ("ai-slot-1", "repair"),
    ("ai-slot-3", "repair"),
)
UNHEALTHY = InfraReport(
    healthy=False,
    failed=[{"component": "data-services", "reason": "statefulset/postgres: 0/1 ready after 10m"}],
    summary="pulumi up failed: 1 component did not become ready",
)
NEVER_REPLACE = {
    "en": "Never run a full deploy in repair mode, and nothing that would replace the agent itself",
    "ru": "Никогда не запускайте полное развёртывание в ремонтном режиме и ничего, что заменило бы самого агента",
}
LEFTOVERS = ("{{", "}}", "{%", "%}", "{#", "#}")


@cache
def plan_of(stack: str, mode: str) -> Plan:
    return build_plan(PlanRequest(stack=stack, project_dir=EXAMPLE, mode=mode))


def render(kind: str, lang: str, stack: str, mode: str, *, report: InfraReport | None = UNHEALTHY) -> str:
    plan = plan_of(stack, mode)
    context = build_context(plan=plan, kind=kind, lang=lang, issue=42, pr=7, infra_report=report)
    rendered = render_prompt(context, project_dir=EXAMPLE)
    assert rendered.lang == lang
    assert rendered.warnings == ()
    assert rendered.template == BUNDLED_PROMPTS / lang / f"{kind}.md.j2"
    return rendered.text


@pytest.mark.parametrize(("stack", "mode"), STACKS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_prompt_states_its_facts(kind: str, lang: str, stack: str, mode: str) -> None:
    text = render(kind, lang, stack, mode)
    plan = plan_of(stack, mode)
    for leftover in LEFTOVERS:
        assert leftover not in text, f"template syntax {leftover!r} left in {kind}/{lang}"
    assert f"`{plan.target.namespace}`" in text
    assert plan.target.project in text
    assert f"`{stack}`" in text
    assert plan.links, "the example defines links"
    for link in plan.links:
        assert link.url in text
    number = "#7" if kind == "dev_review" else "#42"
    assert number in text
    assert "pull request" in text.lower()
    assert "context7" in text
    assert "https://mcp.context7.com/mcp" in text
    assert "psql, redis-cli, go, node" in text
    assert "chat-backend: Go HTTP API" in text  # services overview
    assert "./AGENTS.md" in text  # project context
    # the unhealthy report, with what failed and why
    assert "data-services" in text
    assert "statefulset/postgres: 0/1 ready after 10m" in text
    assert "1 component did not become ready" in text
    assert "\n\n\n" not in text
    if kind.startswith("repair"):
        assert NEVER_REPLACE[lang] in text
        assert f"codexctl preview --stack {stack}" in text
        assert f"codexctl validate --stack {stack}" in text
        assert f"codexctl repair-targets --stack {stack}" in text
        assert f"pulumi up -s {stack} -c codex:mode=normal --target" in text
    else:
        assert "repair-targets" not in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_healthy_or_missing_report_is_not_called_a_failure(kind: str, lang: str) -> None:
    healthy = InfraReport(healthy=True, summary="all 8 components ready")
    with_healthy = render(kind, lang, "ai-slot-3", "normal", report=healthy)
    without = render(kind, lang, "ai-slot-3", "normal", report=None)
    for text in (with_healthy, without):
        assert "statefulset/postgres" not in text
        assert "unhealthy" not in text
        assert "неисправно" not in text
    assert "all 8 components ready" in with_healthy


def test_repair_prompts_of_the_repair_only_environment() -> None:
    plan = build_plan(PlanRequest(stack="ai-repair", project_dir=EXAMPLE, mode="repair"))
    for lang in LANGS:
        for kind in ("repair_issue", "repair_plan"):
            context = build_context(plan=plan, kind=kind, lang=lang, issue=42, infra_report=UNHEALTHY)
            text = render_prompt(context, project_dir=EXAMPLE).text
            assert f"`{plan.target.namespace}`" in text
            assert NEVER_REPLACE[lang] in text
            assert "codexctl repair-targets --stack ai-repair" in text


def test_repair_issue_without_an_issue_works_on_the_pull_request() -> None:
    context = build_context(plan=plan_of("ai-slot-3", "repair"), kind="repair_issue", lang="en", pr=9)
    text = render_prompt(context).text
    assert "pull request #9" in text
    assert "Closes #" not in text
    assert "No infrastructure report was passed in" in text


@pytest.mark.parametrize(
    ("kind", "numbers", "message"),
    [
        ("dev_issue", {"pr": 7}, "needs --issue"),
        ("dev_review", {"issue": 42}, "needs --pr"),
        ("repair_plan", {}, "needs --issue or --pr"),
        ("fix_everything", {"issue": 1}, "unknown prompt kind 'fix_everything'"),
    ],
)
def test_kinds_need_their_numbers(kind: str, numbers: dict[str, int], message: str) -> None:
    with pytest.raises(CodexError, match=message):
        build_context(plan=plan_of("ai-slot-3", "normal"), kind=kind, lang="en", **numbers)


def test_language_flag_then_config_then_english() -> None:
    assert choose_lang(flag="en", configured="ru") == "en"
    assert choose_lang(flag=None, configured="ru") == "ru"
    assert choose_lang(flag=None, configured=None) == "en"
    with pytest.raises(CodexError, match="not a language code"):
        choose_lang(flag="../en", configured="ru")


def test_a_missing_translation_falls_back_to_english_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / "bundled"
    shutil.copytree(BUNDLED_PROMPTS, bundled)
    (bundled / "ru" / "dev_issue.md.j2").unlink()
    monkeypatch.setattr(render_module, "BUNDLED_PROMPTS", bundled)
    context = build_context(plan=plan_of("ai-slot-3", "normal"), kind="dev_issue", lang="ru", issue=42)
    rendered = render_prompt(context, project_dir=EXAMPLE)
    assert rendered.lang == "en"
    assert rendered.template == bundled / "en" / "dev_issue.md.j2"
    assert rendered.warnings == ("no 'ru' translation of the dev_issue prompt; using 'en'",)
    assert "# Task: implement issue #42" in rendered.text
    assert "## Where you are" in rendered.text  # the English partials, not the Russian ones
    other = build_context(plan=plan_of("ai-slot-3", "normal"), kind="plan_issue", lang="ru", issue=42)
    assert render_prompt(other, project_dir=EXAMPLE).warnings == ()


def test_the_project_overrides_a_template_and_a_partial(tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    (project / "prompts" / "en").mkdir(parents=True)
    (project / "prompts" / "en" / "dev_issue.md.j2").write_text(
        "Our own words for #{{ issue }} in {{ namespace }}.\n{% include 'en/_rules.md.j2' %}\n", encoding="utf-8"
    )
    (project / "prompts" / "en" / "_rules.md.j2").write_text("Project rule: ship small.\n", encoding="utf-8")
    plan = build_plan(PlanRequest(stack="ai-slot-3", project_dir=project))
    own = render_prompt(build_context(plan=plan, kind="dev_issue", lang="en", issue=42), project_dir=project)
    assert own.template == project / "prompts" / "en" / "dev_issue.md.j2"
    assert own.text == "Our own words for #42 in project-example-dev-3.\nProject rule: ship small.\n"
    bundled = render_prompt(build_context(plan=plan, kind="plan_issue", lang="en", issue=42), project_dir=project)
    assert bundled.template == BUNDLED_PROMPTS / "en" / "plan_issue.md.j2"
    assert "Project rule: ship small." in bundled.text  # the partial is the project's too
    russian = render_prompt(build_context(plan=plan, kind="dev_issue", lang="ru", issue=42), project_dir=project)
    assert russian.template == BUNDLED_PROMPTS / "ru" / "dev_issue.md.j2"


def test_a_broken_project_template_names_its_file_and_line(tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    (project / "prompts" / "en").mkdir(parents=True)
    broken = project / "prompts" / "en" / "_rules.md.j2"
    broken.write_text("line one\n{{ no_such_variable }}\n", encoding="utf-8")
    plan = build_plan(PlanRequest(stack="ai-slot-3", project_dir=project))
    with pytest.raises(TemplateError) as caught:
        render_prompt(build_context(plan=plan, kind="dev_issue", lang="en", issue=42), project_dir=project)
    assert caught.value.location.file == broken
    assert caught.value.location.line == 2
    assert "no_such_variable" in str(caught.value)


def test_the_infrastructure_report_file(tmp_path: Path) -> None:
    good = tmp_path / "report.json"
    good.write_text(json.dumps(UNHEALTHY.model_dump()), encoding="utf-8")
    assert InfraReport.from_file(good) == UNHEALTHY
    bad = tmp_path / "bad.json"
    bad.write_text('{"healthy": "maybe"}', encoding="utf-8")
    with pytest.raises(CodexError, match=r"bad.json: healthy: the infrastructure report is not valid"):
        InfraReport.from_file(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(CodexError, match="is not JSON"):
        InfraReport.from_file(broken)
    with pytest.raises(CodexError, match="cannot read"):
        InfraReport.from_file(tmp_path / "missing.json")
