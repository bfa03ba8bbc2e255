"""The bare SDK floor: a Pulumi program that registers ``bench:resources`` plain resources.

Run by :func:`codex_stacks.offline.runner.run_program` in place of ``__main__.py``, so it pays the
same engine cost as a preview (mock monitor, recording, stack outputs) and nothing else: no
plan, no components, no typed Kubernetes classes, no dependencies. Inputs are tiny, unless
``bench:manifests`` names a JSON list of objects: then the first resources carry those as their
inputs (what registering the same objects costs at the least).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi


class PlainResource(pulumi.CustomResource):
    """The cheapest custom resource the SDK registers."""

    def __init__(self, name: str, props: Mapping[str, Any]) -> None:
        super().__init__("bench:index:PlainResource", name, dict(props))


def main() -> None:
    config = pulumi.Config("bench")
    count = config.require_int("resources")
    manifests_file = config.get("manifests")
    manifests: list[dict[str, Any]] = (
        json.loads(Path(manifests_file).read_text(encoding="utf-8")) if manifests_file else []
    )
    for index in range(count):
        name = f"resource-{index}"
        PlainResource(name, manifests[index] if index < len(manifests) else {"name": name})
    pulumi.export("resources", count)


if __name__ == "__main__":
    main()
