"""``codexctl init``: a team's repository becomes a program folder that previews and validates,
without a file of its own ever being replaced unless ``--force``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

CODEXCTL = Path(sys.executable).parent / "codexctl"
ZIZMOR = Path(sys.executable).parent / "zizmor"
REUSABLE = {
    "ai_issue.yml": "codex-ai-issue.yml",
    "ai_review.yml": "codex-ai-review.yml",
    "ai_repair.yml": "codex-ai-repair.yml",
    "ai_cleanup.yml": "codex-cleanup.yml",
    "ai_gc.yml": "codex-gc.yml",
    "staging_deploy_main.yml": "codex-staging-deploy.yml",
}
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def codexctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "CODEX_PROGRAM_DIR"}  # found from cwd
    return subprocess.run(
        [str(CODEXCTL), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=180, check=False
    )


def version() -> str:
    done = subprocess.run([str(CODEXCTL), "--version"], capture_output=True, text=True, check=True)
    return done.stdout.split()[-1]


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A team's repository: three Dockerfiles of services, the agent's, and one in node_modules."""
    root = tmp_path / "shop"
    for path in ("api/Dockerfile", "services/web/Dockerfile", "Dockerfile.worker", "deploy/codex/Dockerfile"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("FROM scratch\n", encoding="utf-8")
    (root / "node_modules" / "left-pad").mkdir(parents=True)
    (root / "node_modules" / "left-pad" / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_init_writes_a_program_folder_that_validates_and_previews(repository: Path) -> None:
    done = codexctl("init", "--allowed-users", "alice,bob", cwd=repository)
    assert done.returncode == 0, done.stderr
    project = yaml.safe_load((repository / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert project["name"] == "shop"  # the folder's name: one project per repository
    assert project["stackConfigDir"] == "stacks"
    assert "config" not in project  # no codex:* declared: Pulumi would refuse a type or default there
    main = (repository / "__main__.py").read_text(encoding="utf-8").splitlines()
    assert len(main) <= 5
    assert "from codex_stacks.program import run" in main
    assert main[-1] == "run()"
    requirements = (repository / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert f"codex-stacks @ git+https://github.com/codex-stacks/codex-stacks@v{version()}" in requirements
    assert sorted(p.name for p in (repository / "stacks").iterdir()) == [
        "Pulumi.ai-staging.yaml",
        "Pulumi.cluster.yaml",
        "Pulumi.dev.yaml",
    ]
    services = yaml.safe_load((repository / "services.yaml").read_text(encoding="utf-8"))
    assert services["project"] == "shop"
    assert [service["name"] for service in services["services"]] == ["api", "web", "worker", "codex"]
    assert services["images"]["web"]["dockerfile"] == "services/web/Dockerfile"
    assert services["images"]["codex"]["dockerfile"] == "deploy/codex/Dockerfile"  # the agent's own image
    assert "left-pad" not in json.dumps(services)
    for name, reusable in REUSABLE.items():
        workflow = yaml.safe_load((repository / ".github" / "workflows" / name).read_text(encoding="utf-8"))
        (job,) = workflow["jobs"].values()
        assert job["uses"] == f"codex-stacks/codex-stacks/.github/workflows/{reusable}@v{version()}"
        assert job["with"]["codex-stacks-ref"] == f"v{version()}"
        if "allowed-users" in job["with"]:
            assert json.loads(job["with"]["allowed-users"]) == ["alice", "bob"]
        assert "inherit" not in json.dumps(job.get("secrets"))
    assert "pin the commit" in done.stderr  # a tag can move: the report says so

    for stack in ("dev", "ai-staging", "cluster", "ai-slot-4"):
        checked = codexctl("validate", "--stack", stack, cwd=repository / "services")
        assert checked.returncode == 0, (stack, checked.stderr)
    shown = codexctl("preview", "--stack", "ai-slot-3", "--output", "json", cwd=repository / "api")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["project"] == "shop"
    assert document["namespace"] == "shop-dev-3"
    assert [c["name"] for c in document["components"] if c["type"] == "ServiceComponent"] == [
        "api",
        "web",
        "worker",
        "codex",
    ]
    agent = next(c for c in document["components"] if c["name"] == "codex")
    assert agent["urn"] == "urn:pulumi:ai-slot-3::shop::codex:stack:ServiceComponent::codex"
    assert (repository / "api" / "preview" / "ai-slot-3").is_dir()


def test_files_that_exist_are_kept_unless_forced(repository: Path) -> None:
    (repository / "Pulumi.yaml").write_text("name: ours\nruntime: python\n", encoding="utf-8")
    (repository / "services.yaml").write_text("project: ours\n", encoding="utf-8")
    (repository / "requirements.txt").write_text("flask==3.1.0\n", encoding="utf-8")
    done = codexctl("init", cwd=repository)
    assert done.returncode == 0, done.stderr
    assert (repository / "Pulumi.yaml").read_text(encoding="utf-8") == "name: ours\nruntime: python\n"
    assert (repository / "services.yaml").read_text(encoding="utf-8") == "project: ours\n"
    assert (repository / "requirements.txt").read_text(encoding="utf-8") == "flask==3.1.0\n"
    assert not (repository / "deploy" / "api.yaml").exists()  # the starter's manifests go with its services.yaml
    assert (repository / "__main__.py").is_file()
    for name in ("Pulumi.yaml", "services.yaml", "requirements.txt"):
        assert f"kept {name}" in done.stderr
    forced = codexctl("init", "--force", "--name", "shop", cwd=repository)
    assert forced.returncode == 0, forced.stderr
    assert yaml.safe_load((repository / "Pulumi.yaml").read_text(encoding="utf-8"))["name"] == "shop"
    assert (repository / "deploy" / "api.yaml").is_file()


def test_a_commit_pins_the_package_and_the_workflows(repository: Path) -> None:
    done = codexctl("init", "--ref", COMMIT, "--repository", "acme/codex-stacks", cwd=repository)
    assert done.returncode == 0, done.stderr
    requirements = (repository / "requirements.txt").read_text(encoding="utf-8")
    assert f"codex-stacks @ git+https://github.com/acme/codex-stacks@{COMMIT}" in requirements
    text = (repository / ".github" / "workflows" / "ai_issue.yml").read_text(encoding="utf-8")
    assert f"uses: acme/codex-stacks/.github/workflows/codex-ai-issue.yml@{COMMIT} # v{version()}" in text
    assert "pin the codex stacks commit" not in text
    assert "pin the commit" not in done.stderr
    # pinned by commit, the callers pass zizmor's default policy with no configuration of their own
    found = subprocess.run(
        [str(ZIZMOR), "--offline", "--format", "json", "--no-config", str(repository / ".github" / "workflows")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = [f for f in json.loads(found.stdout or "[]") if f["determinations"]["severity"] in ("Medium", "High")]
    assert findings == []


def test_a_wheel_is_named_relative_to_the_repository(repository: Path) -> None:
    wheel = repository / "wheels" / "codex_stacks-0.1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"PK")
    done = codexctl("init", "--package", str(wheel), cwd=repository)
    assert done.returncode == 0, done.stderr
    assert (repository / "requirements.txt").read_text(encoding="utf-8").splitlines()[-1] == (
        "./wheels/codex_stacks-0.1.0-py3-none-any.whl"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "Shop_Front"], "--name: 'Shop_Front' cannot name the project"),
        (["--ref", "v1 && curl x"], "--ref: 'v1 && curl x' is not a git tag, branch or commit"),
        (["--allowed-users", "alice,b@d"], "--allowed-users: 'b@d' is not a GitHub login"),
        (["--repository", "not a repo"], "--repository: 'not a repo' is not owner/name"),
        (["missing-folder"], "is not a folder"),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    done = codexctl("init", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_examples_are_what_init_writes(tmp_path: Path) -> None:
    """examples/* are such repositories: their program files are init's, named for the example,
    naming codex stacks by branch as their zizmor policy allows."""
    for example, maintainer in (
        ("project-example", "project-example-maintainer"),
        ("alimentor", "alimentor-maintainer"),
    ):
        target = tmp_path / example
        target.mkdir()
        done = codexctl("init", "--ref", "main", "--allowed-users", maintainer, cwd=target)
        assert done.returncode == 0, done.stderr
        folder = REPO_ROOT / "examples" / example
        workflows = [w for w in REUSABLE if (example, w) != ("project-example", "ai_repair.yml")]  # + ai-repair
        written = ["Pulumi.yaml", "__main__.py", "requirements.txt", *(f".github/workflows/{w}" for w in workflows)]
        written += [f"stacks/{p.name}" for p in (target / "stacks").iterdir() if (folder / "stacks" / p.name).exists()]
        for name in written:
            assert (target / name).read_text(encoding="utf-8") == (folder / name).read_text(encoding="utf-8"), name


def test_a_repository_without_an_agent_image_gets_codex_stacks_one(tmp_path: Path) -> None:
    """The agent needs an image with the codex CLI, codexctl, kubectl and git: a repository that
    has no Dockerfile for it gets codex stacks' own, built by `ci images` at the same ref."""
    root = tmp_path / "shop"
    (root / "api").mkdir(parents=True)
    (root / "api" / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    done = codexctl("init", "--ref", COMMIT, cwd=root)
    assert done.returncode == 0, done.stderr
    assert "wrote deploy/codex/Dockerfile" in done.stderr + done.stdout
    written = (root / "deploy" / "codex" / "Dockerfile").read_text(encoding="utf-8")
    assert not (root / "deploy" / "codex" / "Dockerfile").is_symlink()
    assert '"@openai/codex@${CODEX_CLI_VERSION}"' in written
    assert "codexctl --help" in written
    assert "USER ${CODEX_UID}:${CODEX_GID}" in written
    services = yaml.safe_load((root / "services.yaml").read_text(encoding="utf-8"))
    agent = services["images"]["codex"]
    assert agent["dockerfile"] == "deploy/codex/Dockerfile"
    assert agent["context"] == "deploy/codex"  # it copies nothing in: the smallest context
    assert agent["buildArgs"] == {"CODEX_STACKS_REPOSITORY": "codex-stacks/codex-stacks", "CODEX_STACKS_REF": COMMIT}
    assert "# The agent, in AI slots only. Its image holds the codex CLI and your project's tools." in (
        root / "services.yaml"
    ).read_text(encoding="utf-8")
    checked = codexctl("validate", "--stack", "ai-slot-1", cwd=root)
    assert checked.returncode == 0, checked.stderr

    # a second run finds that Dockerfile, sees it is codex stacks' own and writes the same services.yaml
    first = (root / "services.yaml").read_text(encoding="utf-8")
    again = codexctl("init", "--ref", COMMIT, "--force", cwd=root)
    assert again.returncode == 0, again.stderr
    assert (root / "services.yaml").read_text(encoding="utf-8") == first
    assert (root / "deploy" / "codex" / "Dockerfile").read_text(encoding="utf-8") == written
