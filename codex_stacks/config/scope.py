"""The names a template sees, each computed the first time a template uses it.

services.yaml defines much of its own context (``namespace`` from ``namespace.patterns``,
``versions``, ``vars``, …), and those values are templates themselves. A :class:`Scope` holds
each name as a function and calls it on first use, so nothing is evaluated that no template
needs (docs/services-yaml.md, "Evaluation"), and a value that needs itself is one clear error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from codex_stacks.config.templating import environment
from codex_stacks.errors import TemplateError

_UNSET = object()


class Scope(Mapping[str, Any]):
    """Names → values, computed lazily and once; the template globals (``range``, …) behind them."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = dict(values or {})
        self._lazy: dict[str, Callable[[], Any]] = {}
        self._active: list[str] = []
        self._globals = environment().globals

    def define(self, name: str, compute: Callable[[], Any]) -> None:
        """``name`` is computed by ``compute()`` the first time it is read."""
        self._values.pop(name, None)
        self._lazy[name] = compute

    def names(self) -> Iterator[str]:
        yield from self._values
        yield from (name for name in self._lazy if name not in self._values)

    def view(self, *, hide: frozenset[str]) -> Scope:
        """The same values without ``hide`` (``vars`` entries see only the earlier ones)."""
        return _View(self, hide)

    def __contains__(self, name: object) -> bool:
        return name in self._values or name in self._lazy or name in self._globals

    def __getitem__(self, name: str) -> Any:
        value = self._values.get(name, _UNSET)
        if value is not _UNSET:
            return value
        compute = self._lazy.get(name)
        if compute is None:
            return self._globals[name]
        if name in self._active:
            chain = " -> ".join([*self._active[self._active.index(name) :], name])
            raise TemplateError(f"{name} is defined in terms of itself ({chain})")
        self._active.append(name)
        try:
            value = compute()
        finally:
            self._active.pop()
        self._values[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return self.names()

    def copy(self) -> dict[str, Any]:
        """The values computed so far (what Jinja shows as a template's locals in a traceback)."""
        return dict(self._values)

    def __len__(self) -> int:
        return len(set(self.names()))


class _View(Scope):
    def __init__(self, base: Scope, hide: frozenset[str]) -> None:
        self._base = base
        self._hide = hide

    def names(self) -> Iterator[str]:
        return (name for name in self._base.names() if name not in self._hide)

    def __contains__(self, name: object) -> bool:
        return name not in self._hide and name in self._base

    def __getitem__(self, name: str) -> Any:
        if name in self._hide:
            raise KeyError(name)
        return self._base[name]

    def copy(self) -> dict[str, Any]:
        return {name: value for name, value in self._base.copy().items() if name not in self._hide}
