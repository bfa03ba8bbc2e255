"""The loaded services.yaml document and its dependsOn graph (codex_stacks/config/loader.py),
where a fresh sampled mutation run (tools/mutation.py config --sample 60 --seed 29) found
behaviour no in-process test held."""

from __future__ import annotations

import pytest

from codex_stacks.errors import ConfigError
from tests.config.conftest import load


def test_a_chain_of_dependencies_without_a_cycle_loads() -> None:
    text = (
        "project: demo\nservices:\n"
        "  - name: web\n    dependsOn: [api]\n"
        "  - name: api\n    dependsOn: [db]\n"
        "  - name: db\n    dependsOn: [cache]\n"
        "  - name: cache\n"
    )
    assert [ref.name for ref in load(text).document.services] == ["web", "api", "db", "cache"]


def test_a_cycle_three_items_long_is_refused_naming_every_item() -> None:
    text = (
        "project: demo\nservices:\n"
        "  - name: web\n    dependsOn: [api]\n"
        "  - name: api\n    dependsOn: [db]\n"
        "  - name: db\n    dependsOn: [web]\n"
    )
    with pytest.raises(ConfigError) as info:
        load(text)
    error = info.value
    assert error.message == "dependsOn forms a cycle: web -> api -> db -> web"
    assert (error.location.path, error.location.line) == ("services[0].dependsOn", 4)
    assert error.hint == "remove one of these dependsOn entries"
