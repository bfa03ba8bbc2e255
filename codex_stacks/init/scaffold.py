"""``codexctl init``: the files a team's repository needs to be a codex stacks program folder.

What it writes (docs/architecture.md, "A team's repository"):

- ``Pulumi.yaml`` with the repository's own project name (stacks of two repositories never meet
  on one backend) and no ``codex:*`` declarations (their defaults are codexctl's);
- ``__main__.py``, five lines that call :func:`codex_stacks.program.run`;
- ``requirements.txt`` pinning this package: by default the git tag of this version,
  ``codex-stacks @ git+https://github.com/<repository>@v<version>``, until it is published;
  ``--package`` names a wheel file or any pip requirement instead;
- ``stacks/`` with the long-lived stacks (``dev``, ``ai-staging``, ``cluster``);
- a starter ``services.yaml`` (a service per Dockerfile, plus the agent), its manifests in
  ``deploy/`` and ``services.schema.json`` for editors; when the repository has no Dockerfile of
  its own for the agent, codex stacks' agent image (``deploy/codex/Dockerfile``: the codex CLI,
  codexctl at the same ref, kubectl, git, gh) and its build in ``images:``;
- the GitHub workflow callers of codex stacks' reusable workflows, pinned to ``--ref``.

A file that exists is kept unless ``--force``; the starter services.yaml and its manifests are
written together or not at all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from codex_stacks import __version__
from codex_stacks.config.files import read_optional
from codex_stacks.errors import ConfigError, Location
from codex_stacks.init.starter import AGENT, FoundImage, dns_label, find_dockerfiles, services_yaml

DEFAULT_REPOSITORY = "codex-stacks/codex-stacks"
"""Where codex stacks lives on GitHub (the reusable workflows and the git URL of requirements.txt)."""
WORKFLOWS = (
    "ai_issue.yml",
    "ai_review.yml",
    "ai_repair.yml",
    "ai_cleanup.yml",
    "ai_gc.yml",
    "staging_deploy_main.yml",
)
AGENT_DOCKERFILE = f"deploy/{AGENT}/Dockerfile"
"""Where init writes codex stacks' agent image when the repository has none of its own."""
STACK_FILES = ("Pulumi.dev.yaml", "Pulumi.ai-staging.yaml", "Pulumi.cluster.yaml")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_REF = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_PLACEHOLDER = re.compile(r"@@([a-z-]+)(?: ([^@\n]+))?@@")


@dataclass(frozen=True)
class InitOptions:
    """What ``codexctl init`` was asked for."""

    folder: Path
    name: str | None = None
    package: str | None = None
    repository: str = DEFAULT_REPOSITORY
    ref: str | None = None
    allowed_users: tuple[str, ...] = ()
    force: bool = False


@dataclass
class InitResult:
    """The files written and the files kept, relative to the folder."""

    folder: Path
    name: str
    ref: str
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    def report(self) -> list[str]:
        lines = [f"wrote {path}" for path in self.written]
        lines += [f"kept {path} (it exists; --force overwrites it)" for path in self.kept]
        if self.services:
            lines.append(f"services from Dockerfiles: {', '.join(self.services)} (and the agent, {AGENT})")
        lines += [
            f"Pulumi project {self.name} in {self.folder}. Next:",
            "  python -m venv .venv && .venv/bin/pip install -r requirements.txt",
            "  codexctl validate --stack dev && codexctl preview --stack ai-slot-1",
            "  pulumi login <backend> && pulumi up -s cluster   # once, as a cluster admin (docs/security.md)",
        ]
        if not _COMMIT.match(self.ref):
            lines.append(
                f"note: requirements.txt and the workflows name {self.ref!r}, which can move: pin the commit of "
                "codex stacks you reviewed (--ref <40 hex digits>; docs/security-workflows.md, 'Pinning')"
            )
        return lines


def _template(name: str) -> str:
    return resources.files("codex_stacks.init").joinpath("templates", name).read_text(encoding="utf-8")


def _fill(text: str, values: dict[str, str], uses: str) -> str:
    def one(match: re.Match[str]) -> str:
        key, argument = match.group(1), match.group(2)
        if key == "uses":
            return uses.format(workflow=argument)
        return values[key]

    return _PLACEHOLDER.sub(one, text)


def _check(options: InitOptions) -> tuple[Path, str, str]:
    folder = options.folder.expanduser().resolve()
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder", location=Location(path="FOLDER"))
    if not _REPOSITORY.match(options.repository):
        raise ConfigError(f"{options.repository!r} is not owner/name", location=Location(path="--repository"))
    ref = options.ref or f"v{__version__}"
    if not _REF.match(ref) or ".." in ref:
        raise ConfigError(f"{ref!r} is not a git tag, branch or commit", location=Location(path="--ref"))
    for login in options.allowed_users:
        if not _LOGIN.match(login):
            raise ConfigError(f"{login!r} is not a GitHub login", location=Location(path="--allowed-users"))
    if options.name is not None:
        if dns_label(options.name) != options.name or len(options.name) > 63:
            raise ConfigError(
                f"{options.name!r} cannot name the project",
                location=Location(path="--name"),
                hint="lowercase letters, digits and '-', starting with a letter: it names the Pulumi project "
                "and services.yaml's project (namespaces, images)",
            )
        return folder, options.name, ref
    name = dns_label(folder.name)
    if not name:
        raise ConfigError(
            f"cannot make a project name of the folder name {folder.name!r}", location=Location(path="--name")
        )
    return folder, name, ref


