"""Bounded YAML (codex_stacks/config/yamlio.py) where a second fresh sampled mutation run
(tools/mutation.py config --sample 60 --seed 29 --recheck) found rules no test held: the nodes an
alias of a nested collection stands for, and which error a services.yaml with a duplicate key
reports when a value also holds a line that looks like an old ``{% … %}`` statement."""

from __future__ import annotations

import pytest

from codex_stacks.config.limits import Limits
from codex_stacks.config.yamlio import load_document
from codex_stacks.errors import CodexError, CombinedError, ConfigError
from tests.config.conftest import load

ANCHORED = "a: &x {b: [1, 2]}\nc: *x\n"
"""Nodes, counted by hand: the root mapping, keys a and c (3); the anchored mapping, its key b,
the list and its two items (5); the alias stands for those 5 again: 13 in all."""


def test_an_alias_of_a_nested_collection_counts_every_node_it_stands_for() -> None:
    with pytest.raises(ConfigError) as info:
        load_document(ANCHORED, limits=Limits(yaml_nodes=12))
    assert info.value.message == "the YAML has more than 12 nodes once its aliases are expanded"
    assert info.value.location.line == 1
    assert load_document(ANCHORED, limits=Limits(yaml_nodes=13)) == {"a": {"b": [1, 2]}, "c": {"b": [1, 2]}}


def test_a_duplicate_key_is_reported_even_when_a_value_holds_a_statement_like_line() -> None:
    """The file is valid YAML (the ``{% if … %}`` line is text inside a block value), so its
    problem is the key given twice, not the old dialect."""
    text = "project: demo\nproject: again\nnotes: |\n  {% if slot %}\n  hello\n"
    with pytest.raises(CodexError) as info:
        load(text)
    error = info.value
    (problem,) = list(error.problems) if isinstance(error, CombinedError) else [error]
    assert problem.message == "duplicate key 'project' (first given on line 1)"
    assert problem.location.line == 2
