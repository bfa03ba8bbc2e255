"""Scripting: ``--output json`` of preview, validate and repair-targets is one JSON document on
stdout in the documented shape (docs/architecture.md, "Scripting"); preview ends with a summary
like ``pulumi preview``'s; shell completion and ``--version``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import yaml

from tests.conftest import EXAMPLE

CODEXCTL = Path(sys.executable).parent / "codexctl"


def codexctl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CODEXCTL), *args], capture_output=True, text=True, cwd=cwd, timeout=180, check=False)


def written(folder: Path) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    """The documents of each file preview wrote, by file name."""
    return {path.name: [d for d in yaml.safe_load_all(path.read_text()) if d] for path in sorted(folder.glob("*.yaml"))}


def test_preview_json_describes_what_it_wrote(tmp_path: Path) -> None:
    done = codexctl("preview", "--stack", "ai-slot-3", "--output", "json", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # stdout is the document and nothing else
    assert (document["stack"], document["project"], document["env"], document["slot"]) == (
        "ai-slot-3",
        "codex-stacks",
        "ai",
        3,
    )
    assert document["namespace"] == "project-example-dev-3"
    assert document["mode"] == "normal"
    assert document["out"] == str(tmp_path)
    assert document["diff"] is None
    files = written(tmp_path)
    assert [component["file"] for component in document["components"]] == list(files)
    for component in document["components"]:
        shown = [(o["kind"], o["name"]) for o in component["objects"]]
        assert sorted(shown) == sorted((d["kind"], d["metadata"]["name"]) for d in files[component["file"]])
        for obj in component["objects"]:
            assert obj["urn"].startswith(f"urn:pulumi:ai-slot-3::codex-stacks::{component['urn'].split('::')[2]}$")
    everything = [d for documents in files.values() for d in documents]
    summary = document["summary"]
    assert summary["objects"] == len(everything) == 34
    assert summary["components"] == len(files)
    assert summary["by_kind"] == dict(sorted(Counter(d["kind"] for d in everything).items()))
    codex = next(c for c in document["components"] if c["name"] == "codex")
    assert (codex["hooks"][0]["stage"], codex["hooks"][0]["step"]) == ("beforeApply", "ensure-codex-secrets")
    assert document["skipped"]["tls-issuer"].startswith("when:")
    assert {"title": "Django admin", "url": "https://dev-3.staging.example-domain.ru/admin/"} in document["links"]


def test_preview_ends_with_a_summary_like_pulumi_preview(tmp_path: Path) -> None:
    done = codexctl("preview", "--stack", "ai-slot-3", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    tail = done.stdout[done.stdout.index("Resources:") :].splitlines()
    files = written(tmp_path)
    for name, documents in files.items():
        component = name.split("-", 1)[1].removesuffix(".yaml")
        line = next(line for line in tail if f" {component} " in line)
        assert f" {len(documents)} object" in line
        for kind, count in Counter(d["kind"] for d in documents).items():
            assert f"{kind} {count}" in line
    total = sum(len(documents) for documents in files.values())
    assert f"{total} objects in {len(files)} components, 3 hook steps" in tail[-1]


def test_validate_json_ok_and_with_problems(example_copy: Path) -> None:
    ok = codexctl("validate", "--stack", "ai-slot-3", "--output", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {
        "ok": True,
        "stack": "ai-slot-3",
        "kubernetes_version": "1.33",
        "objects": 34,
        "components": 8,
        "unchecked_kinds": [],
        "problems": [],
    }
    manifest = example_copy / "deploy" / "configmap.yaml"
    lines = manifest.read_text().splitlines()
    line = next(number for number, text in enumerate(lines, start=1) if 'REDIS_DB: "0"' in text)
    manifest.write_text(manifest.read_text().replace('REDIS_DB: "0"', "REDIS_DB: 0"), encoding="utf-8")
    bad = codexctl("validate", "--stack", "ai-slot-3", "--project-dir", str(example_copy), "--output", "json")
    assert bad.returncode == 2
    document = json.loads(bad.stdout)
    assert document["ok"] is False
    (problem,) = document["problems"]
    assert problem["file"] == str(manifest)
    assert problem["line"] == line
    assert "data.REDIS_DB: must be a string" in problem["message"]
    assert "error:" in bad.stderr  # people still get the line on stderr


def test_repair_targets_json_is_the_text_list() -> None:
    text = codexctl("repair-targets", "--stack", "ai-slot-3", "--project-dir", str(EXAMPLE))
    as_json = codexctl("repair-targets", "--stack", "ai-slot-3", "--project-dir", str(EXAMPLE), "--output", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == {"stack": "ai-slot-3", "mode": "repair", "targets": text.stdout.split()}


def test_an_unknown_output_is_one_line(tmp_path: Path) -> None:
    done = codexctl("validate", "--stack", "dev", "--output", "yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --output 'yaml': use text or json"


def test_version_and_module_entry_and_completion() -> None:
    installed = version("codex-stacks")
    assert codexctl("--version").stdout == f"codexctl {installed}\n"
    module = subprocess.run(
        [sys.executable, "-m", "codex_stacks", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert module.stdout == f"codexctl {installed}\n"
    # Typer finds the shell from the process tree (shellingham): run it from bash, whatever runs
    # the tests (a background job has no shell above it); "; true" keeps bash from exec-ing it.
    script = subprocess.run(
        ["bash", "-c", f"'{CODEXCTL}' --show-completion; true"], capture_output=True, text=True, timeout=60, check=False
    )
    assert script.returncode == 0
    assert "_CODEXCTL_COMPLETE" in script.stdout
    completed = subprocess.run(
        [str(CODEXCTL)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"_CODEXCTL_COMPLETE": "complete_bash", "COMP_WORDS": "codexctl repair-t", "COMP_CWORD": "1"},
    )
    assert completed.stdout.split() == ["repair-targets"]
