"""``codexctl preview --diff``: the engine's step for each object, from a ``pulumi preview`` of the
stack's state through the Automation API — against the Pulumi CLI double (tests/ci/pulumi_double.py)
on a file backend. With the real CLI and a cluster: tests/e2e/test_preview_diff_real.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.ci.conftest import PulumiDouble, pulumi_double  # noqa: F401  (the fixture)

CODEXCTL = Path(sys.executable).parent / "codexctl"
STACK = "ai-slot-3"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=300, check=False, env=os.environ)


def deploy(double: PulumiDouble, project: Path) -> None:
    """``pulumi up`` of the stack with ``project`` as its codex:projectDir (saved in its stack file)."""
    for command in (
        ("stack", "init", STACK),
        ("config", "set", "--stack", STACK, "codex:projectDir", str(project)),
        ("up", "--yes", "--stack", STACK),
    ):
        done = run("pulumi", *command, cwd=double.program)
        assert done.returncode == 0, done.stdout + done.stderr


def test_diff_marks_each_object_against_the_stacks_state(
    pulumi_double: PulumiDouble,  # noqa: F811
    example_copy: Path,
    tmp_path: Path,
) -> None:
    missing = run(str(CODEXCTL), "preview", "--stack", STACK, "--diff", "--out", str(tmp_path / "a"), cwd=tmp_path)
    assert missing.returncode == 2
    assert f"--diff: stack {STACK} does not exist on the backend" in missing.stderr
    deploy(pulumi_double, example_copy)
    state = pulumi_double.backend / ".pulumi" / "stacks" / pulumi_double.project / f"{STACK}.json"
    deployed = state.read_bytes()

    same = run(
        str(CODEXCTL), "preview", "-s", STACK, "--diff", "--output", "json", "--out", str(tmp_path / "b"), cwd=tmp_path
    )
    assert same.returncode == 0, same.stderr
    document = json.loads(same.stdout)
    counts = document["diff"]["counts"]
    rerun = [h["step"] for c in document["components"] for h in c["hooks"] if h["change"] == "update"]
    assert rerun == ["ensure-codex-secrets"]  # a step that runs on every up
    assert counts["create"] == counts["delete"] == 0
    assert counts["update"] == 1
    assert counts["same"] > 30
    assert {o["change"] for c in document["components"] for o in c["objects"]} == {"same"}

    # one ConfigMap value changed, one service left out of the stack: an update and deletes
    configmap = example_copy / "deploy" / "configmap.yaml"
    configmap.write_text(configmap.read_text().replace('REDIS_DB: "0"', 'REDIS_DB: "1"'), encoding="utf-8")
    services = example_copy / "services.yaml"
    text = services.read_text(encoding="utf-8")
    assert "  - name: web-frontend\n" in text, "the example's web-frontend service moved"
    services.write_text(
        text.replace("  - name: web-frontend\n", '  - name: web-frontend\n    when: "{{ false }}"\n'), encoding="utf-8"
    )
    changed = run(
        str(CODEXCTL),
        *("preview", "-s", STACK, "--diff", "--out", str(tmp_path / "c")),
        *("--output", "json"),
        cwd=tmp_path,
    )
    assert changed.returncode == 0, changed.stderr
    document = json.loads(changed.stdout)
    updated = [(o["kind"], o["name"]) for c in document["components"] for o in c["objects"] if o["change"] == "update"]
    assert updated == [("ConfigMap", "redis-config")]
    hooks = {h["step"]: h["change"] for c in document["components"] for h in c["hooks"]}
    assert hooks["ensure-codex-secrets"] == "update"
    assert document["diff"]["counts"]["create"] == 0
    deleted = document["diff"]["deleted"]
    assert deleted, "the left-out service's objects are to be deleted"
    assert all("::web-frontend" in d["urn"] for d in deleted), deleted
    assert document["diff"]["counts"]["delete"] == len(deleted)

    text_run = run(
        str(CODEXCTL),
        "preview",
        "-s",
        STACK,
        "--diff",
        "--out",
        str(tmp_path / "d"),
        cwd=tmp_path,
    )
    assert text_run.returncode == 0, text_run.stderr
    assert re.search(rf"Changes against the state of stack {STACK}", text_run.stdout)
    assert f"{len(deleted)} to delete" in text_run.stdout
    assert f"{document['diff']['counts']['update']} to update" in text_run.stdout
    assert state.read_bytes() == deployed  # a preview changes no state
