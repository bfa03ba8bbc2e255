"""``codexctl render``: a stack's manifests as one YAML stream, from the plan alone (no Pulumi).

Like upstream codexctl's ``render``: every object the stack deploys, as the plan makes it
(overlays applied, namespaces filled in), components in the order they are applied, documents
separated by ``---``, keys sorted. Secret values are masked unless asked for, as in preview.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

import yaml

from codex_stacks.plan import Plan
from codex_stacks.plan.objects import KubeObject

MASK = "[secret]"
_VISIBLE = frozenset({"apiVersion", "kind", "metadata", "type", "immutable"})
_PATH_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


_Base: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_Base):  # type: ignore[valid-type,misc]
    """PyYAML's C emitter (the stream's cost is mostly writing it), text with line breaks as block scalars."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and all(ord(char) >= 32 or char in "\n\t" for char in value) and not value[:1].isspace():
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)


def _mask_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _mask_all(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_all(item) for item in value]
    return MASK


def _mask_path(manifest: Any, path: str) -> None:
    parts = [name if name else int(index) for name, index in _PATH_RE.findall(path)]
    node = manifest
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    if parts and isinstance(node, dict | list):
        try:
            node[parts[-1]] = MASK
        except (IndexError, TypeError):
            return


def shown(obj: KubeObject, *, show_secrets: bool) -> dict[str, Any]:
    """The object as printed: a Secret's values and fields holding secret variables masked."""
    if show_secrets:
        return dict(obj.manifest)
    manifest = copy.deepcopy(dict(obj.manifest))
    if manifest.get("kind") == "Secret" and manifest.get("apiVersion") == "v1":
        manifest = {key: value if key in _VISIBLE else _mask_all(value) for key, value in manifest.items()}
    for path in obj.secret_paths:
        _mask_path(manifest, path)
    return manifest


def stream(objects: Iterable[KubeObject], *, show_secrets: bool = False) -> str:
    """One multi-document YAML stream: ``---`` between documents, keys sorted."""
    documents = [shown(obj, show_secrets=show_secrets) for obj in objects]
    return yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=True,
        allow_unicode=True,
        width=1_000_000,
        default_flow_style=False,
        indent=2,
    )


def render_plan(plan: Plan, *, show_secrets: bool = False) -> str:
    return stream(plan.objects, show_secrets=show_secrets)
