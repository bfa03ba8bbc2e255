"""Preview says which Pod Security level the slot's namespace enforces and what keeps it from a
stricter one (docs/security.md, "Pod Security"): the example's slot mounts host folders."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_output_json import codexctl

HOST_PATHS = [
    ("postgres", "postgres-data"),
    ("redis", "redis-data"),
    ("django-backend", "django-src"),
    ("chat-backend", "go-src"),
    ("web-frontend", "web-src"),
    ("codex", "code-src"),
]
"""The example's Deployments that mount a hostPath volume (examples/project-example/deploy)."""


def test_preview_names_what_keeps_the_slot_privileged(tmp_path: Path) -> None:
    done = codexctl("preview", "--stack", "ai-slot-3", "--out", str(tmp_path / "text"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = lines.index("  pod security: enforce privileged, not baseline, because:")
    shown = [line.strip() for line in lines[start + 1 : start + 1 + len(HOST_PATHS)]]
    assert shown == [
        f"Deployment/{name}: volume {volume!r} is a hostPath (HostPath Volumes)" for name, volume in HOST_PATHS
    ]
    assert lines[start + 1 + len(HOST_PATHS)] == ""  # then the summary, nothing else in between

    done = codexctl("preview", "--stack", "ai-slot-3", "--output", "json", "--out", str(tmp_path / "json"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["pod_security"] == {"enforce": "privileged", "because": shown}


def test_the_cluster_stack_has_no_namespace_to_label(tmp_path: Path) -> None:
    done = codexctl("preview", "--stack", "cluster", "--output", "json", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["pod_security"] is None
