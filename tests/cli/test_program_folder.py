"""codexctl works on a program folder (the folder of Pulumi.yaml, docs/architecture.md): found from
the current folder upwards as ``pulumi`` finds its project, or named; its project name is in every
URN; ``codex:*`` keys follow Pulumi's rule for keys of another namespace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codex_stacks.offline.runner import run_program
from codex_stacks.stackconfig import program_config, with_overrides
from tests.conftest import MINIMAL, NAMESPACE_MANIFEST

CODEXCTL = Path(sys.executable).parent / "codexctl"
MAIN = "from codex_stacks.program import run\n\nrun()\n"


def codexctl(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if key != "CODEX_PROGRAM_DIR"}
    return subprocess.run(
        [str(CODEXCTL), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **(env or {})},
        timeout=180,
        check=False,
    )


def program(root: Path, *, name: str, pulumi_config: str = "", services_in: str = ".") -> Path:
    """A program folder: Pulumi.yaml (project ``name``), __main__.py, a dev stack file, and the
    minimal project in ``services_in``."""
    root.mkdir(parents=True)
    (root / "Pulumi.yaml").write_text(
        f"name: {name}\nruntime: python\nstackConfigDir: stacks\n" + textwrap.dedent(pulumi_config), encoding="utf-8"
    )
    (root / "__main__.py").write_text(MAIN, encoding="utf-8")
    (root / "stacks").mkdir()
    (root / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  codex:mode: normal\n", encoding="utf-8")
    project = root / services_in
    project.mkdir(parents=True, exist_ok=True)
    (project / "services.yaml").write_text(MINIMAL, encoding="utf-8")
    (project / "ns.yaml").write_text(NAMESPACE_MANIFEST, encoding="utf-8")
    return root


def test_it_is_found_from_a_subfolder_and_names_the_urns(tmp_path: Path) -> None:
    root = program(tmp_path / "shop", name="shop")
    below = root / "docs" / "notes"
    below.mkdir(parents=True)
    done = codexctl("repair-targets", "--stack", "ai-slot-2", "--output", "json", cwd=below)
    assert done.returncode == 0, done.stderr
    targets = json.loads(done.stdout)["targets"]
    assert "urn:pulumi:ai-slot-2::shop::codex:stack:InfrastructureGroup::base" in targets
    assert all(urn.startswith("urn:pulumi:ai-slot-2::shop::") for urn in targets)


def test_without_one_it_says_so_in_one_line(tmp_path: Path) -> None:
    done = codexctl("validate", "--stack", "dev", cwd=tmp_path)
    assert done.returncode == 2
    assert f"no Pulumi.yaml in {tmp_path.resolve()} or any folder above it" in done.stderr
    assert "codexctl init" in done.stderr
    assert "Traceback" not in done.stderr


def test_it_can_be_named_by_option_or_environment(tmp_path: Path) -> None:
    root = program(tmp_path / "shop", name="shop")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_option = codexctl("validate", "--stack", "dev", "--program-dir", str(root), cwd=elsewhere)
    assert by_option.returncode == 0, by_option.stderr
    by_env = codexctl("validate", "--stack", "dev", cwd=elsewhere, env={"CODEX_PROGRAM_DIR": str(root)})
    assert by_env.returncode == 0, by_env.stderr
    wrong = codexctl("validate", "--stack", "dev", "--program-dir", str(elsewhere), cwd=tmp_path)
    assert wrong.returncode == 2
    assert f"--program-dir: no Pulumi.yaml in {elsewhere.resolve()}" in wrong.stderr


def test_a_relative_project_dir_is_relative_to_the_program_folder(tmp_path: Path) -> None:
    """A project-wide value of Pulumi.yaml (``codex:projectDir: app``), read from anywhere below."""
    root = program(
        tmp_path / "shop", name="shop", pulumi_config="config:\n  codex:projectDir: app\n", services_in="app"
    )
    done = codexctl("preview", "--stack", "dev", "--output", "json", "--out", str(tmp_path / "pv"), cwd=root / "app")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["namespace"] == "demo-dev"


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("  codex:mode:\n    type: string\n    default: normal\n", "may not declare a type"),
        ("  codex:mode:\n    default: normal\n", "may not declare a default"),
    ],
)
def test_pulumis_rule_for_keys_of_another_namespace(tmp_path: Path, declaration: str, message: str) -> None:
    """A type or default on codex:* in a project not named codex is what `pulumi` stops on too
    (sdk/go/common/workspace/project.go); the stack file and -c may set them, a value is fine."""
    root = program(tmp_path / "shop", name="shop", pulumi_config="config:\n" + declaration)
    done = codexctl("validate", "--stack", "dev", cwd=root)
    assert done.returncode == 2
    assert f"{root / 'Pulumi.yaml'}: config.codex:mode: codex:mode is not in the namespace of project 'shop'" in (
        done.stderr
    )
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    valued = root / "Pulumi.yaml"
    valued.write_text(valued.read_text().split("config:")[0] + "config:\n  codex:mode:\n    value: repair\n")
    assert program_config("dev", program_dir=root)["codex:mode"] == "normal"  # the stack file wins
    assert program_config("ai-slot-1", program_dir=root)["codex:mode"] == "repair"  # the project-wide value


def test_two_repositories_make_different_urns_for_the_same_stack(tmp_path: Path) -> None:
    """One stack name, two repositories: the URNs differ in the project, so neither can touch
    the other's resources (their stacks are apart on the backend too: tests/ci)."""
    urns = []
    for name in ("shop", "blog"):
        root = program(tmp_path / name, name=name)
        config = with_overrides(program_config("ai-slot-1", program_dir=root), program_dir=root)
        run = run_program("ai-slot-1", config, program_dir=root)
        assert run.project == name
        urns.append({registration.urn for registration in run.registrations})
    shop, blog = urns
    assert shop
    assert not shop & blog
    assert {urn.replace("::shop::", "::blog::") for urn in shop} == blog


def test_the_program_folder_runs_its_own_main(tmp_path: Path) -> None:
    """Offline runs execute the folder's __main__.py, as pulumi does: a folder without one says so."""
    root = program(tmp_path / "shop", name="shop")
    (root / "__main__.py").unlink()
    done = codexctl("preview", "--stack", "dev", "--out", str(tmp_path / "pv"), cwd=root)
    assert done.returncode == 2
    assert f"no program: {root / '__main__.py'} does not exist" in done.stderr
    assert "Traceback" not in done.stderr
