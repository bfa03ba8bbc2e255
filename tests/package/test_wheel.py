"""The wheel a team installs (docs/install.md): built from this checkout without a warning,
installed into a fresh virtual environment outside it, and used in an empty git repository as a
team would — ``codexctl init``, ``validate``, ``preview``, ``--output json``, the generated
``__main__.py`` under the offline runner, ``pulumi up`` of two repositories on one file backend
(the CLI double, tests/ci/pulumi_double.py). Every module codex stacks loads there comes from the
venv's site-packages, never from this checkout.

The venv has no network to install the dependencies from: they are this test environment's,
named by a ``.pth`` line (a path only: ``.pth`` files there, such as the editable install of this
checkout, are not run). Its own site-packages comes first, so ``codex_stacks`` is the wheel's.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ci.conftest import DOUBLE_SOURCE
from tests.conftest import EXAMPLE, REPO_ROOT

HOOK_TYPE = "pulumi-python:dynamic/codex-hooks:"
TIMEOUT = 120
"""A hang guard per command, not a speed target."""


@dataclass(frozen=True)
class Installed:
    wheel: Path
    build_log: str
    install_log: str
    venv: Path
    site: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a team's shell with the venv active: nothing of this checkout."""
        drop = ("CODEX_PROGRAM_DIR", "CODEX_PROJECT_DIR", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        env = {key: value for key, value in os.environ.items() if key not in drop and not key.startswith("PULUMI_")}
        path = [
            str(self.bin),
            *(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != Path(sys.executable).parent),
        ]
        env.update({"PATH": os.pathsep.join(path), "VIRTUAL_ENV": str(self.venv), **extra})
        return env

    def run(self, *args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=cwd, env=self.env(**extra), capture_output=True, text=True, timeout=TIMEOUT, check=False
        )

    def codexctl(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.bin / "codexctl"), *args, cwd=cwd)

    def python(self, code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.bin / "python"), "-c", code, *args, cwd=cwd)


