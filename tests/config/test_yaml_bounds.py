"""Bounded YAML (codex_stacks.config.yamlio): aliases counted as what they expand to, nesting
bounded, recursive aliases and repeated keys refused — for every loader, and for
``compose_bounded``, which hands the node graph to callers that walk it themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from codex_stacks.config.limits import Limits
from codex_stacks.config.yamlio import compose_bounded, compose_node, load_document, load_documents
from codex_stacks.errors import ConfigError

SOURCE = Path("/project/services.yaml")
TIGHT = Limits(yaml_nodes=50, yaml_depth=5)

LOADERS = {
    "load_document": lambda text, limits: load_document(text, source=SOURCE, limits=limits),
    "compose_node": lambda text, limits: compose_node(text, source=SOURCE, limits=limits)[0].dispose(),
    "load_documents": lambda text, limits: list(load_documents(text, source=SOURCE, limits=limits)),
    "compose_bounded": lambda text, limits: compose_bounded(text, source=SOURCE, limits=limits),
}


def _error(text: str, limits: Limits | None = None) -> list[str]:
    """The message each loader gives for ``text`` (they must all refuse it the same way)."""
    found = []
    for load in LOADERS.values():
        with pytest.raises(ConfigError) as info:
            load(text, limits)
        found.append(str(info.value).split("\n")[0])
    return found


def test_aliases_count_as_the_nodes_they_stand_for() -> None:
    """Ten lists of five aliases to a six-node list: eleven short lines, over 300 nodes once
    expanded — refused at the line where the running count crosses the limit of 50."""
    text = "base: &b [1, 2, 3, 4, 5]\n" + "".join(f"k{i}: [*b, *b, *b, *b, *b]\n" for i in range(10))
    assert set(_error(text, TIGHT)) == {
        f"{SOURCE}:3: the YAML has more than 50 nodes once its aliases are expanded"
    }  # the root and base: 8 nodes; k0: 2 + 5 * 6 = 32 (40 so far); k1 crosses 50 on line 3


def test_a_document_within_the_limits_loads_and_keeps_aliases_shared() -> None:
    text = "base: &b {image: nginx, port: 80}\nweb: *b\napi: *b\n"
    assert load_document(text, source=SOURCE) == {"base": {"image": "nginx", "port": 80}} | {
        "web": {"image": "nginx", "port": 80},
        "api": {"image": "nginx", "port": 80},
    }
    node = compose_bounded(text, source=SOURCE)
    assert isinstance(node, yaml.MappingNode)
    values = [value for _, value in node.value]
    assert values[0] is values[1] is values[2]  # the graph stays small: aliases are shared nodes
    assert [key.start_mark.line + 1 for key, _ in node.value] == [1, 2, 3]


def test_merge_keys_count_what_they_merge() -> None:
    text = "a: &a {x: 1, y: 2}\n" + "".join(
        f"m{i}: &m{i}\n  <<: [*{'a' if i == 0 else f'm{i - 1}'}, *{'a' if i == 0 else f'm{i - 1}'}]\n" for i in range(8)
    )
    messages = _error(text, Limits(yaml_nodes=50, yaml_depth=100))
    assert all("more than 50 nodes once its aliases are expanded" in message for message in messages)
    assert load_document("a: &a {x: 1}\nb:\n  <<: *a\n  y: 2\n", source=SOURCE) == {
        "a": {"x": 1},
        "b": {"x": 1, "y": 2},
    }


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    assert set(_error("a: 1\nloop: &l\n  - x\n  - *l\n")) == {
        f"{SOURCE}:2: a YAML alias refers to a node that contains it (a structure without end)"
    }


def test_nesting_is_bounded_through_aliases_too() -> None:
    assert set(_error("a: [[[[[[x]]]]]]\n", TIGHT)) == {f"{SOURCE}:1: the YAML nests deeper than 5 levels"}
    deep_by_alias = "inner: &i [[[x]]]\nouter: [[*i]]\n"  # 3 levels, reached at depth 3: 5, then 6
    assert load_document("inner: &i [[[x]]]\nouter: [*i]\n", source=SOURCE, limits=TIGHT)
    assert set(_error(deep_by_alias, TIGHT)) == {f"{SOURCE}:2: the YAML nests deeper than 5 levels"}


def test_a_file_of_many_small_nodes_stops_at_the_limit_with_its_line() -> None:
    text = "items:\n" + "".join(f"  - {i}\n" for i in range(100))
    # root, 'items', the list, then item k is node k + 4: the 51st node is item 47, on line 49
    assert set(_error(text, TIGHT)) == {f"{SOURCE}:49: the YAML has more than 50 nodes"}


def test_the_documents_of_one_file_share_its_limit() -> None:
    document = "a: [1, 2, 3, 4, 5, 6, 7, 8]\n"  # 11 nodes
    assert len(list(load_documents("---\n".join([document] * 4), source=SOURCE, limits=TIGHT))) == 4
    with pytest.raises(ConfigError, match="more than 50 nodes"):
        list(load_documents("---\n".join([document] * 5), source=SOURCE, limits=TIGHT))


def test_compose_bounded_refuses_a_key_given_twice() -> None:
    with pytest.raises(ConfigError) as info:
        compose_bounded("project: a\nenv:\n  dev: {}\n  dev: {}\n", source=SOURCE)
    assert str(info.value).startswith(f"{SOURCE}:4: duplicate key 'dev' (first given on line 3)")


def test_compose_bounded_of_an_empty_document_is_none() -> None:
    assert compose_bounded("# nothing\n", source=SOURCE) is None


def test_the_default_limits_take_a_large_real_file() -> None:
    """Fifty thousand nodes (a big CRD has some tens of thousands) and 60 levels load as before."""
    big = "items:\n" + "".join(f"  - {{name: item{i}, value: {i}}}\n" for i in range(10_000))
    assert len(load_document(big, source=SOURCE)["items"]) == 10_000
    deep = "a: " + "[" * 60 + "]" * 60 + "\n"
    assert load_document(deep, source=SOURCE) is not None
