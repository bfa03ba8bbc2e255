"""The bad input corpus (SPEC §9; issue 7, item 1).

Each case is a malformed project or stack setting with the message fragment and the location it
must produce. ``codexctl preview`` and ``codexctl validate`` must exit 2 with exactly one
``error: <file>:<line>: <key.path>: <message>`` line and no traceback; preview must write no file
and register no resource. Cases come from folders under ``cases/`` (a project and its
``case.yaml``) and from ``TABLE`` below (variants of a small base project and stack settings).
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pulumi
import pytest
import typer
import yaml
from click.testing import CliRunner

from codex_stacks.cli.app import app
from codex_stacks.errors import CodexError
from codex_stacks.offline import runner
from codex_stacks.offline.runner import ProgramRun, RecordingMonitor

CLI = typer.main.get_command(app)
"""The app as a click command, built once (typer rebuilds it on every invoke: ~0.1 s)."""

CASES_DIR = Path(__file__).parent / "cases"
CODEXCTL = Path(sys.executable).parent / "codexctl"
ISOLATED_TIMEOUT = 5.0
"""Seconds a case that may hang gets in its own process."""

Command = Literal["preview", "validate"]


@dataclass(frozen=True)
class Case:
    """One bad input and what must be said about it."""

    id: str
    message: str
    file: str | None = None
    """Expected file of the location, relative to the project folder."""
    line: int | None = None
    path: str | None = None
    """Expected key path (a prefix of the reported one: ``x.dependsOn`` matches ``x.dependsOn[0]``)."""
    hint: str | None = None
    stack: str = "dev"
    mode: str = "normal"
    config: Mapping[str, str] = field(default_factory=dict)
    """Extra ``codex:*`` stack config; the CLI has no flag for it, so only preview and the program."""
    commands: tuple[Command, ...] = ("preview", "validate")
    services: str | bytes | None = None
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)
    """Symlinks in the project: name → target."""
    folder: Path | None = None
    isolate: bool = False
    """May hang: run only as a subprocess with a timeout and a memory limit."""
    no_project: bool = False

    def materialize(self, tmp_path: Path) -> Path:
        """The project folder of this case, written under ``tmp_path``."""
        root = (tmp_path / "project").resolve()
        if self.no_project:
            return root
        if self.folder is not None:
            shutil.copytree(self.folder, root, ignore=shutil.ignore_patterns("case.yaml"))
        else:
            root.mkdir()
        files: dict[str, str | bytes] = dict(self.files)
        if self.services is not None:
            files["services.yaml"] = self.services
        for name, content in files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(textwrap.dedent(content), encoding="utf-8")
        for name, link in self.links.items():
            (root / name).symlink_to(link)
        return root


def _folder_case(folder: Path) -> Case:
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
"""The base project: 9 lines, so whatever a case appends starts on line 10."""


def _base(case_id: str, tail: str = "", **kw: Any) -> Case:
    """A variant of the base project: ``tail`` appended to its services.yaml as it is."""
    files = {"ns.yaml": NS, **kw.pop("files", {})}
    return Case(id=case_id, services=HEAD + tail, files=files, **kw)


def _file(case_id: str, services: str, **kw: Any) -> Case:
    """A project with its own services.yaml (and the base ns.yaml)."""
    files = {"ns.yaml": NS, **kw.pop("files", {})}
    return Case(id=case_id, services=textwrap.dedent(services), files=files, **kw)


def _config(case_id: str, config: Mapping[str, str], **kw: Any) -> Case:
    """A stack setting (``codex:*`` config) on the base project: preview and the program only."""
    return _base(case_id, config=config, commands=("preview",), **kw)


SANDBOX = "template is not allowed to do this"
SANDBOX_ESCAPES = {
    "class-mro": "''.__class__.__mro__",
    "cycler-globals": "cycler.__init__.__globals__",
    "joiner-globals": "joiner.__init__.__globals__['os']",
    "lipsum-globals": "lipsum.__globals__",
    "function-globals": "env_or.__globals__",
    "type-mro": "dict.mro()",
    "format-attribute": "'{0.__class__}'.format(project)",
    "attr-filter": "project | attr('__class__')",
    "subclasses": "().__class__.__base__.__subclasses__()",
}

HOOK = """\
hooks:
  beforeAll:
    - name: step
