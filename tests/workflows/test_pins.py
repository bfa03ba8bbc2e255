"""Every action a workflow uses is pinned to the commit that ``.github/action-pins.yml`` lists for
it, with that commit's tag as a comment: a pin cannot drift from the table, and the table holds
nothing the workflows do not use (docs/security-workflows.md, "Pinning")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PINS = yaml.safe_load((ROOT / ".github" / "action-pins.yml").read_text())
WORKFLOWS = sorted([*ROOT.glob(".github/workflows/*.yml"), *ROOT.glob("examples/*/.github/workflows/*.yml")])
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*?))?\s*$")
OWN_REUSABLE = "codex-stacks/codex-stacks/.github/workflows/"
"""Called by branch only in the examples, under their zizmor policy (tests/workflows/test_zizmor.py)."""


def uses(path: Path) -> list[tuple[int, str, str]]:
    """(line, ref, comment) of every ``uses:`` in a workflow file, read as text (comments matter)."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = USES.match(line)
        if match:
            found.append((number, match.group("ref").strip("'\""), (match.group("comment") or "").strip()))
    return found


def test_the_table_pins_full_commits_to_release_tags() -> None:
    assert PINS
    for action, pin in PINS.items():
        assert re.fullmatch(r"[a-z0-9-]+/[a-z0-9._-]+", action), action
        assert set(pin) == {"commit", "tag"}, action
        assert re.fullmatch(r"[0-9a-f]{40}", pin["commit"]), action
        assert re.fullmatch(r"v\d+\.\d+\.\d+", pin["tag"]), action


@pytest.mark.parametrize("path", WORKFLOWS, ids=[str(p.relative_to(ROOT)) for p in WORKFLOWS])
def test_every_action_is_pinned_as_the_table_says(path: Path) -> None:
    for line, ref, comment in uses(path):
        where = f"{path.relative_to(ROOT)}:{line}"
        if ref.startswith(OWN_REUSABLE) and "examples" in path.parts:
            continue
        assert not ref.startswith(("./", "docker://")), f"{where}: local and docker actions are not used here"
        action, _, version = ref.partition("@")
        name = "/".join(action.split("/")[:2])
        assert name in PINS, f"{where}: {name} is not in .github/action-pins.yml"
        assert version == PINS[name]["commit"], f"{where}: {ref} is not the table's commit {PINS[name]['commit']}"
        assert comment == PINS[name]["tag"], f"{where}: the comment must name the tag {PINS[name]['tag']}"


def test_the_table_lists_nothing_unused() -> None:
    used = {"/".join(ref.partition("@")[0].split("/")[:2]) for path in WORKFLOWS for _, ref, _ in uses(path)}
    assert set(PINS) <= used


def test_the_pulumi_github_action_stays() -> None:
    refs = [ref for path in ROOT.glob(".github/workflows/codex-*.yml") for _, ref, _ in uses(path)]
    assert any(ref.startswith("pulumi/actions@") for ref in refs)
