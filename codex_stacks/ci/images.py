"""Mirror ``external`` images and build ``build`` images of services.yaml, skipping present ones.

Whichever tool the runner has: skopeo, crane or docker for mirroring; ``docker buildx`` or kaniko
for building. Every command is retried with backoff (registries and pulls flake).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from codex_stacks.ci.errors import CiError, ExternalError

Status = Literal["built", "mirrored", "skipped"]
KANIKO = "/kaniko/executor"


@dataclass(frozen=True, slots=True)
class ImageJob:
    """One image to make present: mirrored from ``source``, or built from ``context``."""

    name: str
    ref: str
    source: str | None = None
    dockerfile: Path | None = None
    context: Path | None = None
    build_args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImageResult:
    name: str
    ref: str
    status: Status


def plan_images(
    *, stack: str, project_dir: Path | None = None, only: Sequence[str], program_dir: Path | None = None
) -> list[ImageJob]:
    """The images of ``services.yaml`` rendered for ``stack`` (tags depend on the environment),
    with the stack file's settings (project folder, vars, env, mode) as ``pulumi up`` reads them;
    ``project_dir`` (the command line's) wins over the stack file's."""
    from codex_stacks.config.model import BuildImage
    from codex_stacks.plan import load_settings
    from codex_stacks.stackconfig import stack_request

    request = stack_request(stack, project_dir=project_dir, program_dir=program_dir)
    project_dir = request.project_dir
    _, settings, _ = load_settings(request)
    unknown = sorted(set(only) - set(settings.images))
    if unknown:
        raise CiError(f"unknown image(s) {', '.join(unknown)}", hint=f"known: {', '.join(sorted(settings.images))}")
    jobs: list[ImageJob] = []
    for name, image in settings.images.items():
        if only and name not in only:
            continue
        if isinstance(image, BuildImage):
            jobs.append(
                ImageJob(
                    name=name,
                    ref=f"{image.repository}:{image.tag_template}",
                    dockerfile=project_dir / image.dockerfile,
                    context=project_dir / image.context,
                    build_args=dict(image.build_args),
                )
            )
        else:
            jobs.append(ImageJob(name=name, ref=image.local, source=image.from_))
    check_sources(jobs, project_dir=project_dir)
    return jobs


def check_sources(jobs: Sequence[ImageJob], *, project_dir: Path) -> None:
    """Every build's Dockerfile and context exist, before anything is mirrored or built."""
    for job in jobs:
        if job.source is not None:
            continue
        if job.context is not None and not job.context.is_dir():
            raise CiError(
                f"image {job.name}: build context {_shown(job.context, project_dir)} is not a folder",
                hint=f"fix images.{job.name}.context in services.yaml (relative to {project_dir})",
            )
        if job.dockerfile is not None and not job.dockerfile.is_file():
            raise CiError(
                f"image {job.name}: Dockerfile {_shown(job.dockerfile, project_dir)} does not exist",
                hint=f"fix images.{job.name}.dockerfile in services.yaml (relative to {project_dir})",
            )


def _shown(path: Path, project_dir: Path) -> str:
    try:
        return str(path.relative_to(project_dir))
    except ValueError:
        return str(path)


_TELLING = ("error", "unknown", "denied", "unauthorized", "not found", "no such", "cannot", "invalid")


def telling_line(output: str, *, code: int) -> str:
    """The line of a failed command that says why, not a trailing usage hint.

    First an ``error:`` line (``ERROR: failed to solve: …`` of buildx, ``unknown command: …``
    of docker), else the first line naming a problem, else the last line.
    """
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        lowered = line.lower()
        if lowered.startswith(("error", "unknown")) or "error:" in lowered:
            return line[:300]
    for line in lines:
        if any(word in line.lower() for word in _TELLING):
            return line[:300]
    return lines[-1][:300] if lines else f"exit {code}"


class ImageRunner:
    """Runs the jobs with the tools found on PATH; ``run`` is injectable for tests of the decisions."""

    def __init__(
        self,
        *,
        builder: str,
        retries: int,
        backoff: float,
        force: bool = False,
        progress: Callable[[str], None] = lambda _: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.builder = self._pick_builder(builder)
        self.retries = retries
        self.backoff = backoff
        self.force = force
        self.progress = progress
        self.sleep = sleep
        self.results: list[ImageResult] = []

    @staticmethod
    def _pick_builder(choice: str) -> str:
        if choice not in ("auto", "buildx", "kaniko"):
            raise CiError(f"unknown builder {choice!r}", hint="use buildx, kaniko or auto")
        if choice == "auto":
            return "buildx" if shutil.which("docker") else "kaniko"
        return choice

    def run(self, jobs: Sequence[ImageJob]) -> list[ImageResult]:
        """The images made present, in order; on a failure, ``self.results`` holds the ones done before it."""
        self.results = results = []
        for index, job in enumerate(jobs, start=1):
            step = f"[{index}/{len(jobs)}] {job.ref}"
            if not self.force and self._present(job.ref):
                self.progress(f"{step}: present, skipped")
                results.append(ImageResult(name=job.name, ref=job.ref, status="skipped"))
                continue
            if job.source is not None:
                self.progress(f"{step}: mirroring from {job.source}")
                for command in self._mirror_commands(job.source, job.ref):
                    self._retry(command)
                results.append(ImageResult(name=job.name, ref=job.ref, status="mirrored"))
            else:
                self.progress(f"{step}: building from {job.dockerfile} ({self.builder})")
                self._retry(self._build_command(job))
                results.append(ImageResult(name=job.name, ref=job.ref, status="built"))
            self.progress(f"{step}: {results[-1].status}")
        return results

    def _present(self, ref: str) -> bool:
        """Whether the registry already has ``ref`` (the first tool that can ask decides)."""
        if shutil.which("skopeo"):
            command = ["skopeo", "inspect", "--raw", f"docker://{ref}"]
        elif shutil.which("crane"):
            command = ["crane", "digest", ref]
        elif shutil.which("docker"):
            command = ["docker", "manifest", "inspect", ref]
        else:
            return False
        return subprocess.run(command, capture_output=True, check=False).returncode == 0

    def _mirror_commands(self, source: str, ref: str) -> list[list[str]]:
        if shutil.which("skopeo"):
            return [["skopeo", "copy", "--all", f"docker://{source}", f"docker://{ref}"]]
        if shutil.which("crane"):
            return [["crane", "copy", source, ref]]
        if shutil.which("docker"):
            return [["docker", "pull", source], ["docker", "tag", source, ref], ["docker", "push", ref]]
        raise ExternalError("no tool to mirror images: install skopeo, crane or docker")

    def _build_command(self, job: ImageJob) -> list[str]:
        args = [f"{key}={value}" for key, value in sorted(job.build_args.items())]
        if self.builder == "buildx":
            if not shutil.which("docker"):
                raise ExternalError("--builder buildx needs docker on PATH")
            command = ["docker", "buildx", "build", "--push", "--file", str(job.dockerfile), "--tag", job.ref]
            for arg in args:
                command += ["--build-arg", arg]
            return [*command, str(job.context)]
        executor = os.environ.get("CODEX_KANIKO_EXECUTOR", KANIKO)
        if not shutil.which(executor):
            raise ExternalError(
                f"--builder kaniko needs {executor}", hint="run in the kaniko image or set CODEX_KANIKO_EXECUTOR"
            )
        command = [executor, "--dockerfile", str(job.dockerfile), "--context", f"dir://{job.context}"]
        command += ["--destination", job.ref]
        for arg in args:
            command += ["--build-arg", arg]
        return command

    def _retry(self, command: list[str]) -> None:
        for attempt in range(self.retries + 1):
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode == 0:
                return
            line = telling_line(done.stderr or done.stdout or "", code=done.returncode)
            if attempt == self.retries:
                tries = "1 attempt" if attempt == 0 else f"{attempt + 1} attempts"
                raise ExternalError(f"`{' '.join(command[:3])} …` failed after {tries}: {line}")
            self.progress(f"{command[0]} failed ({line}); retrying")
            self.sleep(self.backoff * 2**attempt)
