"""The bad input corpus.

Each case is a malformed or hostile project or stack setting with the problems it must produce.
``codexctl preview``, ``validate``, ``repair-targets`` and ``prompt render`` (where the case says)
must exit 2 with exactly one ``error: <file>:<line>: <key.path>: <message>`` line per problem and
no traceback; preview must write no file and register no resource; the Pulumi program under the
SDK's mocks must fail with the same located error and register nothing. Every run is its own
process under limits (:mod:`tests.bad_inputs.isolation`: 2 s, 300 MB peak RSS, a 2 GiB address
space), so a regression that hangs or eats memory fails its case instead of the machine.

Cases come from folders under ``cases/`` (a project and its ``case.yaml``), from ``TABLE`` below
(variants of a small base project and stack settings) and from :mod:`tests.bad_inputs.hostile`.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bad_inputs.corpus import ALL_COMMANDS, HEAD, Case, Command, Expect, base, folder_case, with_config, with_file
from tests.bad_inputs.hostile import HOSTILE
from tests.bad_inputs.isolation import MAX_RSS_BYTES, WALL_SECONDS, Job, Outcome, Zygote

CASES_DIR = Path(__file__).parent / "cases"
CODEXCTL = Path(sys.executable).parent / "codexctl"

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
    base(
        "unknown-top-level-key",
        "enviroments: {}\n",
        message="unknown key 'enviroments'",
        file="services.yaml",
        line=10,
        path="enviroments",
        hint="did you mean 'environments'?",
    ),
    base(
        "unknown-nested-key",
        "    manifest: []\n",
        message="unknown key 'manifest'",
        file="services.yaml",
        line=10,
        path="infrastructure[0].manifest",
        hint="did you mean 'manifests'?",
    ),
    with_file(
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
    base(
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
    with_file(
        "wrong-type-max-slots",
        """\
        project: demo
        maxSlots: many
        environments: {dev: {}}
        """,
        message="maxSlots must be a whole number",
        file="services.yaml",
        line=2,
        path="maxSlots",
        commands=("validate",),  # a dev stack has no slots: only validate evaluates maxSlots there
    ),
    with_file(
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
    with_file(
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
    with_file(
        "project-not-a-dns-label",
        """\
        project: Demo App
        environments: {dev: {}}
        """,
        message="project 'Demo App' is not a valid name",
        file="services.yaml",
        line=1,
        path="project",
    ),
    with_file(
        "project-missing",
        """\
        environments: {dev: {}}
        """,
        message="missing required key 'project'",
        file="services.yaml",
        line=1,
        path="project",
    ),
    base(
        "service-name-not-a-dns-label",
        "services:\n  - name: Web_App\n",
        message="the item's name 'Web_App' is not a valid name",
        file="services.yaml",
        line=11,
        path="services[0].name",
    ),
    base(
        "image-unknown-type",
        "images:\n  web:\n    type: docker\n",
        message="'external', 'build'",
        file="services.yaml",
        line=11,
        path="images.web",
        commands=("validate",),  # only ci images and validate use images:
    ),
    with_file(
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
    base(
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
    with_file(
        "tab-indentation",
        "project: demo\nenvironments:\n\tdev: {}\n",
        message="invalid YAML",
        file="services.yaml",
        line=3,
    ),
    # duplicate names and references between items
    base(
        "duplicate-item-names",
        "services:\n  - name: base\n",
        message="names must be unique",
        file="services.yaml",
        line=11,
        path="services[0].name",
    ),
    base(
        "depends-on-unknown",
        "services:\n  - name: web\n    dependsOn: [databse]\n",
        message="dependsOn names unknown item 'databse'",
        file="services.yaml",
        line=12,
        path="services[0].dependsOn",
    ),
    base(
        "depends-on-itself",
        "services:\n  - name: web\n    dependsOn: [web]\n",
        message="cannot depend on itself",
        file="services.yaml",
        line=12,
        path="services[0].dependsOn",
    ),
    base(
        "repair-names-unknown-service",
        "repair:\n  services: [agent]\n",
        message="repair.services names unknown service 'agent'",
        file="services.yaml",
        line=11,
        path="repair.services",
    ),
    with_file(
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
        commands=("validate",),  # only a slot stack (or validate) uses environment ai
    ),
    with_file(
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
    with_file(
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
    with_file(
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
    ),
    # templates: undefined variables, syntax, sandbox, limits
    base(
        "undefined-var-in-services",
        "services:\n  - name: web\n    image: {repository: '{{ service_name }}', tagTemplate: x}\n",
        message="'service_name' is undefined",
        file="services.yaml",
        line=12,
        hint="known variables:",
    ),
    base(
        "undefined-var-in-when",
        "    when: '{{ feature_flag }}'\n",
        message="'feature_flag' is undefined",
        file="services.yaml",
        line=10,
    ),
    base(
        "template-syntax-in-services",
        "services:\n{% for item in %}\n  - name: web\n",
        message="'{% for … %}' statements are no longer part of services.yaml",
        file="services.yaml",
        line=11,
    ),
    base(
        "template-unclosed-variable",
        "codex:\n  projectContext: '{{ project '\n",
        message="template syntax error",
        file="services.yaml",
        line=11,
    ),
    *(
        with_file(
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
    base(
        "range-too-big",
        "codex:\n  projectContext: '{{ range(10**9) | list }}'\n",
        message="template budget exceeded",
        file="services.yaml",
        line=11,
    ),
    # files: encodings, directories, symlinks, a missing project
    Case(
        "non-utf8-services",
        services=b"project: demo\n# caf\xe9\nenvironments: {dev: {}}\n",
        message="not UTF-8",
        file="services.yaml",
        line=2,
    ),
    base(
        "non-utf8-manifest",
        files={"ns.yaml": b"apiVersion: v1\nkind: Namespace # \xff\n"},
        message="not UTF-8",
        file="ns.yaml",
        line=2,
        path="infrastructure[0].manifests[0].path",
    ),
    base(
        "manifest-is-a-directory",
        "services:\n  - name: web\n    manifests:\n      - path: deploy\n",
        files={"deploy/web.yaml": "kind: ConfigMap\n"},
        message="expected a file, found a directory",
        file="deploy",
        path="services[0].manifests[0].path",
    ),
    base(
        "manifest-symlink-leaves-project",
        "services:\n  - name: web\n    manifests:\n      - path: web.yaml\n",
        links={"web.yaml": "/etc/hostname"},
        message="leaves the project folder",
        path="services[0].manifests[0].path",
    ),
    Case("project-dir-missing", no_project=True, message="file not found", file="services.yaml"),
    # stack settings: environment, slot, mode, namespace
    base(
        "unknown-env",
        stack="prod",
        message="means environment 'prod', which services.yaml does not define",
        file="services.yaml",
        line=3,
        path="environments",
        hint="known environments: ai, dev",
    ),
    base(
        "slot-out-of-range",
        stack="ai-slot-4",
        message="slot 4 is out of range",
        file="services.yaml",
        line=2,
        path="maxSlots",
        hint="use a slot from 1 to 3",
    ),
    base("slot-zero", stack="ai-slot-0", message="slot 0 is out of range", path="codex:slot"),
    base("slot-env-without-slot", stack="ai", message="environment 'ai' needs a slot", path="codex:slot"),
    base(
        "unknown-mode",
        mode="fix",
        message="unknown mode 'fix'",
        path="codex:mode",
        hint="codex:mode in the stack config (or codexctl's --mode) is 'normal' or 'repair'",
    ),
    with_file(
        "repair-only-env-in-normal-mode",
        HEAD.replace("  ai: {}\n", "  ai: {}\n  ai-repair:\n    mode: repair\n"),
        stack="ai-repair",
        message="runs only in repair mode, not normal",
        file="services.yaml",
        line=7,
        path="environments.ai-repair.mode",
        hint="set codex:mode: repair in the stack config (stacks/Pulumi.ai-repair.yaml), or pass --mode repair",
    ),
    with_config(
        "slot-on-non-slot-env", {"codex:slot": "2"}, message="environment 'dev' has no slots", path="codex:slot"
    ),
    with_config(
        "unknown-env-from-config",
        {"codex:env": "qa"},
        message="means environment 'qa'",
        file="services.yaml",
        line=3,
        path="environments",
    ),
    with_config("slot-not-a-number", {"codex:slot": "three"}, stack="ai-slot-1", message="'three'", path="codex:slot"),
    with_config("vars-not-json", {"codex:vars": "{not json"}, message="JSON", path="codex:vars"),
    with_config(
        "namespace-override-invalid",
        {"codex:namespace": "Demo_NS"},
        message="namespace 'Demo_NS' is not a valid Kubernetes name",
        path="codex:namespace",
    ),
    with_config(
        "services-file-missing", {"codex:servicesFile": "service.yaml"}, message="file not found", file="service.yaml"
    ),
    base(
        "namespace-pattern-invalid",
        "namespace:\n  patterns:\n    dev: '{{ project }}_Dev'\n",
        message="namespace 'demo_Dev' is not a valid Kubernetes name",
        file="services.yaml",
        line=12,
        path="namespace.patterns.dev",
    ),
    base(
        "namespace-pattern-too-long",
        "namespace:\n  patterns:\n    dev: '{{ project }}-{{ \"x\" * 70 }}'\n",
        message="is not a valid Kubernetes name",
        file="services.yaml",
        line=12,
        path="namespace.patterns.dev",
        hint="at most 63 characters",
    ),
    # hooks
    base(
        "hook-bad-with-type",
        HOOK + "      use: sleep\n      with: {seconds: long}\n",
        message="bad parameters for sleep: with.seconds",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    base(
        "hook-unknown-with-key",
        HOOK + "      use: kubectl.wait\n      with: {kind: Deployment, name: db, timout: 5m}\n",
        message="with.timout: Extra inputs are not permitted",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    base(
        "hook-missing-with-key",
        HOOK + "      use: codex.reuse-dev-tls-secret\n",
        message="with.sourceNamespace: Field required",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    base(
        "hook-use-and-run",
        HOOK + "      use: sleep\n      run: sleep 1\n",
        message="exactly one of 'use'",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    base(
        "hook-neither-use-nor-run",
        HOOK + "      timeout: 5m\n",
        message="exactly one of 'use'",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    base(
        "hook-run-with-with",
        HOOK + "      run: echo hi\n      with: {seconds: 1}\n",
        message="'with' is for built-ins",
        file="services.yaml",
        line=12,
        path="hooks.beforeAll[0]",
    ),
    base(
        "hook-bad-timeout",
        HOOK + "      run: echo hi\n      timeout: soon\n",
        message="'soon' is not a duration",
        file="services.yaml",
        line=14,
        path="hooks.beforeAll[0].timeout",
    ),
    base(
        "hook-duplicate-step-names",
        HOOK + "      run: echo 1\n    - name: step\n      run: echo 2\n",
        message="hook step name 'step' is used twice in beforeAll",
        path="hooks.beforeAll[1]",
    ),
    base(
        "hook-wait-unknown-kind",
        HOOK + "      use: kubectl.wait\n      with: {kind: Widget, name: w}\n",
        message="kubectl.wait does not know kind 'Widget'",
        path="hooks.beforeAll[0].with",
        hint="give apiVersion and plural",
    ),
    # dangerous data paths
    base(
        "data-root-is-slash",
        "dataPaths:\n  root: /\n",
        message="data root '/' is not allowed",
        file="services.yaml",
        line=11,
        path="dataPaths.root",
    ),
    base(
        "data-root-slash-with-hook",
        "dataPaths:\n  root: /\n" + HOOK + "      use: codex.ensure-data-dirs\n",
        message="data root '/' is not allowed",
        file="services.yaml",
        line=11,
        path="dataPaths.root",  # rejected when the file loads, before any hook is planned
    ),
    base(
        "data-root-relative",
        "dataPaths:\n  root: data\n",
        message="data root 'data' is not allowed",
        file="services.yaml",
        line=11,
        path="dataPaths.root",
    ),
    base(
        "data-env-dir-outside-root",
        "dataPaths:\n  root: /srv/data\n  envDir: /etc\n",
        message="data folder '/etc' is not inside the data root '/srv/data'",
        file="services.yaml",
        line=12,
        path="dataPaths.envDir",
    ),
    base(
        "data-dirs-escape",
        HOOK + "      use: codex.ensure-data-dirs\n      with: {dirs: ['../../etc']}\n",
        message="leaves",
        path="hooks.beforeAll[0].with",
        hint="dirs are plain names",
    ),
    # MCP servers of the agent
    with_file(
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
    with_file(
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
    with_file(
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
    # one owner for what lies outside the project's namespaces (docs/security.md)
    base(
        "cluster-object-in-a-namespace-stack",
        "  - name: rbac\n    manifests:\n      - path: role.yaml\n",
        files={
            "role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: admin-ish\n"
        },
        message="ClusterRole/admin-ish of rbac is cluster-scoped",
        file="role.yaml",
        line=1,
        hint="add an environment with scope: cluster",
    ),
    with_file(
        "two-cluster-environments",
        """\
        project: demo
        environments:
          dev: {}
          cluster: {scope: cluster}
          platform: {scope: cluster}
        """,
        message="only one environment may have scope: cluster, not cluster, platform",
        file="services.yaml",
        line=2,
        path="environments",
    ),
    base(
        "network-policy-api-server-not-a-cidr",
        "security:\n  networkPolicy:\n    apiServer: [kubernetes.default]\n",
        message="'kubernetes.default' is not a CIDR",
        file="services.yaml",
        line=12,
        path="security.networkPolicy.apiServer",
        commands=("validate",),  # only slot stacks and the cluster stack (or validate) use security:
    ),
    base(
        "runner-service-account-without-namespace",
        "security:\n  runners:\n    - {kind: ServiceAccount, name: runner}\n",
        message="a ServiceAccount subject needs its namespace",
        file="services.yaml",
        line=12,
        path="security.runners[0]",
        commands=("validate",),  # only slot stacks and the cluster stack (or validate) use security:
    ),
]

CASES: list[Case] = sorted(
    [folder_case(folder) for folder in CASES_DIR.iterdir() if (folder / "case.yaml").is_file()] + TABLE + HOSTILE,
    key=lambda case: case.id,
)
BY_ID = {case.id: case for case in CASES}

Run = Command | str
"""A CLI command of the case, or ``program`` (the Pulumi program under the mocks)."""
PROGRAM = "program"


def _runs(case: Case) -> list[Run]:
    return [*case.commands, *([PROGRAM] if case.runs_program else [])]


# --- running the corpus --------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """One run of a case, and where its project was."""

    case: Case
    run: Run
    root: Path
    out: Path
    outcome: Outcome


def _cli_args(run: Run, case: Case, root: Path, out: Path) -> list[str]:
    if run == "prompt":
        return [
            "prompt", "render", "--stack", case.stack, "--kind", case.kind, "--issue", "1",
            "--project-dir", str(root), *(arg.replace("{root}", str(root)) for arg in case.prompt_args),
        ]  # fmt: skip
    if run == "repair-targets":
        return ["repair-targets", "--stack", case.stack, "--project-dir", str(root)]
    args = [str(run), "--stack", case.stack, "--mode", case.mode, "--project-dir", str(root)]
    return [*args, "--out", str(out)] if run == "preview" else args


def _job(case: Case, run: Run, where: Path, root: Path) -> Job:
    workdir = where / f"run-{run}"
    workdir.mkdir()
    program_root = where / "program" if case.has_program_folder else None
    unreadable = tuple(root / name for name in case.unreadable)
    if run == PROGRAM:
        config = {"codex:projectDir": str(root), "codex:mode": case.mode, **case.config}
        return Job("program", workdir, stack=case.stack, config=config, env=case.env, unreadable=unreadable)
    return Job(
        "cli",
        workdir,
        argv=_cli_args(run, case, root, workdir / "out"),
        config=case.config if run == "preview" else {},
        env=case.env,
        program_root=program_root,
        unreadable=unreadable,
    )


PREFETCH = 16
"""Runs prefetched per batch under pytest-xdist (``make test`` runs the suite on every CPU)."""


class Corpus:
    """Runs every selected (case, run) in one batch, in parallel forks of one zygote, on first use."""

    def __init__(self, wanted: list[tuple[str, str]], factory: pytest.TempPathFactory, zygote: Zygote) -> None:
        self._wanted = wanted
        self._factory = factory
        self._zygote = zygote
        self._ran: dict[tuple[str, str], Ran] = {}

    def get(self, case: Case, run: Run) -> Ran:
        key = (case.id, str(run))
        if key not in self._ran:
            batch = [key]
            if key in self._wanted:
                # the runs this session will ask for next, from this one on, in one parallel batch;
                # a pytest-xdist worker runs only some of them (the rest go to other workers), so
                # it prefetches a window instead of the whole corpus
                ahead = [item for item in self._wanted[self._wanted.index(key) :] if item not in self._ran]
                batch = ahead[: PREFETCH if os.environ.get("PYTEST_XDIST_WORKER") else len(ahead)]
            self._run(batch)
        return self._ran[key]

    def _run(self, keys: list[tuple[str, str]]) -> None:
        roots: dict[str, tuple[Path, Path]] = {}
        jobs: list[tuple[tuple[str, str], Job, Path, Path]] = []
        for case_id, run in keys:
            case = BY_ID[case_id]
            if case_id not in roots:
                where = self._factory.mktemp(case_id[:40])
                roots[case_id] = (where, case.materialize(where))
            where, root = roots[case_id]
            job = _job(case, run, where, root)
            jobs.append(((case_id, run), job, root, job.workdir / "out"))
        outcomes = self._zygote.run([job for _, job, _, _ in jobs], parallel=os.cpu_count() or 1)
        for (key, _, root, out), outcome in zip(jobs, outcomes, strict=True):
            self._ran[key] = Ran(BY_ID[key[0]], key[1], root, out, outcome)


@pytest.fixture(scope="session")
def zygote() -> Iterator[Zygote]:
    process = Zygote()
    yield process
    process.close()


@pytest.fixture(scope="session")
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, zygote: Zygote) -> Corpus:
    wanted = []
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if isinstance(params.get("case"), Case) and "run" in params:
            wanted.append((params["case"].id, str(params["run"])))
    return Corpus(wanted, tmp_path_factory, zygote)


# --- checks ------------------------------------------------------------------------------


def _where(root: Path, expect: Expect) -> str | None:
    if expect.file is None:
        return None
    file = os.path.normpath(root / expect.file)
    return f"{file}:{expect.line}: " if expect.line else f"{file}: "


def check_lines(case: Case, root: Path, stdout: str, stderr: str) -> list[str]:
    """One ``error:`` line per expected problem, in order, each with its message and location."""
    assert "Traceback" not in stdout + stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    expected = case.expected
    assert len(errors) == len(expected), f"expected {len(expected)} error line(s), got:\n{stderr}"
    for line, expect in zip(errors, expected, strict=True):
        assert expect.message in line, f"expected {expect.message!r} in {line!r}"
        assert expect.file or expect.path, "every problem names a location"
        where = _where(root, expect)
        if where is not None:
            assert where in line + " ", f"expected location {where!r} in {line!r}"
        if expect.path is not None:
            assert f" {expect.path}" in line, f"expected key path {expect.path!r} in {line!r}"
    if case.hidden:
        assert f"… and {case.hidden} more problem" in stderr, stderr
    else:
        assert "more problem" not in stderr, stderr
    if case.hint is not None:
        hints = [text for text in stderr.splitlines() if text.startswith("  hint: ")]
        assert any(case.hint in text for text in hints), f"expected hint {case.hint!r} in:\n{stderr}"
    if case.secret is not None:
        assert case.secret not in stdout + stderr, "a secret value was printed"
    return errors


def check_problems(case: Case, root: Path, meta: dict[str, object]) -> None:
    """The program's RunError carries the located CodexError(s), one per expected problem."""
    assert meta.get("raised") == "RunError", meta
    problems = meta.get("problems")
    assert isinstance(problems, list), f"not a CodexError behind the RunError: {meta}"
    assert len(problems) == len(case.expected) + case.hidden, problems
    for problem, expect in zip(problems, case.expected, strict=False):
        assert expect.message in problem["text"], (expect.message, problem["text"])
        if expect.file is not None:
            assert problem["file"] is not None, problem
            assert os.path.normpath(problem["file"]) == os.path.normpath(root / expect.file), problem
            assert problem["line"] == expect.line, problem
        if expect.path is not None:
            located = (problem["path"] or "").startswith(expect.path)
            assert located or f" {expect.path}" in problem["text"], (expect.path, problem)
        if case.secret is not None:
            assert case.secret not in problem["text"]


