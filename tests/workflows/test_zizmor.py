"""zizmor (offline, default persona) finds nothing of medium or high severity in any workflow:
this repository's reusable workflows with no configuration at all, each example with its own
policy, which may only let codex stacks' reusable workflows be named by branch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ZIZMOR = Path(sys.executable).parent / "zizmor"
EXAMPLES = sorted(path.parent.parent for path in ROOT.glob("examples/*/.github/workflows"))
BLOCKING = {"Medium", "High"}


def zizmor(target: Path, *options: str) -> list[dict[str, Any]]:
    """zizmor's findings (JSON), offline, default persona; ignored ones left out."""
    assert ZIZMOR.exists(), "zizmor is missing: `make setup` installs it (requirements-dev.txt)"
    done = subprocess.run(
        [str(ZIZMOR), "--offline", "--format", "json", "--persona", "regular", *options, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode in (0, 11, 12, 13, 14), done.stderr  # 0: clean; 1x: the worst finding's level
    return [finding for finding in json.loads(done.stdout or "[]") if not finding.get("ignored")]


def blocking(findings: list[dict[str, Any]]) -> list[str]:
    return [
        f"{finding['ident']} ({finding['determinations']['severity']}): "
        f"{finding['locations'][0]['symbolic']['key']['Local']['verbatim_path']}:"
        f"{finding['locations'][0]['concrete']['location']['start_point']['row'] + 1}"
        for finding in findings
        if finding["determinations"]["severity"] in BLOCKING
    ]


def test_the_reusable_workflows_have_no_medium_or_high_finding() -> None:
    assert blocking(zizmor(ROOT / ".github" / "workflows", "--no-config")) == []


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_each_examples_workflows_have_no_medium_or_high_finding(example: Path) -> None:
    config = example / ".github" / "zizmor.yml"
    assert blocking(zizmor(example / ".github" / "workflows", "--config", str(config))) == []


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_an_examples_policy_relaxes_nothing_but_naming_codex_stacks_by_branch(example: Path) -> None:
    policy = yaml.safe_load((example / ".github" / "zizmor.yml").read_text())
    assert policy == {
        "rules": {"unpinned-uses": {"config": {"policies": {"codex-stacks/*": "ref-pin", "*": "hash-pin"}}}}
    }


def test_zizmor_really_audits_offline(tmp_path: Path) -> None:
    """The checks above are not vacuous: the same call flags what the old workflows did."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "deploy.yml").write_text(
        "on: push\n"
        "permissions: {}\n"
        "jobs:\n"
        "  deploy:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "  call:\n"
        "    uses: codex-stacks/codex-stacks/.github/workflows/codex-cleanup.yml@main\n"
        "    secrets: inherit\n"
    )
    found = {finding.split(" ")[0] for finding in blocking(zizmor(folder, "--no-config"))}
    assert found == {"unpinned-uses", "artipacked", "secrets-inherit"}
