"""Hostile projects (issue 14): what an attacker or a careless user puts in a pull request.

Files that are not files (a link to /dev/zero, a FIFO, a socket, an unreadable file, a link
loop, a link out of the project), files and projects too big, YAML that explodes (aliases,
merges, nesting, sheer size), stack names no stack can have, and Kubernetes objects the API
server would refuse. Every one must end in exit 2 with one located line per problem, within the
limits of :mod:`tests.bad_inputs.isolation`. services.yaml content here is plain YAML (no
template statements), so it reads the same in every dialect of the file.
"""

from __future__ import annotations

from tests.bad_inputs.corpus import ALL_COMMANDS, HEAD, NS, WEB, Case, Expect, base, web, with_config

MIB = 1 << 20
LINK_OUT = "the symbolic link leaves the project folder"
FIFO = "not a regular file: a named pipe (FIFO)"
SOCKET = "not a regular file: a socket"
MANIFEST_PATH = "services[0].manifests[0].path"
PROGRAM = {"Pulumi.yaml": "name: codex\nruntime: python\nstackConfigDir: stacks\n"}
STACK_FILE = "../program/stacks/Pulumi.dev.yaml"
NOT_THE_STACKS = "is not the stack's namespace (demo-dev)"


def _alias_bomb(key: str, width: int = 10, levels: int = 9) -> str:
    """``width`` ** ``levels`` scalars in a few hundred bytes ("billion laughs")."""
    lines = [f"{key}:", f"  l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _merge_bomb(key: str, levels: int = 30) -> str:
    """Mappings that each merge the one before twice: the merged pairs double at every level."""
    lines = [f"{key}:", "  m0: &m0 {a: 1, b: 2}"]
    for level in range(1, levels):
        lines.append(f"  m{level}: &m{level}")
        lines.append(f"    <<: [*m{level - 1}, *m{level - 1}]")
        lines.append(f"    k{level}: {level}")
    return "\n".join(lines) + "\n"


def _deep_flow(key: str, depth: int) -> str:
    return f"{key}: " + "[" * depth + "]" * depth + "\n"


def _deep_block(depth: int) -> str:
    """A ConfigMap whose ``data`` hides a mapping ``depth`` levels deep."""
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n"
    return head + "".join("  " * (level + 1) + f"k{level}:\n" for level in range(depth)) + "  " * (depth + 1) + "x\n"


def _configmap(name: str, body: str = "", namespace: str | None = None) -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{ns}{body}"


def _secret(body: str) -> str:
    return f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\n{body}"


HOSTILE: list[Case] = [
    # --- files that are not (regular) files, or not ours --------------------------------------
    Case(
        "services-link-to-dev-zero",
        files={"ns.yaml": NS},
        links={"services.yaml": "/dev/zero"},
        message=LINK_OUT,
        file="services.yaml",
        hint="links may point only within it",
        commands=ALL_COMMANDS,
    ),
    with_config(
        "services-file-outside-the-project",
        {"codex:servicesFile": "/dev/zero"},
        message="the file is outside the project folder",
        file="/dev/zero",
    ),
    Case(
        "services-fifo",
        files={"ns.yaml": NS},
        fifos=("services.yaml",),
        message=FIFO,
        file="services.yaml",
        commands=ALL_COMMANDS,
    ),
    Case(
        "services-socket",
        files={"ns.yaml": NS},
        sockets=("services.yaml",),
        message=SOCKET,
        file="services.yaml",
        commands=ALL_COMMANDS,
    ),
    base(
        "services-unreadable",
        unreadable=("services.yaml",),
        message="permission denied",
        file="services.yaml",
        commands=ALL_COMMANDS,
    ),
    Case(
        "services-link-loop",
        files={"ns.yaml": NS},
        links={"services.yaml": "other.yaml", "other.yaml": "services.yaml"},
        message="too many levels of symbolic links",
        file="services.yaml",
        commands=ALL_COMMANDS,
    ),
    Case(
        "services-link-to-a-folder",
        files={"ns.yaml": NS, "real/services.yaml": HEAD},
        links={"services.yaml": "real"},
        message="expected a file, found a directory",
        file="services.yaml",
        commands=ALL_COMMANDS,
    ),
    base("manifest-fifo", WEB, fifos=("web.yaml",), message=FIFO, file="web.yaml", path=MANIFEST_PATH),
    base("manifest-socket", WEB, sockets=("web.yaml",), message=SOCKET, file="web.yaml", path=MANIFEST_PATH),
    web(
        "manifest-unreadable",
        _configmap("settings"),
        unreadable=("web.yaml",),
        message="permission denied",
        file="web.yaml",
        path=MANIFEST_PATH,
    ),
    base(
        "manifest-link-loop",
        WEB,
        links={"web.yaml": "web.yaml"},
        message="cannot be resolved (a symbolic link loop?)",
        path=MANIFEST_PATH,
    ),
    base(
        "manifest-link-to-dev-zero",
        WEB,
        links={"web.yaml": "/dev/zero"},
        message="manifest path 'web.yaml' leaves the project folder",
        path=MANIFEST_PATH,
    ),
    # --- too big ------------------------------------------------------------------------------
    base(
        "services-larger-than-the-file-limit",
        "#" * (8 * MIB) + "\n",
        message="the file is larger than 8 MiB",
        file="services.yaml",
        hint="CODEX_MAX_FILE_BYTES",
        commands=ALL_COMMANDS,
    ),
    web(
        "manifest-larger-than-the-file-limit",
        "#" * (8 * MIB + 1),
        message="the file is larger than 8 MiB",
        file="web.yaml",
        path=MANIFEST_PATH,
    ),
    base(
        "file-limit-from-the-environment",
        "#" * 5000 + "\n",
        env={"CODEX_MAX_FILE_BYTES": "4K"},  # Pulumi.yaml of the program is read under it too (2 KB)
        message="the file is larger than 4 KiB",
        file="services.yaml",
        commands=ALL_COMMANDS,
    ),
    base(
        "project-larger-than-its-limit",
        WEB + "  - name: db\n    manifests:\n      - path: db.yaml\n",
        files={"web.yaml": _configmap("web") + "#" * 10_000 + "\n", "db.yaml": _configmap("db") + "#" * 10_000 + "\n"},
        env={"CODEX_MAX_PROJECT_BYTES": "16K"},
        message="the project's files add up to more than 16 KiB with this one",
        file="db.yaml",
        path="services[1].manifests[0].path",
    ),
    base(
        "limit-that-is-not-a-size",
        env={"CODEX_MAX_FILE_BYTES": "lots"},
        message="must be a positive size in bytes, not 'lots'",
        path="CODEX_MAX_FILE_BYTES",
        commands=ALL_COMMANDS,
    ),
    # --- YAML that explodes -------------------------------------------------------------------
    base(
        "services-alias-bomb",
        _alias_bomb("x-bomb"),
        message="the YAML has more than 200000 nodes once its aliases are expanded",
        file="services.yaml",
        line=16,
        commands=ALL_COMMANDS,
    ),
    base(
        "services-merge-bomb",
        _merge_bomb("x-bomb"),
        message="the YAML has more than 200000 nodes once its aliases are expanded",
        file="services.yaml",
        line=52,
        commands=ALL_COMMANDS,
    ),
    base(
        "services-recursive-alias",
        "x-loop: &loop [a, *loop]\n",
        message="a YAML alias refers to a node that contains it",
        file="services.yaml",
        line=10,
        commands=ALL_COMMANDS,
    ),
    base(
        "services-nested-too-deep",
        _deep_flow("x-deep", 120),
        message="the YAML nests deeper than 100 levels",
        file="services.yaml",
        line=10,
        hint="CODEX_MAX_YAML_DEPTH",
        commands=ALL_COMMANDS,
    ),
    base(
        "services-too-many-nodes",
        "x-list:\n" + "".join(f"  - item{index}\n" for index in range(600)),
        env={"CODEX_MAX_YAML_NODES": "500"},
        message="the YAML has more than 500 nodes",
        file="services.yaml",
        line=488,
        hint="CODEX_MAX_YAML_NODES",
        commands=ALL_COMMANDS,
    ),
    web(
        "manifest-alias-bomb",
        _configmap("bomb") + _alias_bomb("data"),
        message="the YAML has more than 200000 nodes once its aliases are expanded",
        file="web.yaml",
        line=11,
    ),
    web(
        "manifest-merge-bomb",
        _configmap("bomb") + _merge_bomb("data"),
        message="the YAML has more than 200000 nodes once its aliases are expanded",
        file="web.yaml",
        line=47,
    ),
    web(
        "manifest-recursive-alias",
        _configmap("loop") + "data: &data {a: *data}\n",
        message="a YAML alias refers to a node that contains it",
        file="web.yaml",
        line=5,
    ),
    web(
        "manifest-nested-too-deep",
        _deep_block(110),
        message="the YAML nests deeper than 100 levels",
        file="web.yaml",
        line=105,
    ),
    web(
        "manifest-documents-share-the-node-limit",
        "\n---\n".join(
            _configmap(f"part{n}", "data:\n" + "".join(f"  k{i}: v\n" for i in range(100))) for n in range(3)
        ),
        env={"CODEX_MAX_YAML_NODES": "500"},
        message="the YAML has more than 500 nodes",
        file="web.yaml",
        line=253,
    ),
    # --- stack names (checked before anything is read) ----------------------------------------
    base(
        "stack-name-of-5000-characters",
        stack="s" * 5000,
        message="the stack name is 5000 characters long; Pulumi allows at most 100",
        path="--stack",
        commands=ALL_COMMANDS,
        program=False,
    ),
    base(
        "stack-name-with-a-control-character",
        stack="dev\x07",
        message="invalid character '\\x07' at position 4 of the stack name",
        path="--stack",
        hint="letters, digits, '-', '_' and '.'",
        commands=ALL_COMMANDS,
        program=False,
    ),
    base(
        "stack-name-with-a-newline",
        stack="dev\nrm -rf /",
        message="invalid character '\\n' at position 4 of the stack name",
        path="--stack",
        commands=ALL_COMMANDS,
        program=False,
    ),
    base(
        "stack-name-of-too-many-parts",
        stack="../../../etc",
        message="a stack name has at most three parts",
        path="--stack",
        commands=ALL_COMMANDS,
        program=False,
    ),
    base(
        "stack-name-empty",
        stack="",
        message="the stack name (or a part of it) is empty",
        path="--stack",
        commands=ALL_COMMANDS,
        program=False,
    ),
    base(
        "stack-name-not-ascii",
        stack="dév",
        message="invalid character 'é' at position 2",
        path="--stack",
        commands=ALL_COMMANDS,
        program=False,
    ),
    Case(
        "stack-name-is-checked-before-any-file",
        no_project=True,
        stack="dev slot",
        message="invalid character ' ' at position 4 of the stack name",
        path="--stack",
        commands=ALL_COMMANDS,
        program=False,
    ),
    # --- the program's own files: Pulumi.yaml and the stack file ------------------------------
    base(
        "stack-file-alias-bomb",
        program_files={**PROGRAM, "stacks/Pulumi.dev.yaml": "config:\n  codex:mode: normal\n" + _alias_bomb("x")},
        message="the YAML has more than 200000 nodes once its aliases are expanded",
        file=STACK_FILE,
        line=9,
        commands=ALL_COMMANDS,
        program=False,
    ),
    base(
        "stack-file-fifo",
        program_files=PROGRAM,
        program_fifos=("stacks/Pulumi.dev.yaml",),
        message=FIFO,
        file=STACK_FILE,
        commands=ALL_COMMANDS,
        program=False,
    ),
    base(
        "stack-file-links-out-of-the-program",
        program_files=PROGRAM,
        program_links={"stacks/Pulumi.dev.yaml": "/etc/hostname"},
        message=LINK_OUT,
        file=STACK_FILE,
        commands=ALL_COMMANDS,
        program=False,
    ),
    base(
        "pulumi-yaml-nested-too-deep",
        program_files={"Pulumi.yaml": "name: codex\n" + _deep_flow("x", 200)},
        message="the YAML nests deeper than 100 levels",
        file="../program/Pulumi.yaml",
        line=2,
        commands=ALL_COMMANDS,
        program=False,
    ),
    # --- prompt templates and the infrastructure report ---------------------------------------
    base(
        "prompt-template-fifo",
        fifos=("prompts/en/dev_issue.md.j2",),
        message=FIFO,
        file="prompts/en/dev_issue.md.j2",
        commands=("prompt",),
    ),
    base(
        "prompt-partial-links-to-dev-zero",
        links={"prompts/en/_rules.md.j2": "/dev/zero"},
        message=LINK_OUT,
        file="prompts/en/_rules.md.j2",
        commands=("prompt",),
    ),
    base(
        "prompt-template-larger-than-the-limit",
        files={"prompts/en/dev_issue.md.j2": "x" * (8 * MIB + 1)},
        message="the file is larger than 8 MiB",
        file="prompts/en/dev_issue.md.j2",
        commands=("prompt",),
    ),
    base(
        "infra-report-fifo",
        fifos=("report.json",),
        prompt_args=("--infra-report", "{root}/report.json"),
        kind="repair_issue",
        message=f"cannot read the infrastructure report: {FIFO}",
        file="report.json",
        commands=("prompt",),
    ),
    base(
        "infra-report-links-to-dev-zero",
        links={"report.json": "/dev/zero"},
        prompt_args=("--infra-report", "{root}/report.json"),
        kind="repair_issue",
        message="cannot read the infrastructure report: not a regular file: a character device",
        file="report.json",
        commands=("prompt",),
    ),
    base(
        "infra-report-nested-too-deep",
        files={"report.json": "[" * 100_000 + "]" * 100_000},
        prompt_args=("--infra-report", "{root}/report.json"),
        kind="repair_issue",
        message="the infrastructure report is not usable JSON: nested too deep",
        file="report.json",
        commands=("prompt",),
    ),
    base(
        "infra-report-number-of-5000-digits",
        files={"report.json": '{"healthy": false, "summary": ' + "9" * 5000 + "}"},
        prompt_args=("--infra-report", "{root}/report.json"),
        kind="repair_issue",
        message="the infrastructure report is not usable JSON: Exceeds the limit",
        file="report.json",
        commands=("prompt",),
    ),
    # --- what the API server refuses ----------------------------------------------------------
    web(
        "name-uppercase",
        _configmap("Settings"),
        message="ConfigMap/demo-dev/Settings: metadata.name: 'Settings' must be lowercase",
        file="web.yaml",
        line=4,
    ),
    web(
        "name-of-300-characters",
        _configmap("a" * 300),
        message=f"metadata.name: {'a' * 40!r}… (300 characters) must be at most 253 characters",
        file="web.yaml",
        line=4,
    ),
    web(
        "name-with-a-leading-dash",
        _configmap("-web"),
        message="metadata.name: '-web' must be lowercase letters, digits, '-' and '.', starting and ending with a",
        file="web.yaml",
        line=4,
    ),
    web(
        "service-name-starting-with-a-digit",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\nspec:\n  ports: [{port: 80}]\n",
        message="Service/demo-dev/1web: metadata.name: '1web' must be lowercase letters, digits and '-', starting",
        file="web.yaml",
        line=4,
    ),
    web(
        "cronjob-name-over-52-characters",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: " + "c" * 60 + "\nspec:\n  schedule: '@daily'\n"
        "  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}\n",
        message="must be at most 52 characters (its Jobs get an 11-character suffix)",
        file="web.yaml",
        line=4,
        path="metadata.name",
    ),
    web(
        "job-name-over-63-characters",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: " + "j" * 70 + "\nspec:\n"
        "  template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}\n",
        message="must be at most 63 characters (it is also the value of its pods' job-name label)",
        file="web.yaml",
        line=4,
        path="metadata.name",
    ),
    web(
        "label-value-with-a-space",
        _configmap("web").replace("  name: web\n", "  name: web\n  labels:\n    app: web app\n"),
        message="metadata.labels.app: label value 'web app' must be empty or letters",
        file="web.yaml",
        line=6,
    ),
    web(
        "label-value-of-64-characters",
        _configmap("web").replace("  name: web\n", "  name: web\n  labels:\n    app: " + "v" * 64 + "\n"),
        message="metadata.labels.app: label value",
        file="web.yaml",
        line=6,
    ),
    web(
        "label-value-not-a-string",
        _configmap("web").replace("  name: web\n", "  name: web\n  labels:\n    version: 1.0\n"),
        message="metadata.labels.version: a label value must be a string, not a number (quote it)",
        file="web.yaml",
        line=6,
    ),
    web(
        "label-key-with-two-slashes",
        _configmap("web").replace("  name: web\n", "  name: web\n  labels:\n    a/b/c: x\n"),
        message="label key 'a/b/c' may have at most one '/'",
        file="web.yaml",
        line=6,
    ),
    web(
        "pod-template-label-value",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  selector:\n    matchLabels: {app: web}\n"
        "  template:\n    metadata:\n      labels:\n        app: web\n        tier: -front\n"
        "    spec:\n      containers: [{name: web, image: nginx}]\n",
        message="Deployment/demo-dev/web: spec.template.metadata.labels.tier: label value '-front'",
        file="web.yaml",
        line=12,
    ),
    web(
        "annotation-key-invalid",
        _configmap("web").replace("  name: web\n", "  name: web\n  annotations:\n    'bad key!': x\n"),
        message="metadata.annotations.bad key!: annotation key 'bad key!'",
        file="web.yaml",
        line=6,
    ),
    web(
        "annotation-value-not-a-string",
        _configmap("web").replace("  name: web\n", "  name: web\n  annotations:\n    replicas: 3\n"),
        message="metadata.annotations.replicas: an annotation value must be a string, not a number",
        file="web.yaml",
        line=6,
    ),
    web(
        "secret-data-not-base64",
        _secret("data:\n  TOKEN: hunter2-plain!\n"),
        message="Secret/demo-dev/api: data.TOKEN: is not valid base64",
        file="web.yaml",
        line=6,
        hint="put plain text under stringData",
        secret="hunter2-plain!",
    ),
    web(
        "secret-stringdata-not-a-string",
        _secret("stringData:\n  TOKEN: [s3cr3t-item, other]\n"),
        message="Secret/demo-dev/api: stringData.TOKEN: must be a string, not a list",
        file="web.yaml",
        line=6,
        secret="s3cr3t-item",
    ),
    web(
        "secret-data-key-invalid",
        _secret("data:\n  my key: aGk=\n"),
        message="data.my key: key 'my key' must be letters, digits, '-', '_' and '.'",
        file="web.yaml",
        line=6,
    ),
    web(
        "configmap-data-not-a-string",
        _configmap("web", "data:\n  PORT: 8080\n"),
        message="ConfigMap/demo-dev/web: data.PORT: must be a string, not a number",
        file="web.yaml",
        line=6,
    ),
    web(
        "configmap-key-in-data-and-binarydata",
        _configmap("web", "binaryData:\n  a: aGk=\ndata:\n  a: hi\n"),
        message="data.a: key 'a' is in both binaryData and data",
        file="web.yaml",
        line=8,
    ),
    # --- namespaces ---------------------------------------------------------------------------
    web(
        "namespace-outside-the-stack",
        _configmap("coredns", namespace="kube-system"),
        message=f"ConfigMap/kube-system/coredns: metadata.namespace: 'kube-system' {NOT_THE_STACKS}",
        file="web.yaml",
        line=5,
        hint="namespaces: [kube-system]",
    ),
    web(
        "namespace-not-a-name",
        _configmap("web", namespace="Kube_System"),
        message="metadata.namespace: 'Kube_System' must be lowercase letters",
        file="web.yaml",
        line=5,
    ),
    web(
        "namespace-object-other-than-the-stacks",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: monitoring\n",
        message="Namespace/monitoring: metadata.name: creates namespace 'monitoring', not the stack's (demo-dev)",
        file="web.yaml",
        line=4,
    ),
    base(
        "namespace-declared-is-another",
        WEB + "    namespaces: [monitoring]\n",
        files={"web.yaml": _configmap("coredns", namespace="kube-system")},
        message=f"'kube-system' {NOT_THE_STACKS}",
        file="web.yaml",
        line=5,
    ),
    # --- every problem of a pass, each with its line ------------------------------------------
    web(
        "several-problems-at-once",
        _configmap("Settings")
        + "---\n"
        + _secret("data:\n  TOKEN: not base64!\n")
        + "---\n"
        + _configmap("coredns", "data:\n  PORT: 53\n", namespace="kube-system"),
        message="ConfigMap/demo-dev/Settings: metadata.name",
        file="web.yaml",
        line=4,
        more=(
            Expect("Secret/demo-dev/api: data.TOKEN: is not valid base64", "web.yaml", 11),
            Expect(
                f"ConfigMap/kube-system/coredns: metadata.namespace: 'kube-system' {NOT_THE_STACKS}", "web.yaml", 17
            ),
            Expect("ConfigMap/kube-system/coredns: data.PORT: must be a string, not a number", "web.yaml", 19),
        ),
        secret="not base64!",
    ),
    web(
        "more-problems-than-are-shown",
        "---\n".join(_configmap(f"Cm{index}") for index in range(23)),
        message="ConfigMap/demo-dev/Cm0: metadata.name",
        file="web.yaml",
        line=4,
        more=tuple(
            Expect(f"ConfigMap/demo-dev/Cm{index}: metadata.name", "web.yaml", 4 + 5 * index) for index in range(1, 20)
        ),
        hidden=3,
    ),
    web(
        "validate-lists-every-schema-problem",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: two\n"
        "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers:\n        - name: web\n          image: nginx\n          portz: []\n",
        message="Deployment/demo-dev/web: spec.replicas: must be of type integer",
        file="web.yaml",
        line=6,
        more=(Expect("spec.template.spec.containers.0: unknown field 'portz'", "web.yaml", 16),),
        commands=("validate",),
    ),
]