def check_limits(ran: Ran) -> None:
    outcome = ran.outcome
    assert not outcome.timed_out, f"{ran.case.id} {ran.run}: did not finish in {WALL_SECONDS} s (it hangs)"
    assert outcome.signal is None, f"{ran.case.id} {ran.run}: killed by signal {outcome.signal}\n{outcome.stderr}"
    assert outcome.max_rss < MAX_RSS_BYTES, f"peak RSS {outcome.max_rss >> 20} MB (limit {MAX_RSS_BYTES >> 20} MB)"
    assert outcome.elapsed < WALL_SECONDS


# --- tests -------------------------------------------------------------------------------


def test_the_corpus_is_big_and_well_formed() -> None:
    """At least 140 cases, unique ids, every one with a location and a command, and every class
    of issue 14 among them."""
    assert len(CASES) >= 140, len(CASES)
    assert len(BY_ID) == len(CASES)
    for case in CASES:
        for expect in case.expected:
            assert expect.file or expect.path, case.id
        assert case.commands, case.id
        assert not (case.config and set(case.commands) - {"preview"}), case.id
    for fragment in ("dev-zero", "fifo", "socket", "unreadable", "link-loop", "larger-than", "alias-bomb",
                     "merge-bomb", "nested-too-deep", "stack-name", "name-", "label-", "secret-", "namespace-",
                     "problems"):  # fmt: skip
        assert any(fragment in case.id for case in HOSTILE), fragment


