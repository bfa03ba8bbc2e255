"""Make every measured run compile its templates, as each ``codexctl`` process does."""

from __future__ import annotations

_CACHES = ("_compile", "_compile_text", "_pieces", "_expression")
"""The product's per-process template caches (codex_stacks/config/templating.py)."""


def cold_templates() -> None:
    """Forget the templates the product compiled; fails loudly when a cache is renamed."""
    from codex_stacks.config import templating

    for name in _CACHES:
        getattr(templating, name).cache_clear()
