"""``baseDomain`` and ``namespace.patterns`` hold one value per environment. Written as a single
value (``baseDomain: demo.example``) they were silently ignored: every stack got an empty base
domain. Now that is one error at the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.loader import parse_services
from codex_stacks.errors import CodexError

SOURCE = Path("/project/services.yaml")
TAIL = "environments:\n  dev: {}\ninfrastructure:\n  - name: base\n    manifests: [{path: ns.yaml}]\n"


def _problem(text: str) -> str:
    with pytest.raises(CodexError) as caught:
        parse_services(text, source=SOURCE)
    return str(caught.value)


def test_a_base_domain_written_once_is_refused_at_its_line() -> None:
    shown = _problem("project: demo\nbaseDomain: demo.example\n" + TAIL)
    assert shown == (
        "/project/services.yaml:2: baseDomain: must map environment names to values (one per environment), "
        "not a single value\n  hint: e.g. baseDomain: {dev: ..., ai: ...}"
    )


def test_namespace_patterns_written_as_a_list_is_refused_at_its_line() -> None:
    shown = _problem("project: demo\nnamespace:\n  patterns: ['{{ project }}-x']\n" + TAIL)
    assert shown.startswith(
        "/project/services.yaml:3: namespace.patterns: must map environment names to values (one per environment), "
        "not a list\n"
    )


def test_per_environment_maps_load() -> None:
    text = "project: demo\nbaseDomain: {dev: dev.example}\nnamespace:\n  patterns: {dev: 'demo-x'}\n" + TAIL
    assert parse_services(text, source=SOURCE).project == "demo"