@pytest.mark.parametrize(
    ("case", "run"),
    [pytest.param(case, run, id=f"{case.id}-{run}") for case in CASES for run in _runs(case)],
)
def test_bad_input(case: Case, run: Run, corpus: Corpus) -> None:
    """Exit 2, one located line per problem, no traceback, nothing written or registered; within
    the run's time and memory."""
    ran = corpus.get(case, run)
    outcome = ran.outcome
    check_limits(ran)
    if run == PROGRAM:
        assert outcome.status == 2, outcome.stderr
        check_problems(case, ran.root, outcome.meta)
    else:
        assert outcome.status == 2, f"exit {outcome.status}\n{outcome.stdout}\n{outcome.stderr}"
        check_lines(case, ran.root, outcome.stdout, outcome.stderr)
    assert outcome.meta.get("registrations") == 0, "the program registered resources for a bad input"
    assert not ran.out.exists(), "preview wrote files for a bad input"


def test_an_unreadable_file_is_really_unreadable(corpus: Corpus) -> None:
    """How the EACCES cases made their file unreadable: by the kernel wherever it can (say which)."""
    ran = corpus.get(BY_ID["services-unreadable"], "validate")
    how = ran.outcome.meta.get("unreadable_by")
    assert how in ("mode 000", "mode 000 in a user namespace", "EACCES injected at os.open (no user namespace here)")
    if os.geteuid() != 0:
        assert how == "mode 000"


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


