"""Every error of the bounded YAML loading (codex_stacks/config/yamlio.py) printed whole: syntax,
duplicate keys, values a tag cannot make, and each bound (nodes, aliases expanded, depth) just
inside and just over. Manifests and stack files are read through these functions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.config.limits import Limits
from codex_stacks.config.yamlio import compose_bounded, load_document, load_documents
from codex_stacks.errors import ConfigError
from tests.config.error_messages import problems_of

FILE = Path("deploy/api.yaml")
NODES_HINT = "  hint: the limit is CODEX_MAX_YAML_NODES in the environment of codexctl and pulumi"
DEPTH_HINT = "  hint: the limit is CODEX_MAX_YAML_DEPTH in the environment of codexctl and pulumi"
DUPLICATE_HINT = "  hint: remove one of the two entries"
DEFAULT = Limits()


def _all(text: str, *, source: Path, limits: Limits) -> Any:
    return list(load_documents(text, source=source, limits=limits))


LOADERS: dict[str, Callable[..., Any]] = {
    "one": load_document,
    "stream": _all,
    "nodes": compose_bounded,
}

CASES = [
    pytest.param(
        "one", "kind: [Pod\n", DEFAULT, "deploy/api.yaml:2: invalid YAML: did not find expected ',' or ']'", id="syntax"
    ),
    pytest.param(
        "stream",
        "kind: Pod\n---\nkind: {\n",
        DEFAULT,
        "deploy/api.yaml:4: invalid YAML: did not find expected node content",
        id="syntax-second-document",
    ),
    pytest.param(
        "nodes",
        "a:\n  - b\n c: 1\n",
        DEFAULT,
        "deploy/api.yaml:3: invalid YAML: did not find expected key",
        id="syntax-nodes",
    ),
    pytest.param(
        "one",
        "kind: Pod\nname: a\nkind: Service\n",
        DEFAULT,
        f"deploy/api.yaml:3: duplicate key 'kind' (first given on line 1)\n{DUPLICATE_HINT}",
        id="duplicate",
    ),
    pytest.param(
        "stream",
        "ports:\n  80: http\n  80: web\n",
        DEFAULT,
        f"deploy/api.yaml:3: duplicate key 80 (first given on line 2)\n{DUPLICATE_HINT}",
        id="duplicate-number-key",
    ),
    pytest.param(
        "nodes",
        "metadata:\n  name: a\n  name: b\n",
        DEFAULT,
        f"deploy/api.yaml:3: duplicate key 'name' (first given on line 2)\n{DUPLICATE_HINT}",
        id="duplicate-nodes",
    ),
    pytest.param(
        "one",
        "replicas: !!int two\n",
        DEFAULT,
        "deploy/api.yaml:1: invalid YAML: not a valid !!int (quote the value to keep it as text)",
        id="tag-int",
    ),
    pytest.param(
        "one",
        "created: 2001-99-99\n",
        DEFAULT,
        "deploy/api.yaml:1: invalid YAML: not a valid !!timestamp (quote the value to keep it as text)",
        id="timestamp-form",
    ),
    pytest.param("one", "a: 1\nb: 2\n", Limits(yaml_nodes=5), "no problem", id="nodes-at-the-bound"),
    pytest.param(
        "one",
        "a: 1\nb: 2\n",
        Limits(yaml_nodes=4),
        f"deploy/api.yaml:2: the YAML has more than 4 nodes\n{NODES_HINT}",
        id="nodes-one-over",
    ),
    pytest.param(
        "stream",
        "a: 1\n---\nb: 2\n",
        Limits(yaml_nodes=5),
        f"deploy/api.yaml:3: the YAML has more than 5 nodes\n{NODES_HINT}",
        id="nodes-counted-per-stream",
    ),
    pytest.param(
        "one", "a: &x [1, 2, 3]\nb: *x\nc: *x\n", Limits(yaml_nodes=16), "no problem", id="aliases-at-the-bound"
    ),
    pytest.param(
        "one",
        "a: &x [1, 2, 3]\nb: *x\nc: *x\n",
        Limits(yaml_nodes=15),
        f"deploy/api.yaml:1: the YAML has more than 15 nodes once its aliases are expanded\n{NODES_HINT}",
        id="aliases-one-over",
    ),
    pytest.param(
        "one",
        "a: &x [1, 2, 3]\nb: *x\nc: *x\n",
        Limits(yaml_nodes=12),
        f"deploy/api.yaml:1: the YAML has more than 12 nodes once its aliases are expanded\n{NODES_HINT}",
        id="aliases-over-at-an-alias",
    ),
    pytest.param("nodes", "a: &x [1, 2]\nb: *x\n", Limits(yaml_nodes=9), "no problem", id="nodes-walk-at-the-bound"),
    pytest.param(
        "nodes",
        "a: &x [1, 2]\nb: *x\n",
        Limits(yaml_nodes=8),
        f"deploy/api.yaml:1: the YAML has more than 8 nodes once its aliases are expanded\n{NODES_HINT}",
        id="nodes-walk-one-over",
    ),
    pytest.param(
        "nodes",
        "a: 1\nb: 2\nc: 3\n",
        Limits(yaml_nodes=4),
        f"deploy/api.yaml:2: the YAML has more than 4 nodes\n{NODES_HINT}",
        id="nodes-composed-over",
    ),
    pytest.param(
        "nodes",
        "!!str x\n",
        Limits(yaml_nodes=0),
        f"deploy/api.yaml:1: the YAML has more than 0 nodes once its aliases are expanded\n{NODES_HINT}",
        id="tagged-scalar-alone",
    ),
    pytest.param(
        "one",
        "a: &x\n  b: *x\n",
        DEFAULT,
        "deploy/api.yaml:1: a YAML alias refers to a node that contains it (a structure without end)\n"
        "  hint: aliases may only repeat complete values",
        id="recursive-alias",
    ),
    pytest.param("one", "a:\n  b:\n    c: 1\n", Limits(yaml_depth=3), "no problem", id="depth-at-the-bound"),
    pytest.param(
        "one",
        "a:\n  b:\n    c: 1\n",
        Limits(yaml_depth=2),
        f"deploy/api.yaml:3: the YAML nests deeper than 2 levels\n{DEPTH_HINT}",
        id="depth-one-over",
    ),
    pytest.param(
        "one", "a: &x\n  b:\n    c: 1\n", Limits(yaml_depth=3), "no problem", id="depth-with-anchor-at-the-bound"
    ),
    pytest.param(
        "one",
        "a: &x\n  b:\n    c: 1\n",
        Limits(yaml_depth=2),
        f"deploy/api.yaml:3: the YAML nests deeper than 2 levels\n{DEPTH_HINT}",
        id="depth-with-anchor-over",
    ),
    pytest.param(
        "one", "a: &x\n  b: 1\nc:\n  d: *x\n", Limits(yaml_depth=3), "no problem", id="depth-through-alias-at-the-bound"
    ),
    pytest.param(
        "one",
        "a: &x\n  b: 1\nc:\n  d: *x\n",
        Limits(yaml_depth=2),
        f"deploy/api.yaml:4: the YAML nests deeper than 2 levels\n{DEPTH_HINT}",
        id="depth-through-alias-over",
    ),
    pytest.param(
        "one",
        "[" * 999 + "]" * 999,
        Limits(yaml_depth=1_000_000),
        "deploy/api.yaml:1: the YAML nests deeper than this process can follow (the limit of 1000000 levels "
        f"is set above it)\n{DEPTH_HINT}",
        id="past-the-stack",
    ),
    pytest.param(
        "nodes",
        "[" * 999 + "]" * 999,
        Limits(yaml_depth=1_000_000),
        "deploy/api.yaml:1: the YAML nests deeper than this process can follow (the limit of 1000000 levels "
        f"is set above it)\n{DEPTH_HINT}",
        id="past-the-stack-walking-nodes",
    ),
]


def _outcome(loader: str, text: str, limits: Limits) -> str:
    try:
        LOADERS[loader](text, source=FILE, limits=limits)
    except ConfigError as error:
        return str(error)
    return "no problem"


@pytest.mark.parametrize(("loader", "text", "limits", "expected"), CASES)
def test_what_a_manifest_error_reads(loader: str, text: str, limits: Limits, expected: str) -> None:
    assert _outcome(loader, text, limits) == expected


ENVIRONMENT_CASES = [
    pytest.param({"CODEX_MAX_YAML_NODES": "7"}, "no problem", id="services-nodes-at-the-bound"),
    pytest.param(
        {"CODEX_MAX_YAML_NODES": "6"},
        "services.yaml:3: the YAML has more than 6 nodes\n"
        "  hint: the limit is CODEX_MAX_YAML_NODES in the environment of codexctl and pulumi",
        id="services-nodes-one-over",
    ),
    pytest.param({"CODEX_MAX_YAML_DEPTH": "3"}, "no problem", id="services-depth-at-the-bound"),
    pytest.param(
        {"CODEX_MAX_YAML_DEPTH": "2"},
        "services.yaml:3: the YAML nests deeper than 2 levels\n"
        "  hint: the limit is CODEX_MAX_YAML_DEPTH in the environment of codexctl and pulumi",
        id="services-depth-one-over",
    ),
]


@pytest.mark.parametrize(("environ", "expected"), ENVIRONMENT_CASES)
def test_what_services_yaml_past_a_limit_reads(
    environ: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """services.yaml is read with the operator's limits. Its 7 nodes: the root, project and its
    name, environments, its mapping, dev and dev's mapping (line 3, the third level)."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert problems_of("project: demo\nenvironments:\n  dev: {}\n") == expected
