"""`codexctl render` (the plan as one YAML stream), the name filters on render and preview, and
`codexctl targets` (the --target list of pulumi up, whole or by name)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from codex_stacks.plan import PlanRequest, build_plan

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "project-example"
CODEXCTL = str(Path(sys.executable).parent / "codexctl")


def codexctl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("POSTGRES_", "REDIS_", "SECRET_KEY"))}
    return subprocess.run([CODEXCTL, *args], capture_output=True, text=True, timeout=180, env=env, cwd=cwd, check=False)


def documents(text: str) -> list[dict[str, object]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_render_prints_every_object_of_the_plan_once_with_secrets_masked() -> None:
    done = codexctl("render", "--stack", "ai-slot-3")
    assert done.returncode == 0, done.stderr
    plan = build_plan(PlanRequest(stack="ai-slot-3", project_dir=EXAMPLE))
    rendered = documents(done.stdout)
    assert [(d["kind"], d["metadata"]["name"]) for d in rendered] == [(o.kind, o.name) for o in plan.objects]  # type: ignore[index]
    assert not done.stdout.startswith("---")
    assert "\n---\n" in done.stdout
    secret = next(d for d in rendered if d["kind"] == "Secret")
    assert set(secret["stringData"].values()) == {"[secret]"}  # type: ignore[attr-defined]
    first = done.stdout.splitlines()[:3]
    assert first[0].startswith("apiVersion:")
    assert first[1].startswith("kind:")


def test_show_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", "pg-canary")
    done = subprocess.run(
        [CODEXCTL, "render", "--stack", "dev", "--show-secrets"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pg-canary" in done.stdout
    hidden = subprocess.run(
        [CODEXCTL, "render", "--stack", "dev"], capture_output=True, text=True, timeout=180, check=False
    )
    assert "pg-canary" not in hidden.stdout


def test_filters_keep_part_of_the_stack() -> None:
    done = codexctl(
        "render", "--stack", "ai-slot-3", "--only-services", " Web-Frontend ", "--skip-infra", "observability"
    )
    assert done.returncode == 0, done.stderr
    names = {d["metadata"]["name"] for d in documents(done.stdout)}  # type: ignore[index]
    assert {"web-frontend", "postgres", "project-example-config"} <= names
    assert not names & {"django-backend", "chat-backend", "codex", "jaeger", "codex-agent"}


def test_an_item_left_out_is_not_even_read(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project)
    (project / "services" / "chat_backend" / "deploy.yaml").write_text("{{ broken(\n", encoding="utf-8")
    whole = codexctl("render", "--stack", "dev", "--project-dir", str(project))
    assert whole.returncode == 2
    assert "chat_backend/deploy.yaml" in whole.stderr
    part = codexctl("render", "--stack", "dev", "--project-dir", str(project), "--skip-services", "chat-backend")
    assert part.returncode == 0, part.stderr
    assert "chat-backend" not in {d["metadata"]["name"] for d in documents(part.stdout)}  # type: ignore[index]


def test_a_name_that_is_not_an_item_is_refused() -> None:
    done = codexctl("render", "--stack", "dev", "--only-services", "web-fronted")
    assert done.returncode == 2
    assert "--only-services" in done.stderr
    assert "did you mean 'web-frontend'?" in done.stderr
    assert "Traceback" not in done.stderr


def test_targets_by_name_and_in_repair_mode() -> None:
    part = codexctl(
        "targets", "--stack", "ai-slot-3", "--only-services", "web-frontend", "--only-infra", "data-services"
    )
    assert part.returncode == 0, part.stderr
    urns = part.stdout.split()
    assert any(urn.endswith("::web-frontend") and "ServiceComponent" in urn for urn in urns)
    assert any("web-frontend/deployment/web-frontend" in urn for urn in urns)
    assert any(urn.endswith("::data-services") for urn in urns)
    assert any("pulumi:providers:kubernetes" in urn for urn in urns)
    assert not any("django-backend" in urn or "observability" in urn for urn in urns)
    repair = codexctl("targets", "--stack", "ai-slot-3", "--mode", "repair")
    assert repair.returncode == 0, repair.stderr
    assert repair.stdout == codexctl("repair-targets", "--stack", "ai-slot-3").stdout


def test_preview_with_a_filter_writes_only_that_part(tmp_path: Path) -> None:
    done = codexctl("preview", "--stack", "dev", "--only-services", "web-frontend", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    written = sorted(path.name for path in (tmp_path / "out").glob("*.yaml"))
    assert any(name.endswith("-web-frontend.yaml") for name in written)
    assert not any("django" in name or "chat" in name for name in written)
