"""The 1 MiB limit of a Secret's or ConfigMap's data (Kubernetes: "Secrets", "ConfigMaps") names
the field whose values take the total past it: ``data`` when the base64 data alone is too big (it
used to name ``stringData``, a field the manifest may not even have)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from codex_stacks.plan.kube_rules import check_objects
from codex_stacks.plan.objects import KubeObject

MIB = 1024 * 1024
LIMIT = ": the {kind}'s data adds up to more than 1 MiB, the API server's limit"


def _problems(kind: str, **fields: Any) -> list[str]:
    manifest = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "blob", "namespace": "demo-dev"}, **fields}
    obj = KubeObject(manifest=manifest, source=Path("/nowhere/blob.yaml"), line=1)
    return [error.message for error in check_objects([obj], namespace="demo-dev")]


def test_secret_data_alone_over_the_limit_names_data() -> None:
    big = base64.b64encode(b"x" * (MIB + 1)).decode()
    assert _problems("Secret", data={"blob": big}) == ["Secret/demo-dev/blob: data" + LIMIT.format(kind="Secret")]


def test_secret_string_data_taking_the_total_over_names_string_data() -> None:
    half = base64.b64encode(b"x" * (MIB // 2)).decode()
    problems = _problems("Secret", data={"a": half}, stringData={"b": "y" * (MIB // 2 + 1)})
    assert problems == ["Secret/demo-dev/blob: stringData" + LIMIT.format(kind="Secret")]


def test_configmap_text_data_over_the_limit_names_data() -> None:
    problems = _problems("ConfigMap", data={"big": "z" * (MIB + 1)})
    assert problems == ["ConfigMap/demo-dev/blob: data" + LIMIT.format(kind="ConfigMap")]
