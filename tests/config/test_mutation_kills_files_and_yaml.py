"""Reading project files and YAML within the operator's limits (codex_stacks/config: files,
limits, yamlio), case by case where a sampled mutation run (tools/mutation.py config) found a
behaviour no in-process test held. Node counts follow the documented rule (an alias counts as
every node it stands for), worked out by hand in each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_stacks.config.files import read_text
from codex_stacks.config.limits import Limits
from codex_stacks.config.yamlio import compose_bounded, line_of, load_document, load_documents
from codex_stacks.errors import ConfigError

SOURCE = Path("/project/manifests/app.yaml")


def test_the_size_limit_is_shown_in_whole_units(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text("a" * 2049, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_text(tmp_path / "big.yaml", root=tmp_path, limits=Limits(file_bytes=2048))
    assert info.value.message == "the file is larger than 2 KiB"


def test_a_file_whose_size_the_system_does_not_know_is_still_bounded() -> None:
    """procfs reports size 0; the limit holds on what is read."""
    status = Path("/proc/self/status")
    with pytest.raises(ConfigError) as info:
        read_text(status, limits=Limits(file_bytes=16))
    assert info.value.message == "the file is larger than 16 bytes"
    assert info.value.location.file == status


# The root list (1), the anchored list (1) and its two items (2), and the alias, which stands for
# those three nodes: 7 nodes.
SEVEN_NODES = "- &pair [1, 2]\n- *pair\n"


@pytest.mark.parametrize(
    "load",
    [
        lambda limits: load_document(SEVEN_NODES, source=SOURCE, limits=limits),
        lambda limits: list(load_documents(SEVEN_NODES, source=SOURCE, limits=limits)),
        lambda limits: compose_bounded(SEVEN_NODES, source=SOURCE, limits=limits),
    ],
    ids=["load_document", "load_documents", "compose_bounded"],
)
def test_a_document_of_exactly_the_node_limit_loads_one_more_does_not(load: object) -> None:
    assert callable(load)
    load(Limits(yaml_nodes=7))
    with pytest.raises(ConfigError) as info:
        load(Limits(yaml_nodes=6))
    assert info.value.message == "the YAML has more than 6 nodes once its aliases are expanded"


def test_documents_are_numbered_by_the_line_they_start_on() -> None:
    text = "a: 1\n---\n# a comment\nb: 2\n---\nc: [3]\n"
    assert list(load_documents(text, source=SOURCE)) == [(1, {"a": 1}), (4, {"b": 2}), (6, {"c": [3]})]


def test_a_repeated_key_in_a_manifest_names_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        load_document("kind: Service\nmetadata:\n  name: a\nkind: Pod\n", source=SOURCE)
    assert str(info.value).startswith(f"{SOURCE}:4: duplicate key 'kind' (first given on line 1)")


def test_line_of_finds_a_nested_key() -> None:
    text = "kind: Deployment\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: a\n"
    assert line_of(text, ["spec", "replicas"]) == 3
    assert line_of(text, ["spec", "template", "spec", "containers", 0, "name"]) == 7


# The root mapping is level 1 and each list one more: four lists make five levels.
FIVE_LEVELS = "a: [[[[x]]]]\n"
SIX_LEVELS = "a: [[[[[x]]]]]\n"


@pytest.mark.parametrize(
    "load",
    [
        lambda text, limits: load_document(text, source=SOURCE, limits=limits),
        lambda text, limits: list(load_documents(text, source=SOURCE, limits=limits)),
        lambda text, limits: compose_bounded(text, source=SOURCE, limits=limits),
    ],
    ids=["load_document", "load_documents", "compose_bounded"],
)
def test_a_document_of_exactly_the_depth_limit_loads_one_level_more_does_not(load: object) -> None:
    assert callable(load)
    load(FIVE_LEVELS, Limits(yaml_depth=5))
    with pytest.raises(ConfigError) as info:
        load(SIX_LEVELS, Limits(yaml_depth=5))
    assert info.value.message == "the YAML nests deeper than 5 levels"