"""


TABLE: list[Case] = [
    # unknown keys, with a did-you-mean
    _base(
        "unknown-top-level-key",
        "enviroments: {}\n",
        message="unknown key 'enviroments'",
        file="services.yaml",
        line=10,
        path="enviroments",
        hint="did you mean 'environments'?",
    ),
    _base(
        "unknown-nested-key",
        "    manifest: []\n",
        message="unknown key 'manifest'",
        file="services.yaml",
        line=10,
        path="infrastructure[0].manifest",
        hint="did you mean 'manifests'?",
    ),
    _file(
        "unknown-key-in-codex",
        """\
        project: demo
        codex:
          modle: gpt-5-codex
        environments: {dev: {}}
        """,
        message="unknown key 'modle'",
        file="services.yaml",
        line=3,
        path="codex.modle",
        hint="did you mean 'model'?",
    ),
    _base(
        "unknown-key-in-overlay",
        textwrap.dedent("""\
        services:
          - name: web
            overlays:
              dev:
                hostMount: []
        """),
        message="unknown key 'hostMount'",
        file="services.yaml",
        line=14,
        path="services[0].overlays.dev.hostMount",
        hint="did you mean 'hostMounts'?",
    ),
    # wrong types and values
    _file(
        "wrong-type-max-slots",
        """\
        project: demo
        maxSlots: many
        environments: {dev: {}}
        """,
        message="valid integer",
        file="services.yaml",
        line=2,
        path="maxSlots",
    ),
    _file(
        "wrong-type-manifests",
        """\
        project: demo
        environments: {dev: {}}
        infrastructure:
          - name: base
            manifests: ns.yaml
        """,
        message="valid list",
        file="services.yaml",
        line=5,
        path="infrastructure[0].manifests",
    ),
    _file(
        "wrong-enum-pull-policy",
        """\
        project: demo
        environments:
          dev:
            imagePullPolicy: Sometimes
        """,
        message="'Always', 'IfNotPresent' or 'Never'",
        file="services.yaml",
        line=4,
        path="environments.dev.imagePullPolicy",
    ),
    _file(
        "project-not-a-dns-label",
        """\
        project: Demo App
        environments: {dev: {}}
        """,
        message="should match pattern",
        file="services.yaml",
        line=1,
        path="project",
    ),
    _file(
        "project-missing",
        """\
        environments: {dev: {}}
        """,
        message="missing required key 'project'",
        file="services.yaml",
        line=1,
        path="project",
    ),
    _base(
        "service-name-not-a-dns-label",
        "services:\n  - name: Web_App\n",
        message="should match pattern",
        file="services.yaml",
        line=11,
        path="services[0].name",
    ),
    _base(
        "image-unknown-type",
        "images:\n  web:\n    type: docker\n",
        message="'external', 'build'",
        file="services.yaml",
        line=11,
        path="images.web",
    ),
    _file(
        "bad-duration",
        """\
        project: demo
        codex:
          timeouts:
            exec: forever
        environments: {dev: {}}
        """,
        message="'forever' is not a duration",
        file="services.yaml",
        line=4,
        path="codex.timeouts.exec",
    ),
    _base(
        "host-mount-missing-key",
        textwrap.dedent("""\
        services:
          - name: web
            overlays:
              dev:
                hostMounts:
                  - name: src
                    hostPath: /src
        """),
        message="missing required key 'mountPath'",
        file="services.yaml",
        line=15,
        path="services[0].overlays.dev.hostMounts[0].mountPath",
    ),
    _file(
        "tab-indentation",
        "project: demo\nenvironments:\n\tdev: {}\n",
        message="invalid YAML",
        file="services.yaml",
        line=3,
    ),
    # duplicate names and references between items
    _base(
        "duplicate-item-names",
        "services:\n  - name: base\n",
        message="names must be unique",
        file="services.yaml",
        line=11,
        path="services[0].name",
    ),
    _base(
        "depends-on-unknown",
        "services:\n  - name: web\n    dependsOn: [databse]\n",
        message="dependsOn names unknown item 'databse'",
        file="services.yaml",
        line=12,
        path="services[0].dependsOn",
    ),
    _base(
        "depends-on-itself",
        "services:\n  - name: web\n    dependsOn: [web]\n",
        message="cannot depend on itself",
        file="services.yaml",
        line=12,
        path="services[0].dependsOn",
    ),
    _base(
        "repair-names-unknown-service",
        "repair:\n  services: [agent]\n",
        message="repair.services names unknown service 'agent'",
        file="services.yaml",
        line=11,
        path="repair.services",
    ),
    _file(
        "slot-bootstrap-unknown-group",
        """\
        project: demo
        environments:
          dev: {}
          ai:
            slotBootstrapInfra: [databases]
        """,
        message="names unknown infrastructure group 'databases'",
        file="services.yaml",
        line=5,
        path="environments.ai.slotBootstrapInfra",
    ),
    _file(
        "environment-from-unknown",
        """\
        project: demo
        environments:
          dev:
            from: prod
        """,
        message="'from' names unknown environment 'prod'",
        file="services.yaml",
        line=4,
        path="environments.dev.from",
    ),
    _file(
        "environment-from-loop",
        """\
        project: demo
        environments:
          dev: {}
          qa:
            from: uat
          uat:
            from: qa
        """,
        message="'from' loops",
        file="services.yaml",
        line=5,
        path="environments.qa.from",
    ),
    _file(
        "environment-from-loop-of-the-stack",
        """\
        project: demo
        environments:
          dev:
            from: staging
          staging:
            from: dev
        """,
        message="'from' loops",
        file="services.yaml",
        line=4,
        path="environments.dev.from",
        commands=("validate",),  # preview resolves the environment the same way (load_settings)
        isolate=True,  # it used to hang in resolve_environment: drop this once that is fixed
    ),
    # templates: undefined variables, syntax, sandbox, limits
    _base(
        "undefined-var-in-services",
        "services:\n  - name: '{{ service_name }}'\n",
        message="'service_name' is undefined",
        file="services.yaml",
        line=11,
        hint="known variables:",
    ),
    _base(
        "undefined-var-in-when",
        "    when: '{{ feature_flag }}'\n",
        message="'feature_flag' is undefined",
        file="services.yaml",
        line=10,
    ),
    _base(
        "template-syntax-in-services",
        "services:\n{% for item in %}\n  - name: web\n",
        message="template syntax error",
        file="services.yaml",
        line=11,
    ),
    _base(
        "template-unclosed-variable",
        "services: {{ project \n",
        message="template syntax error",
        file="services.yaml",
        line=10,
    ),
    *(
        _file(
            f"sandbox-{name}",
            f"""\
            project: demo
            codex:
              projectContext: "{{{{ {expression} }}}}"
            environments: {{dev: {{}}}}
            """,
            message=SANDBOX,
            file="services.yaml",
            line=3,
            hint="templates run in a sandbox",
        )
        for name, expression in SANDBOX_ESCAPES.items()
    ),
    _base(
        "range-too-big", "services: {{ range(10**9) | list }}\n", message="Range too big", file="services.yaml", line=10
    ),
    # files: encodings, directories, symlinks, a missing project
    Case(
        "non-utf8-services",
        services=b"project: demo\n# caf\xe9\nenvironments: {dev: {}}\n",
        message="not UTF-8",
        file="services.yaml",
        line=2,
    ),
    _base(
        "non-utf8-manifest",
        files={"ns.yaml": b"apiVersion: v1\nkind: Namespace # \xff\n"},
        message="not UTF-8",
        file="ns.yaml",
        path="infrastructure[0].manifests[0].path",
    ),
    _base(
        "manifest-is-a-directory",
        "services:\n  - name: web\n    manifests:\n      - path: deploy\n",
        files={"deploy/web.yaml": "kind: ConfigMap\n"},
        message="expected a file, found a directory",
        file="deploy",
        path="services[0].manifests[0].path",
    ),
    _base(
        "manifest-symlink-leaves-project",
        "services:\n  - name: web\n    manifests:\n      - path: web.yaml\n",
        links={"web.yaml": "/etc/hostname"},
        message="leaves the project folder",
        path="services[0].manifests[0].path",
    ),
    Case("project-dir-missing", no_project=True, message="file not found", file="services.yaml"),
    # stack settings: environment, slot, mode, namespace
    _base(
        "unknown-env",
        stack="prod",
        message="means environment 'prod', which services.yaml does not define",
        file="services.yaml",
        path="environments",
        hint="known environments: ai, dev",
    ),
    _base(
        "slot-out-of-range",
        stack="ai-slot-4",
        message="slot 4 is out of range",
        file="services.yaml",
        path="maxSlots",
        hint="use a slot from 1 to 3",
    ),
    _base("slot-zero", stack="ai-slot-0", message="slot 0 is out of range", path="codex:slot"),
    _base("slot-env-without-slot", stack="ai", message="environment 'ai' needs a slot", path="codex:slot"),
    _base(
        "unknown-mode",
        mode="fix",
        message="unknown mode 'fix'",
        path="codex:mode",
        hint="codex:mode in the stack config (or codexctl's --mode) is 'normal' or 'repair'",
    ),
    _file(
        "repair-only-env-in-normal-mode",
        HEAD.replace("  ai: {}\n", "  ai: {}\n  ai-repair:\n    mode: repair\n"),
        stack="ai-repair",
        message="runs only in repair mode, not normal",
        file="services.yaml",
        path="environments.ai-repair.mode",
        hint="set codex:mode: repair in the stack config (stacks/Pulumi.ai-repair.yaml), or pass --mode repair",
    ),
    _config("slot-on-non-slot-env", {"codex:slot": "2"}, message="environment 'dev' has no slots", path="codex:slot"),
    _config(
        "unknown-env-from-config",
        {"codex:env": "qa"},
        message="means environment 'qa'",
        file="services.yaml",
        path="environments",
    ),
    _config("slot-not-a-number", {"codex:slot": "three"}, stack="ai-slot-1", message="'three'", path="codex:slot"),
    _config("vars-not-json", {"codex:vars": "{not json"}, message="JSON", path="codex:vars"),
    _config(
        "namespace-override-invalid",
        {"codex:namespace": "Demo_NS"},
        message="namespace 'Demo_NS' is not a valid Kubernetes name",
        path="codex:namespace",
    ),
    _config(
        "services-file-missing", {"codex:servicesFile": "service.yaml"}, message="file not found", file="service.yaml"
    ),
    _base(
        "namespace-pattern-invalid",
        "namespace:\n  patterns:\n    dev: '{{ project }}_Dev'\n",
        message="namespace 'demo_Dev' is not a valid Kubernetes name",
        file="services.yaml",
        line=12,
        path="namespace.patterns.dev",
    ),
    _base(
        "namespace-pattern-too-long",
        "namespace:\n  patterns:\n    dev: '{{ project }}-{{ \"x\" * 70 }}'\n",
        message="is not a valid Kubernetes name",
        file="services.yaml",
        line=12,
        path="namespace.patterns.dev",
        hint="at most 63 characters",
    ),
    # hooks
    _base(
        "hook-bad-with-type",
        HOOK + "      use: sleep\n      with: {seconds: long}\n",
        message="bad parameters for sleep: with.seconds",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    _base(
        "hook-unknown-with-key",
        HOOK + "      use: kubectl.wait\n      with: {kind: Deployment, name: db, timout: 5m}\n",
        message="with.timout: Extra inputs are not permitted",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    _base(
        "hook-missing-with-key",
        HOOK + "      use: codex.reuse-dev-tls-secret\n",
        message="with.sourceNamespace: Field required",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    _base(
        "hook-use-and-run",
        HOOK + "      use: sleep\n      run: sleep 1\n",
        message="exactly one of 'use'",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    _base(
        "hook-neither-use-nor-run",
        HOOK + "      timeout: 5m\n",
        message="exactly one of 'use'",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    _base(
        "hook-run-with-with",
        HOOK + "      run: echo hi\n      with: {seconds: 1}\n",
        message="'with' is for built-ins",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    _base(
        "hook-bad-timeout",
        HOOK + "      run: echo hi\n      timeout: soon\n",
        message="'soon' is not a duration",
        file="services.yaml",
        line=14,
        path="hooks.beforeAll[0].timeout",
    ),
    _base(
        "hook-duplicate-step-names",
        HOOK + "      run: echo 1\n    - name: step\n      run: echo 2\n",
        message="hook step name 'step' is used twice in beforeAll",
        path="hooks.beforeAll[1]",
    ),
    _base(
        "hook-wait-unknown-kind",
        HOOK + "      use: kubectl.wait\n      with: {kind: Widget, name: w}\n",
        message="kubectl.wait does not know kind 'Widget'",
        path="hooks.beforeAll[0].with",
        hint="give apiVersion and plural",
    ),
    # dangerous data paths
    _base(
        "data-root-is-slash",
        "dataPaths:\n  root: /\n",
        message="data root '/' is not allowed",
        file="services.yaml",
        line=11,
        path="dataPaths.root",
    ),
    _base(
        "data-root-slash-with-hook",
        "dataPaths:\n  root: /\n" + HOOK + "      use: codex.ensure-data-dirs\n",
        message="data root '/' is not allowed",
        file="services.yaml",
        line=11,
        path="dataPaths.root",  # rejected when the file loads, before any hook is planned
    ),
    _base(
        "data-root-relative",
        "dataPaths:\n  root: data\n",
        message="data root 'data' is not allowed",
        file="services.yaml",
        line=11,
        path="dataPaths.root",
    ),
    _base(
        "data-env-dir-outside-root",
        "dataPaths:\n  root: /srv/data\n  envDir: /etc\n",
        message="data folder '/etc' is not inside the data root '/srv/data'",
        file="services.yaml",
        line=12,
        path="dataPaths.envDir",
    ),
    _base(
        "data-dirs-escape",
        HOOK + "      use: codex.ensure-data-dirs\n      with: {dirs: ['../../etc']}\n",
        message="leaves",
        path="hooks.beforeAll[0].with",
        hint="dirs are plain names",
    ),
    # MCP servers of the agent
    _file(
        "mcp-duplicate-names",
        """\
        project: demo
        codex:
          mcp:
            servers:
              - {name: docs, type: http, url: "https://a.example/mcp"}
              - {name: docs, type: stdio, command: docs-mcp}
        environments: {dev: {}}
        """,
        message="MCP server names must be unique; repeated: docs",
        file="services.yaml",
        line=3,
        path="codex.mcp",
    ),
    _file(
        "mcp-env-two-sources",
        """\
        project: demo
        codex:
          mcp:
            servers:
              - name: docs
                type: stdio
                command: docs-mcp
                env:
                  TOKEN: {envRef: DOCS_TOKEN, value: abc}
        environments: {dev: {}}
        """,
        message="give exactly one of 'envRef' or 'value'",
        file="services.yaml",
        line=9,
        path="codex.mcp.servers[0].env.TOKEN",
    ),
    _file(
        "mcp-unknown-type",
        """\
        project: demo
        codex:
          mcp:
            servers:
              - {name: docs, type: grpc}
        environments: {dev: {}}
        """,
        message="'stdio', 'http' or 'cluster'",
        file="services.yaml",
        line=5,
        path="codex.mcp.servers[0].type",
    ),
]

CASES: list[Case] = sorted(
    [_folder_case(folder) for folder in CASES_DIR.iterdir() if (folder / "case.yaml").is_file()] + TABLE,
    key=lambda case: case.id,
)


def _params(command: Command | None) -> list[Any]:
    """The in-process cases of a command (``None``: the program, i.e. every preview case)."""
    wanted = command or "preview"
    return [pytest.param(case, id=case.id) for case in CASES if wanted in case.commands and not case.isolate]


# --- checks ------------------------------------------------------------------------------


def error_line(case: Case, root: Path, stdout: str, stderr: str) -> str:
    """The one ``error:`` line, checked for the case's message, location and hint."""
    assert "Traceback" not in stdout + stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, f"expected one error line, got:\n{stderr}"
    line = errors[0]
    assert case.message in line, line
    assert case.file or case.path, "every case names a location"
    if case.file is not None:
        where = f"{root / case.file}:{case.line}: " if case.line else f"{root / case.file}: "
        assert where in line + " ", f"expected location {where!r} in {line!r}"
    if case.path is not None:
        assert f" {case.path}" in line, f"expected key path {case.path!r} in {line!r}"
    if case.hint is not None:
        hints = [text for text in stderr.splitlines() if text.startswith("  hint: ")]
        assert any(case.hint in text for text in hints), f"expected hint {case.hint!r} in:\n{stderr}"
    return line