SUBPROCESS_CASES = {
    "undefined-var-manifest": "preview",
    "k8s-wrong-type": "validate",
    "services-link-to-dev-zero": "preview",
    "services-fifo": "validate",
    "stack-name-with-a-control-character": "repair-targets",
    "several-problems-at-once": "preview",
}


@pytest.mark.parametrize(("case_id", "command"), sorted(SUBPROCESS_CASES.items()))
def test_console_script(case_id: str, command: Command, tmp_path: Path, corpus: Corpus) -> None:
    """The installed ``codexctl`` says exactly what the forked run said (and never hangs)."""
    case = BY_ID[case_id]
    root = case.materialize(tmp_path)
    out = tmp_path / "out"
    result = _console_script(_cli_args(command, case, root, out), timeout=30)
    assert result.returncode == 2, result.stderr
    lines = check_lines(case, root, result.stdout, result.stderr)
    assert not out.exists()
    forked = corpus.get(case, command)
    relocated = [line.replace(str(forked.root), str(root)) for line in forked.outcome.stderr.splitlines()]
    assert lines == [line for line in relocated if line.startswith("error:")]


PROMPT_KIND = Case(
    "prompt-unknown-kind",
    message="unknown prompt kind 'dev_isue'",
    path="--kind",
    hint="kinds: dev_issue",
    stack="ai-slot-1",
    kind="dev_isue",
)


def test_prompt_render_unknown_kind(tmp_path: Path, zygote: Zygote) -> None:
    """``codexctl prompt render`` with a kind no template exists for (the bundled example)."""
    workdir = tmp_path / "run"
    workdir.mkdir()
    argv = ["prompt", "render", "--stack", "ai-slot-1", "--kind", "dev_isue", "--issue", "7"]
    (outcome,) = zygote.run([Job("cli", workdir, argv=argv)])
    assert outcome.status == 2, outcome.stderr
    check_lines(PROMPT_KIND, tmp_path, outcome.stdout, outcome.stderr)


def test_the_base_project_is_good(tmp_path: Path, zygote: Zygote) -> None:
    """The control: the base project passes every command the corpus runs, in the same kind of
    forked run, so each failure is the case's (and the harness can tell success from failure)."""
    case = base("base", message="")
    root = case.materialize(tmp_path)
    jobs = [_job(case, run, tmp_path, root) for run in [*ALL_COMMANDS, PROGRAM]]
    for job, outcome in zip(jobs, zygote.run(jobs), strict=True):
        assert outcome.status == 0, f"{job.argv or 'program'}\n{outcome.stdout}\n{outcome.stderr}"
        assert not outcome.timed_out
