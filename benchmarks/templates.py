"""Make every measured run compile its templates, as each ``codexctl`` process does."""

from __future__ import annotations


def cold_templates() -> None:
    """Forget the templates the product compiled (cached per process); a no-op without a cache."""
    from codex_stacks.config import templating

    clear = getattr(getattr(templating, "_compile_named", None), "cache_clear", None)
    if clear is not None:
        clear()
