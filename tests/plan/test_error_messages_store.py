"""The repair store a repair run without targets registers again (codex_stacks/plan/store.py):
every refusal whole."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.plan import ComponentPlan, PlanRequest, build_plan
from codex_stacks.plan.store import StoredPlan, dump, load, stored_part, with_stored
from tests.plan.test_error_messages import CM, NS, write

# ---------------------------------------------------------------------------------------- the repair store (store.py)

STORE_SERVICES = """\
project: demo
environments:
  dev: {}
infrastructure:
  - name: base
    manifests: [{path: ns.yaml}]
  - name: extras
    dependsOn: [base]
    manifests: [{path: cm.yaml}]
"""
REFUSED = "the registrations stored by the last normal run cannot be used: "
TARGETS = (
    "\n  hint: run the repair with the repair set's targets instead: pulumi up -s <stack> -c codex:mode=repair "
    "$(codexctl repair-targets -s <stack> | sed 's/^/--target /')"
)


def envelope(plan: str, digest: str = "0" * 64) -> str:
    return json.dumps({"format": "codex-stacks/repair-store/1", "stack": "dev", "sha256": digest, "plan": plan})


@pytest.mark.parametrize(
    ("text", "stack", "expected"),
    [
        pytest.param("", "dev", "stack dev has no repairStore output (no normal run since repair learned to store)"),
        pytest.param(
            '{"format": "codex-stacks/repair-store/0"}', "dev", "unknown format 'codex-stacks/repair-store/0'"
        ),
        pytest.param(
            envelope(base64.b64encode(gzip.compress(b"{}")).decode()),
            "dev",
            "its digest does not match its content (it was changed)",
            id="digest",
        ),
        pytest.param("not json", "dev", "it does not read (JSONDecodeError)", id="not-json"),
        pytest.param(envelope("%%%"), "dev", "its plan is not base64", id="not-base64"),
        pytest.param(
            envelope(base64.b64encode(b"plain").decode()), "dev", "its plan is not whole gzip data", id="not-gzip"
        ),
        pytest.param(
            envelope(base64.b64encode(gzip.compress(b"{}")[:-4]).decode()),
            "dev",
            "its plan is not whole gzip data",
            id="gzip-cut-short",
        ),
        pytest.param(None, "prod", "it belongs to stack dev in namespace demo-dev", id="another-stack"),
    ],
)
def test_a_store_that_cannot_be_used_is_refused(tmp_path: Path, text: str | None, stack: str, expected: str) -> None:
    root = write(tmp_path / "p", STORE_SERVICES, {"ns.yaml": NS, "cm.yaml": CM})
    stored = dump(stored_part(build_plan(PlanRequest(stack="dev", project_dir=root))))
    with pytest.raises(CodexError) as info:
        load(stored if text is None else text, stack=stack, namespace="demo-dev")
    assert str(info.value) == REFUSED + expected + TARGETS


def test_a_store_whose_component_depends_on_a_renamed_one_is_refused(tmp_path: Path) -> None:
    """The normal run stored ``extras`` (which waits for ``base``); services.yaml renamed ``base``
    to ``core`` before the repair run: one clear line instead of a KeyError in the program."""
    root = write(tmp_path / "p", STORE_SERVICES, {"ns.yaml": NS, "cm.yaml": CM})
    stored = load(
        dump(stored_part(build_plan(PlanRequest(stack="dev", project_dir=root)))), stack="dev", namespace="demo-dev"
    )
    (root / "services.yaml").write_text(STORE_SERVICES.replace("base", "core"), encoding="utf-8")
    repair = build_plan(PlanRequest(stack="dev", project_dir=root, mode="repair"))
    with pytest.raises(CodexError) as info:
        with_stored(repair, stored)
    assert (
        str(info.value)
        == REFUSED + "its component extras depends on base, which this repair run does not have" + TARGETS
    )


def test_stored_components_that_wait_for_each_other_are_a_cycle(tmp_path: Path) -> None:
    root = write(tmp_path / "p", STORE_SERVICES, {"ns.yaml": NS, "cm.yaml": CM})
    repair = build_plan(PlanRequest(stack="dev", project_dir=root, mode="repair"))
    stored = StoredPlan(
        stack="dev",
        namespace="demo-dev",
        components=(
            ComponentPlan(kind="InfrastructureGroup", name="a", objects=(), depends_on=("b",)),
            ComponentPlan(kind="InfrastructureGroup", name="b", objects=(), depends_on=("a",)),
        ),
        hooks=(),
        stack_steps={},
    )
    with pytest.raises(CodexError) as info:
        with_stored(repair, stored)
    assert str(info.value) == "dependsOn forms a cycle: a -> b -> a\n  hint: remove one of these dependsOn entries"
