"""Part of a stack by name: ``--only-services``, ``--skip-services``, ``--only-infra``, ``--skip-infra``.

Upstream codexctl's ``render`` and ``ci apply`` took the same four options: comma-separated
names, matched after trimming and without regard to case. Here they select the components
``codexctl render`` and ``codexctl preview`` show and the ``--target`` list ``codexctl targets``
prints; an item left out is not evaluated at all (like an item outside the repair set), so a
broken item elsewhere cannot stop rendering the rest. The agent's own component (``CodexAgent``)
goes with the codex service. Only the command line sets them, never stack config: a filtered
``pulumi up`` without ``--target`` would delete everything left out.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from codex_stacks.errors import PlanError

Section = Literal["infrastructure", "services"]
OPTIONS: dict[str, str] = {
    "only_services": "--only-services",
    "skip_services": "--skip-services",
    "only_infra": "--only-infra",
    "skip_infra": "--skip-infra",
}


def names(text: str | None) -> frozenset[str] | None:
    """``"api, Web"`` → ``{"api", "web"}``; None or blank → None (no filter)."""
    if text is None:
        return None
    found = frozenset(part.strip().lower() for part in text.split(",") if part.strip())
    return found or None


@dataclass(frozen=True, slots=True)
class NameFilters:
    """Which items a command keeps; every filter that is set must let an item through."""

    only_services: frozenset[str] | None = None
    skip_services: frozenset[str] | None = None
    only_infra: frozenset[str] | None = None
    skip_infra: frozenset[str] | None = None

    @classmethod
    def parse(
        cls,
        *,
        only_services: str | None = None,
        skip_services: str | None = None,
        only_infra: str | None = None,
        skip_infra: str | None = None,
    ) -> NameFilters | None:
        filters = cls(names(only_services), names(skip_services), names(only_infra), names(skip_infra))
        return filters if filters.active else None

    @property
    def active(self) -> bool:
        return any(
            value is not None for value in (self.only_services, self.skip_services, self.only_infra, self.skip_infra)
        )

    def includes(self, section: Section, name: str) -> bool:
        key = name.strip().lower()
        only, skip = (
            (self.only_services, self.skip_services) if section == "services" else (self.only_infra, self.skip_infra)
        )
        if only is not None and key not in only:
            return False
        return not (skip is not None and key in skip)

    def reason(self, section: Section, name: str) -> str:
        """Why ``name`` is left out (for the plan's skipped list)."""
        key = name.strip().lower()
        skip, word = (self.skip_services, "services") if section == "services" else (self.skip_infra, "infra")
        if skip is not None and key in skip:
            return f"left out by --skip-{word}"
        return f"left out by --only-{word}"

    def check(self, infrastructure: Iterable[str], services: Iterable[str]) -> None:
        """Every name given must be an item of its section (a typo would filter out everything)."""
        known = {"infrastructure": {n.lower() for n in infrastructure}, "services": {n.lower() for n in services}}
        for field, option in OPTIONS.items():
            given = getattr(self, field)
            section = "services" if field.endswith("services") else "infrastructure"
            for name in sorted(given or ()):
                if name not in known[section]:
                    close = difflib.get_close_matches(name, sorted(known[section]), n=1)
                    hint = (
                        f"did you mean {close[0]!r}?"
                        if close
                        else f"{section}: {', '.join(sorted(known[section])) or 'none'}"
                    )
                    raise PlanError(f"{option}: services.yaml has no {section} item named {name!r}", hint=hint)