def check_cause(case: Case, root: Path, error: BaseException) -> CodexError:
    """The program's RunError carries the CodexError, with the case's location."""
    cause = error.__cause__
    assert isinstance(cause, CodexError), f"not a CodexError behind the RunError: {cause!r}"
    assert case.message in str(cause)
    location = cause.location
    if case.file is not None:
        assert location.file is not None
        assert Path(location.file).resolve() == root / case.file
        assert location.line == case.line
    if case.path is not None:
        assert location.path is not None
        assert location.path.startswith(case.path), location.path
    return cause


def _with_config(case: Case) -> Callable[..., ProgramRun]:
    real = runner.run_program

    def run_program(stack: str, config: Mapping[str, str], **kwargs: Any) -> ProgramRun:
        return real(stack, {**config, **case.config}, **kwargs)

    return run_program


def _cli_args(command: Command, case: Case, root: Path, out: Path) -> list[str]:
    args = [command, "--stack", case.stack, "--mode", case.mode, "--project-dir", str(root)]
    return [*args, "--out", str(out)] if command == "preview" else args


# --- tests -------------------------------------------------------------------------------


def test_the_corpus_is_big_and_well_formed() -> None:
    """At least 40 cases, unique ids, every one with a location and a command."""
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)
    for case in CASES:
        assert case.file or case.path, case.id
        assert case.commands, case.id
        assert not (case.config and "validate" in case.commands), case.id


