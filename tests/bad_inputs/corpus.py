"""What a bad-input case is: a project (files, links, FIFOs, sockets), stack settings, and the
problems it must produce, each with its file and line or key path."""

from __future__ import annotations

import os
import shutil
import socket
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

Command = Literal["preview", "validate", "repair-targets", "prompt"]
ALL_COMMANDS: tuple[Command, ...] = ("preview", "validate", "repair-targets", "prompt")
"""A problem found before any item is chosen (a file, the stack name): every command meets it."""
MAIN = "from codex_stacks.program import run\n\nrun()\n"
"""The program of a case's program folder, as in every program folder (docs/architecture.md)."""


@dataclass(frozen=True)
class Expect:
    """One problem of a pass: its message (a fragment) and where it is."""

    message: str
    file: str | None = None
    """Relative to the project folder (``../program/…`` for the program's own files)."""
    line: int | None = None
    path: str | None = None
    """Key path, shown after the location (a prefix: ``x.dependsOn`` matches ``x.dependsOn[0]``)."""


@dataclass(frozen=True)
class Case:
    """One bad input and what must be said about it."""

    id: str
    message: str
    file: str | None = None
    line: int | None = None
    path: str | None = None
    hint: str | None = None
    stack: str = "dev"
    mode: str = "normal"
    config: Mapping[str, str] = field(default_factory=dict)
    """Extra ``codex:*`` stack config; the CLI has no flag for it, so only preview and the program."""
    commands: tuple[Command, ...] = ("preview", "validate")
    program: bool | None = None
    """Run the Pulumi program under the mocks too (default: when preview is one of the commands)."""
    services: str | bytes | None = None
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)
    """Symlinks in the project: name → target."""
    fifos: tuple[str, ...] = ()
    sockets: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()
    """Files no run may read (mode 000; as root, inside a user namespace)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """The environment of the run (the operator's limits: CODEX_MAX_*)."""
    program_files: Mapping[str, str | bytes] = field(default_factory=dict)
    """A Pulumi program folder beside the project (``Pulumi.yaml``, ``stacks/…``) to read stack settings from."""
    program_links: Mapping[str, str] = field(default_factory=dict)
    program_fifos: tuple[str, ...] = ()
    prompt_args: tuple[str, ...] = ()
    kind: str = "dev_issue"
    more: tuple[Expect, ...] = ()
    """The further problems of the same pass, in order (each its own ``error:`` line)."""
    hidden: int = 0
    """Problems past the shown limit, counted on a last line."""
    secret: str | None = None
    """A value that must never be printed."""
    folder: Path | None = None
    no_project: bool = False

    @property
    def expected(self) -> list[Expect]:
        return [Expect(self.message, self.file, self.line, self.path), *self.more]

    @property
    def runs_program(self) -> bool:
        return ("preview" in self.commands) if self.program is None else self.program

    @property
    def has_program_folder(self) -> bool:
        return bool(self.program_files or self.program_links or self.program_fifos)

    def materialize(self, where: Path) -> Path:
        """The project folder of this case (and its program folder, if any), written under ``where``."""
        root = (where / "project").resolve()
        if self.has_program_folder:
            program = {"__main__.py": MAIN, **self.program_files}  # the five lines every program folder has
            _write(where / "program", program, self.program_links, self.program_fifos, ())
        if self.no_project:
            return root
        if self.folder is not None:
            shutil.copytree(self.folder, root, ignore=shutil.ignore_patterns("case.yaml"))
        else:
            root.mkdir()
        files: dict[str, str | bytes] = dict(self.files)
        if self.services is not None:
            files["services.yaml"] = self.services
        _write(root, files, self.links, self.fifos, self.sockets)
        return root


def _write(
    root: Path,
    files: Mapping[str, str | bytes],
    links: Mapping[str, str],
    fifos: tuple[str, ...],
    sockets: tuple[str, ...],
) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(textwrap.dedent(content), encoding="utf-8")
    for name, link in links.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(link)
    for name in fifos:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(root / name)
    for name in sockets:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        here = Path.cwd()
        os.chdir((root / name).parent)  # a socket path has at most 107 bytes: bind the short name
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
                server.bind(Path(name).name)
        finally:
            os.chdir(here)


def folder_case(folder: Path) -> Case:
    spec: dict[str, Any] = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
    spec.pop("about", None)
    if "commands" in spec:
        spec["commands"] = tuple(spec["commands"])
    return Case(id=folder.name, folder=folder, **spec)


NS = """\
    apiVersion: v1
    kind: Namespace
    metadata:
      name: {{ namespace }}
"""

HEAD = """\
project: demo
maxSlots: 3
environments:
  dev: {}
  ai: {}
infrastructure:
  - name: base
    manifests:
      - path: ns.yaml
"""
"""The base project: 9 lines, so whatever a case appends starts on line 10. Plain YAML, no
template statements: it reads the same in every dialect of services.yaml."""

WEB = "services:\n  - name: web\n    manifests:\n      - path: web.yaml\n"
"""A service whose one manifest (web.yaml) a case writes."""


def base(case_id: str, tail: str = "", **kw: Any) -> Case:
    """A variant of the base project: ``tail`` appended to its services.yaml as it is."""
    files = {"ns.yaml": NS, **kw.pop("files", {})}
    return Case(id=case_id, services=HEAD + tail, files=files, **kw)


def with_file(case_id: str, services: str, **kw: Any) -> Case:
    """A project with its own services.yaml (and the base ns.yaml)."""
    files = {"ns.yaml": NS, **kw.pop("files", {})}
    return Case(id=case_id, services=textwrap.dedent(services), files=files, **kw)


def with_config(case_id: str, config: Mapping[str, str], **kw: Any) -> Case:
    """A stack setting (``codex:*`` config) on the base project: preview and the program only."""
    return base(case_id, config=config, commands=("preview",), **kw)


def web(case_id: str, manifest: str, **kw: Any) -> Case:
    """The base project plus service ``web`` with the manifest ``web.yaml`` (the object under test)."""
    files = {"web.yaml": manifest, **kw.pop("files", {})}
    return base(case_id, WEB, files=files, **kw)
