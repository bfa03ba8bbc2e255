"""``infra-report.json``: what the last ``ci up`` left, read by ``ci prompt`` to pick the repair prompt."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codexctl.ci.errors import CiError

REPORT_NAME = "infra-report.json"


@dataclass(frozen=True, slots=True)
class FailedComponent:
    component: str
    reason: str


@dataclass(frozen=True, slots=True)
class InfraReport:
    """Same shape as ``codexctl.prompts.context.InfraReport``, so the prompt reads it as is."""

    healthy: bool
    failed: list[FailedComponent] = field(default_factory=list)
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_report_path(stack: str) -> Path:
    """Beside the checkout, per stack: both ``ci up`` and ``ci prompt`` of a job find it."""
    return Path(".codex-ci") / stack / REPORT_NAME


def write_report(report: InfraReport, *, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_report(path: Path) -> InfraReport | None:
    """The report, or None when no ``ci up`` wrote one here."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        failed = [FailedComponent(component=str(f["component"]), reason=str(f["reason"])) for f in data["failed"]]
        return InfraReport(healthy=bool(data["healthy"]), failed=failed, summary=str(data.get("summary", "")))
    except (ValueError, KeyError, TypeError) as exc:
        raise CiError(f"{path}: not an infra report ({exc})", hint="delete it or rerun `codexctl ci up`") from None