@pytest.mark.parametrize("case", _params("preview"))
def test_preview(case: Case, tmp_path: Path, monitors: list[RecordingMonitor], monkeypatch: pytest.MonkeyPatch) -> None:
    """``codexctl preview``: exit 2, one located message, no files, nothing registered."""
    root = case.materialize(tmp_path)
    out = tmp_path / "out"
    if case.config:
        monkeypatch.setattr("codex_stacks.cli.preview.run_program", _with_config(case))
    result = CliRunner().invoke(CLI, _cli_args("preview", case, root, out))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    error_line(case, root, result.stdout, result.stderr)
    assert not out.exists(), "preview wrote files for a bad input"
    assert len(monitors) == 1, "preview did not run the program"
    assert monitors[0].run.registrations == [], [r.urn for r in monitors[0].run.registrations]


@pytest.mark.parametrize("case", _params("validate"))
def test_validate(case: Case, tmp_path: Path) -> None:
    """``codexctl validate``: exit 2, one located message, no traceback."""
    root = case.materialize(tmp_path)
    result = CliRunner().invoke(CLI, _cli_args("validate", case, root, tmp_path / "out"))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    error_line(case, root, result.stdout, result.stderr)


@pytest.mark.parametrize("case", _params(None))
def test_program(case: Case, tmp_path: Path, monitors: list[RecordingMonitor]) -> None:
    """``run_program``: a RunError caused by a located CodexError, and zero registrations."""
    root = case.materialize(tmp_path)
    config = {"codex:projectDir": str(root), "codex:mode": case.mode, **case.config}
    with pytest.raises(pulumi.RunError) as info:
        runner.run_program(case.stack, config)
    check_cause(case, root, info.value)
    assert len(monitors) == 1
    assert monitors[0].run.registrations == []


