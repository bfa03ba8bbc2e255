"""``infra-report.json``: what the last ``ci up`` left, read by ``ci prompt`` to pick the repair prompt."""

from __future__ import annotations

from pathlib import Path

from codex_stacks.prompts.context import BrokenConfig, FailedComponent, InfraReport

REPORT_NAME = "infra-report.json"

__all__ = [
    "REPORT_NAME",
    "BrokenConfig",
    "FailedComponent",
    "InfraReport",
    "default_report_path",
    "read_report",
    "write_report",
]


def default_report_path(stack: str) -> Path:
    """Beside the checkout, per stack: both ``ci up`` and ``ci prompt`` of a job find it."""
    return Path(".codex-ci") / stack / REPORT_NAME


def write_report(report: InfraReport, *, path: Path) -> None:
    """The prompts package's own report model, so ``prompt render --infra-report`` reads it too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_report(path: Path) -> InfraReport | None:
    """The report, or None when no ``ci up`` wrote one here."""
    if not path.is_file():
        return None
    return InfraReport.from_file(path)