def _requirement(package: str | None, *, folder: Path, repository: str, ref: str) -> str:
    if package is None:
        return f"codex-stacks @ git+https://github.com/{repository}@{ref}"
    if "\n" in package or not package.strip():
        raise ConfigError("give one pip requirement", location=Location(path="--package"))
    path = Path(package).expanduser()
    if package.endswith(".whl") and path.is_file():
        wheel = path.resolve()
        try:
            return f"./{wheel.relative_to(folder).as_posix()}"  # pip reads it relative to the program folder
        except ValueError:
            return f"codex-stacks @ {wheel.as_uri()}"
    return package.strip()


def init_repository(options: InitOptions) -> InitResult:
    """Write the program folder's files into ``options.folder`` (kept when they exist, unless forced)."""
    folder, name, ref = _check(options)
    commit = _COMMIT.match(ref) is not None
    values = {
        "name": name,
        "package": _requirement(options.package, folder=folder, repository=options.repository, ref=ref),
        "allowed-users": json.dumps(list(options.allowed_users)),
        "pin-comment": ""
        if commit
        else "    # pin the codex stacks commit you reviewed: …yml@<commit> # <tag> (its docs/security-workflows.md)\n",
        "codex-stacks-inputs": "" if ref == "main" else f"      codex-stacks-ref: {ref}\n",
    }
    uses = f"{options.repository}/.github/workflows/{{workflow}}@{ref}" + (f" # v{__version__}" if commit else "")
    files: dict[str, str] = {
        "Pulumi.yaml": _fill(_template("Pulumi.yaml"), values, uses),
        "__main__.py": _template("main.py.tmpl"),
        "requirements.txt": _fill(_template("requirements.txt"), values, uses),
    }
    for stack in STACK_FILES:
        files[f"stacks/{stack}"] = _template(f"stacks/{stack}")
    for workflow in WORKFLOWS:
        files[f".github/workflows/{workflow}"] = _fill(_template(f"workflows/{workflow}"), values, uses)
    result = InitResult(folder=folder, name=name, ref=ref)
    starter_kept = (folder / "services.yaml").exists() and not options.force
    if not starter_kept:
        images = find_dockerfiles(folder, project=name)
        result.services = [image.service for image in images if image.service != AGENT]
        ours = _template("deploy/codex.Dockerfile")
        agent = next((image for image in images if image.service == AGENT), None)
        if agent is None:
            files[AGENT_DOCKERFILE] = ours
            images.append(FoundImage(service=AGENT, dockerfile=AGENT_DOCKERFILE, context=f"deploy/{AGENT}"))
        own_image = agent is None or (
            agent.dockerfile == AGENT_DOCKERFILE and _text(folder / AGENT_DOCKERFILE, folder=folder) == ours
        )
        agent_args = {"CODEX_STACKS_REPOSITORY": options.repository, "CODEX_STACKS_REF": ref} if own_image else None
        files["services.yaml"] = services_yaml(project=name, images=images, agent_build_args=agent_args)
        files["services.schema.json"] = _schema_text()
        files["deploy/namespace.yaml"] = _template("deploy/namespace.yaml")
        files[f"deploy/{AGENT}.yaml"] = _template("deploy/codex.yaml")
        service_template = _template("deploy/service.yaml")
        for image in images:
            if image.service != AGENT:
                files[f"deploy/{image.service}.yaml"] = _fill(
                    service_template, {**values, "service": image.service, "dockerfile": image.dockerfile}, uses
                )
    else:
        result.kept.append("services.yaml")
    for relative, text in files.items():
        target = folder / relative
        if (target.exists() or target.is_symlink()) and not options.force:
            result.kept.append(relative)
            continue
        _write(target, text, folder=folder)
        result.written.append(relative)
    return result


def _text(path: Path, *, folder: Path) -> str | None:
    """A file's text read within the project's bounds, or None (missing, unreadable, too big)."""
    try:
        return read_optional(path, root=folder)
    except ConfigError:
        return None


def _schema_text() -> str:
    from codex_stacks.config.schema import services_schema

    return json.dumps(services_schema(), indent=2, sort_keys=True) + "\n"


def _write(target: Path, text: str, *, folder: Path) -> None:
    """Write ``target`` inside ``folder``; a symbolic link on the way is replaced, never followed."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(folder):
            raise ConfigError(
                f"{target.parent} leads out of {folder} (a symbolic link?)", location=Location(file=target)
            )
        if target.is_symlink():
            target.unlink()
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}", location=Location(file=target)) from None