def _console_script(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    try:
        return subprocess.run(
            [str(CODEXCTL), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"codexctl {' '.join(args)} did not finish in {timeout} s (it hangs)")


SUBPROCESS_CASES = {"undefined-var-manifest": "preview", "k8s-wrong-type": "validate"}


@pytest.mark.parametrize(
    ("case", "command"),
    [
        pytest.param(case, command, id=f"{case.id}-{command}")
        for case in CASES
        for command in case.commands
        if (SUBPROCESS_CASES.get(case.id) == command or case.isolate) and not case.config
    ],
)
def test_console_script(case: Case, command: Command, tmp_path: Path) -> None:
    """The installed ``codexctl`` says exactly what the in-process app says (and never hangs)."""
    root = case.materialize(tmp_path)
    out = tmp_path / "out"
    result = _console_script(_cli_args(command, case, root, out), timeout=ISOLATED_TIMEOUT if case.isolate else 60)
    assert result.returncode == 2, result.stderr
    line = error_line(case, root, result.stdout, result.stderr)
    assert not out.exists()
    if not case.isolate:
        in_process = CliRunner().invoke(CLI, _cli_args(command, case, root, out))
        assert line in in_process.stderr.splitlines()


PROMPT_KIND = Case(
    "prompt-unknown-kind",
    message="unknown prompt kind 'dev_isue'",
    path="--kind",
    hint="kinds: dev_issue",
    stack="ai-slot-1",
)


def test_prompt_render_unknown_kind(tmp_path: Path) -> None:
    """``codexctl prompt render`` with a kind no template exists for."""
    root = (tmp_path / "project").resolve()
    result = CliRunner().invoke(CLI, ["prompt", "render", "--stack", "ai-slot-1", "--kind", "dev_isue", "--issue", "7"])
    assert result.exit_code == 2, result.output
    error_line(PROMPT_KIND, root, result.stdout, result.stderr)


def test_the_base_project_is_good(tmp_path: Path) -> None:
    """The control: the base project of the table previews and validates, so each failure is the case's."""
    root = _base("base", message="").materialize(tmp_path)
    for command in ("preview", "validate"):
        result = CliRunner().invoke(CLI, _cli_args(command, _base("base", message=""), root, tmp_path / "out"))
        assert result.exit_code == 0, result.output
