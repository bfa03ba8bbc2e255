"""Stack name and config → environment, slot, namespace, mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.errors import PlanError, TemplateError
from codex_stacks.plan import PlanRequest, build_plan
from tests.conftest import EXAMPLE, MINIMAL, NAMESPACE_MANIFEST, MakeProject


def target(stack: str, project_dir: Path = EXAMPLE, **config: object):  # type: ignore[no-untyped-def]
    return build_plan(PlanRequest(stack=stack, project_dir=project_dir, **config)).target  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stack", "env", "slot", "namespace"),
    [
        ("dev", "dev", None, "project-example-dev"),
        ("ai-staging", "ai-staging", None, "project-example-staging"),
        ("ai-slot-1", "ai", 1, "project-example-dev-1"),
        ("ai-slot-3", "ai", 3, "project-example-dev-3"),
        ("ai-slot-10", "ai", 10, "project-example-dev-10"),
    ],
)
def test_stack_names_of_the_example(stack: str, env: str, slot: int | None, namespace: str) -> None:
    resolved = target(stack)
    assert (resolved.env, resolved.slot, resolved.namespace, resolved.mode) == (env, slot, namespace, "normal")


@pytest.mark.parametrize("stack", ["ai-slot-0", "ai-slot-11"])
def test_slots_outside_max_slots_are_errors(stack: str) -> None:
    with pytest.raises(PlanError, match="out of range"):
        target(stack)


def test_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(PlanError) as info:
        target("prod")
    assert "environment 'prod'" in info.value.message
    assert info.value.hint is not None
    assert "known environments: ai, ai-repair, ai-staging, cluster, dev" in info.value.hint


def test_slot_on_a_non_slot_environment() -> None:
    with pytest.raises(PlanError, match="has no slots"):
        target("dev", slot=2)


def test_slot_environment_needs_a_slot() -> None:
    with pytest.raises(PlanError, match="needs a slot"):
        target("ai")


def test_unknown_mode() -> None:
    with pytest.raises(PlanError, match="unknown mode 'fix'"):
        target("dev", mode="fix")


def test_config_overrides_the_stack_name() -> None:
    resolved = target("my-laptop", env="ai", slot=4, namespace="sandbox")
    assert (resolved.env, resolved.slot, resolved.namespace) == ("ai", 4, "sandbox")


def test_environment_inherits_from_its_parent() -> None:
    # ai says imagePullPolicy itself; everything else comes from ai-staging
    assert target("ai-slot-2").environment.image_pull_policy == "IfNotPresent"
    assert target("ai-staging").environment.image_pull_policy == "Always"


def test_namespace_pattern_uses_the_files_own_values_but_not_itself(make_project: MakeProject) -> None:
    root = make_project(
        """\
        project: shop
        versions:
          api: "1.2"
        namespace:
          patterns:
            dev: "{{ project }}-{{ env }}-{{ versions['api'] }}-{{ namespace }}"
        environments:
          dev: {}
        """
    )
    with pytest.raises(TemplateError, match=r"namespace is defined in terms of itself \(namespace -> namespace\)"):
        target("dev", root)
    (root / "services.yaml").write_text(
        (root / "services.yaml").read_text().replace("-{{ namespace }}", ""), encoding="utf-8"
    )
    with pytest.raises(PlanError, match=r"namespace 'shop-dev-1.2' is not a valid"):
        target("dev", root)


def test_namespace_pattern_falls_back_along_from_and_to_a_default(make_project: MakeProject) -> None:
    root = make_project(MINIMAL.replace("  dev: {}", "  dev: {}\n  qa: {from: dev}"), {"ns.yaml": NAMESPACE_MANIFEST})
    assert target("ai-slot-2", root).namespace == "demo-ai-2"
    assert target("qa", root).namespace == "demo-qa"


def test_base_domain_and_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_ROOT", "/srv/data")
    resolved = target("ai-slot-5")
    assert resolved.base_domain == "dev-5.staging.example-domain.ru"
    assert resolved.storage.env_dir == "/srv/data/slots/5"
    assert target("dev").storage.env_dir == "/srv/data/dev"
