"""What ``codexctl import`` did and what it left to do: every change and every manual step."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["manual", "change"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the report: where (file, line, key path) and what."""

    kind: Kind
    file: str
    line: int | None
    key: str | None
    message: str

    def where(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return f"{place}: {self.key}" if self.key else place


@dataclass
class Report:
    """Every change made and every manual step left, in the order they were found."""

    source: str
    out: str
    entries: list[Entry] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    def change(self, file: str, line: int | None, message: str, *, key: str | None = None) -> None:
        self.entries.append(Entry("change", file, line, key, message))

    def manual(self, file: str, line: int | None, message: str, *, key: str | None = None) -> None:
        self.entries.append(Entry("manual", file, line, key, message))

    @property
    def manual_steps(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.kind == "manual"]

    @property
    def changes(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.kind == "change"]

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "out": self.out,
            "written": list(self.written),
            "manual": [asdict(entry) for entry in self.manual_steps],
            "changes": [asdict(entry) for entry in self.changes],
        }

    def as_text(self) -> str:
        lines = [f"imported {self.source} into {self.out}: {len(self.written)} files written"]
        manual = self.manual_steps
        lines.append("")
        lines.append(f"Manual steps ({len(manual)}):" if manual else "Manual steps: none")
        lines.extend(f"  - {entry.where()}: {entry.message}" for entry in manual)
        changes = self.changes
        lines.append("")
        lines.append(f"Changes ({len(changes)}):")
        lines.extend(f"  - {entry.where()}: {entry.message}" for entry in changes)
        return "\n".join(lines) + "\n"
