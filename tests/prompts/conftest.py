"""Helpers of the prompt tests: the example project, and copies of it to change."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "project-example"


def copy_example(
    tmp_path: Path,
    *,
    rollout: str = "30m",
    exec_timeout: str = "60m",
    deploy_wait: str | None = None,
    codex_yaml: str = "",
) -> Path:
    """The example project in tmp_path, with its timeouts (and optionally its codex block tail) changed."""
    target = tmp_path / "project"
    shutil.copytree(EXAMPLE, target)
    services = target / "services.yaml"
    text = services.read_text(encoding="utf-8")
    timeouts = f"  timeouts:\n    exec: {exec_timeout}\n    rollout: {rollout}\n"
    if deploy_wait is not None:
        timeouts += f"    deployWait: {deploy_wait}\n"
    text, found = re.subn(r"(?m)^  timeouts:\n(    .*\n)+", timeouts, text)
    assert found == 1, "the example's codex.timeouts block moved"
    if codex_yaml:
        text, found = re.subn(r"(?m)^  mcp:\n(    .*\n)+", codex_yaml, text)
        assert found == 1, "the example's codex.mcp block moved"
    services.write_text(text, encoding="utf-8")
    return target