def _sources(target: Path) -> None:
    """This checkout's files as git knows them (tracked and new, not ignored), links kept as links."""
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        timeout=TIMEOUT,
    ).stdout.decode()
    for name in sorted(set(filter(None, listed.split("\0")))):
        source, copy = REPO_ROOT / name, target / name
        if not os.path.lexists(source):
            continue  # deleted in the working tree
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            copy.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, copy)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("package")
    source, dist, venv = root / "source", root / "dist", root / "venv"
    _sources(source)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # its notice is not a warning
    built = subprocess.run(
        [
            sys.executable,
            "-W",
            "always",
            "-c",
            "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))",
            str(dist),
        ],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = dist / built.stdout.strip().splitlines()[-1]
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=TIMEOUT)
    site = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
            timeout=TIMEOUT,
        ).stdout.strip()
    )
    (site / "codex-test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "--disable-pip-version-check",
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return Installed(wheel, built.stdout + built.stderr, done.stdout + done.stderr, venv, site)


@pytest.fixture(scope="module")
def repository(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty git repository with one Dockerfile, after ``codexctl init``."""
    root = tmp_path_factory.mktemp("teams") / "shop"
    (root / "api").mkdir(parents=True)
    (root / "api" / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=TIMEOUT)
    done = installed.codexctl("init", "--package", str(installed.wheel), cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def test_the_wheel_builds_and_installs_without_a_warning(installed: Installed) -> None:
    for log in (installed.build_log, installed.install_log):
        noted = [line for line in log.splitlines() if "warning" in line.lower() or "deprecat" in line.lower()]
        assert noted == [], log
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    version = installed.wheel.name.split("-")[1]
    assert {name.split("/", 1)[0] for name in names} == {"codex_stacks", f"codex_stacks-{version}.dist-info"}
    for data in (
        "codex_stacks/init/templates/main.py.tmpl",
        "codex_stacks/prompt_templates/en/dev_issue.md.j2",
        "codex_stacks/schemas/services.schema.json",
        "codex_stacks/components/hooks/providers/shell.py",
    ):
        assert data in names


def test_a_team_repository_works_from_the_installed_package(installed: Installed, repository: Path) -> None:
    version = installed.codexctl("--version", cwd=repository)
    assert version.stdout.startswith("codexctl "), version.stderr
    module = installed.run(str(installed.bin / "python"), "-m", "codex_stacks", "--version", cwd=repository)
    assert module.stdout == version.stdout
    requirements = (repository / "requirements.txt").read_text(encoding="utf-8")
    assert f"codex-stacks @ {installed.wheel.as_uri()}" in requirements
    checked = installed.codexctl("validate", "--stack", "dev", "--output", "json", cwd=repository / "api")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["ok"] is True
    shown = installed.codexctl("preview", "--stack", "ai-slot-3", cwd=repository)
    assert shown.returncode == 0, shown.stderr
    assert "Resources:" in shown.stdout
    as_json = installed.codexctl(
        "preview", "--stack", "ai-slot-3", "--output", "json", "--out", "pv-json", cwd=repository
    )
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert (document["project"], document["stack"], document["namespace"]) == ("shop", "ai-slot-3", "shop-dev-3")
    assert {c["name"] for c in document["components"] if c["type"] == "ServiceComponent"} == {"api", "codex"}
    assert (repository / "preview" / "ai-slot-3").is_dir()


RUN_MAIN = """
import json, sys
from codex_stacks.offline.runner import run_program
from codex_stacks.stackconfig import program_config, with_overrides
run = run_program("ai-slot-3", with_overrides(program_config("ai-slot-3")))
loaded = {m.__file__ for n, m in sys.modules.items() if n.startswith("codex_stacks") and getattr(m, "__file__", None)}
print(json.dumps({"urns": [r.urn for r in run.registrations], "files": sorted(loaded)}))
"""


def test_the_generated_main_runs_under_the_offline_runner_from_site_packages(
    installed: Installed, repository: Path
) -> None:
    done = installed.python(RUN_MAIN, cwd=repository)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert any(urn.endswith("::shop::codex:stack:ServiceComponent::api") for urn in result["urns"])
    assert all("::shop::" in urn for urn in result["urns"])
    files = [Path(name) for name in result["files"]]
    assert Path(installed.site, "codex_stacks", "components", "stack.py") in files  # the program's components
    outside = [str(f) for f in files if not f.is_relative_to(installed.site)]
    assert outside == []
    assert not any(f.is_relative_to(REPO_ROOT) for f in files)


PROVIDER_HOST = """
import base64, json, sys
import dill
out = []
for blob in json.loads(sys.stdin.read()):
    provider = dill.loads(base64.b64decode(blob))  # pulumi/dynamic/__main__.py: get_provider
    module = sys.modules[type(provider).__module__]
    out.append([type(provider).__module__, type(provider).__name__, module.__file__])
print(json.dumps(out))
"""


def test_hook_providers_pickled_in_the_checkout_unpickle_in_the_wheels_venv(
    installed: Installed, tmp_path: Path
) -> None:
    """Stack state keeps each hook's provider pickled by module path: a state written by a
    checkout is read by the installed package (and the other way round)."""
    import codex_stacks
    from codex_stacks.offline.runner import run_program

    assert Path(codex_stacks.__file__).is_relative_to(REPO_ROOT)  # the pickles are made from the checkout
    run = run_program("ai-slot-3", {"codex:projectDir": str(EXAMPLE)}, program_dir=REPO_ROOT)
    blobs = {r.type: r.raw_inputs["__provider"]["value"] for r in run.registrations if r.type.startswith(HOOK_TYPE)}
    assert blobs
    host = subprocess.run(
        [str(installed.bin / "python"), "-c", PROVIDER_HOST],
        input=json.dumps(list(blobs.values())),
        cwd=tmp_path,
        env=installed.env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert host.returncode == 0, host.stderr
    for module, name, file in json.loads(host.stdout):
        assert module.startswith("codex_stacks.components.hooks.providers."), module
        assert name.endswith("Provider")
        assert Path(file).is_relative_to(installed.site), file
    assert base64.b64decode(next(iter(blobs.values())))  # real pickles, not names


@pytest.fixture
def backend(installed: Installed, tmp_path: Path) -> dict[str, str]:
    """The pulumi CLI double on PATH, run by the wheel's venv (as the real CLI runs the program in
    the venv Pulumi.yaml names), and one file backend."""
    root = tmp_path / "pulumi"
    (root / "bin").mkdir(parents=True)
    script = root / "pulumi_double.py"
    script.write_text(DOUBLE_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    executable = root / "bin" / "pulumi"
    executable.write_text(f'#!/bin/sh\nexec "{installed.bin / "python"}" -S "{script}" "$@"\n', encoding="utf-8")
    executable.chmod(0o755)
    (tmp_path / "state").mkdir()
    return {
        "PATH": f"{root / 'bin'}{os.pathsep}{installed.env()['PATH']}",
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'backend'}",
        "PULUMI_CONFIG_PASSPHRASE": "test",
        "PULUMI_DOUBLE_STATE": str(tmp_path / "state"),
    }


def test_two_repositories_on_one_file_backend_keep_separate_stacks(
    installed: Installed, backend: dict[str, str], tmp_path: Path
) -> None:
    """`pulumi up -s ai-slot-1` in two repositories codexctl init made: one stack each, apart on
    the backend (stacks are kept per project), each holding only its own repository's URNs."""
    for name in ("shop", "blog"):
        root = tmp_path / name
        (root / "web").mkdir(parents=True)
        (root / "web" / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
        assert installed.codexctl("init", cwd=root).returncode == 0
        for command in (("stack", "init", "ai-slot-1"), ("up", "--yes", "--stack", "ai-slot-1")):
            done = installed.run("pulumi", *command, cwd=root, **backend)
            assert done.returncode == 0, (name, command, done.stdout, done.stderr)
    for name in ("shop", "blog"):
        listed = installed.run("pulumi", "stack", "ls", "--json", cwd=tmp_path / name, **backend)
        assert [s["name"] for s in json.loads(listed.stdout)] == ["ai-slot-1"], listed.stderr
    stacks = Path(backend["PULUMI_BACKEND_URL"].removeprefix("file://")) / ".pulumi" / "stacks"
    assert sorted(p.relative_to(stacks).as_posix() for p in stacks.rglob("*.json")) == [
        "blog/ai-slot-1.json",
        "shop/ai-slot-1.json",
    ]
    for name, other in (("shop", "blog"), ("blog", "shop")):
        state = json.loads((stacks / name / "ai-slot-1.json").read_text(encoding="utf-8"))
        urns = [r["urn"] for r in state["checkpoint"]["latest"]["resources"]]
        assert any(urn.endswith(f"::{name}::codex:stack:ServiceComponent::web") for urn in urns)
        assert not any(f"::{other}::" in urn for urn in urns)
