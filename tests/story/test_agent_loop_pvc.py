"""The agent's loop with its workspace on a PersistentVolumeClaim (``codex.workspace.source: pvc``),
end to end and offline: issue → slot → up (the claim and the clone init container) → the pod's
workspace → the agent's edit → deliver through the Kubernetes API → pull request → a foreign
commit stops deliver → cleanup; and deliver's one line when the agent's pod is not there.

Real things where they exist here: git (a bare remote in a temporary folder, the runner's checkout
cloned from it, the init container's own clone script), ``sh``/``tar``/``base64`` standing for the
agent image's. Doubles for the rest (tests/story/test_agent_loop.py names them). The cluster's side
of ``pulumi up`` — the objects applied, the Deployment controller and the kubelet starting the pod,
its init container cloning into the claim — is :class:`Cluster` below: it takes the Deployment and
the claim exactly as the program rendered them (the Pulumi double's checkpoint), resolves the
init container's ``secretKeyRef`` from the Secret as the kubelet does, and runs the rendered
command. Exec into the agent's pod runs for real in the claim's folder
(tests/support/kube_double.py, ``ContainerFiles``), streamed over the WebSocket exec protocol.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from codex_stacks.cli.app import app
from tests.ci.conftest import PROJECT, REPOSITORY, PulumiDouble
from tests.story.test_agent_loop import CANARY, agent_edits, maintainer_commit
from tests.support.github_double import GithubDouble
from tests.support.gitrepos import git, publish
from tests.support.kube_double import ContainerFiles, KubeDouble, secret

runner = CliRunner()
FAST = ["--backoff", "0.01", "--cancel-grace", "1"]
"""The agent's OpenAI key as the workflow passes it: it must never reach a commit or a comment."""
GH_TOKEN = "ghs-canary-token-2b9e4f"
"""The runner's job token (may push): never in the cluster, a commit or a comment."""
PAT = "github_pat_canary_8c1d7e"
"""The token the init container clones with: in the slot's Secret only, reaching the pod as a secretKeyRef."""
REPOSITORY_URL = "https://github.com/acme/shop.git"
NAMESPACE = "project-example-dev-1"
DELIVER_RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]},
]
"""What ``ci deliver`` needs of the slot's namespace in pvc mode, and nothing more."""


def git_bytes(folder: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=True, timeout=60).stdout


def every_blob(remote: Path) -> bytes:
    """The content of every object of the remote (all branches, all history)."""
    listing = git(remote, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)")
    blobs = [line.split()[0] for line in listing.splitlines() if line.endswith(" blob")]
    return b"\n".join(git_bytes(remote, "cat-file", "blob", sha) for sha in blobs)


def strings_of(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item)
    elif value is not None:
        yield str(value)


@dataclass
class InitLog:
    """An init container's output (the kubelet keeps it as the container's log)."""

    chunks: list[bytes] = field(default_factory=list)

    def write(self, channel: int, data: bytes) -> None:
        self.chunks.append(data)


@dataclass
class Cluster:
    """The cluster's side of ``pulumi up`` for the agent, on the Kubernetes double.

    ``apply`` stores the rendered claim and Deployment (as the Kubernetes provider would), the
    Secret the ``ensure-codex-secrets`` hook writes, then does what the Deployment controller and
    the kubelet do: a pod from the template when the template changed, its init containers run in
    order with their environment resolved (``value``, or ``secretKeyRef`` read from the Secret: a
    missing Secret or key keeps the pod Pending, CreateContainerConfigError), then Running and
    Ready, and the Deployment's status rolled out. The claim is a folder that outlives pods.
    """

    kube: KubeDouble
    root: Path
    remote: Path
    pods: int = 0
    template: Any = None
    pod: str | None = None
    init_runs: list[dict[str, str]] = field(default_factory=list)
    """The resolved environment of every init container run."""

    @property
    def claim(self) -> Path:
        return self.root / "claims" / "codex-workspace"

    def apply(self, resources: list[dict[str, Any]]) -> dict[str, Any]:
        deployment = self._rendered(resources, "kubernetes:apps/v1:Deployment", "codex")
        claim = self._rendered(resources, "kubernetes:core/v1:PersistentVolumeClaim", "codex-workspace")
        if NAMESPACE not in self.kube.namespaces():
            # a new namespace: its claim is a new, empty volume (cleanup deleted the old one)
            shutil.rmtree(self.claim, ignore_errors=True)
            self.template = None
            self.pod = None
            self.kube.create_namespace(NAMESPACE)
            self.kube.bind("ci-runner", DELIVER_RULES, namespace=NAMESPACE, name="ci-deliver")
            self.kube.seed(secret(NAMESPACE, "github-secret", {"CODEX_GH_PAT": PAT}))
            self.kube.seed({**claim, "metadata": {**claim["metadata"], "namespace": NAMESPACE}})
        self.claim.mkdir(parents=True, exist_ok=True)
        path = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/codex"
        if self.kube.object(path) is None:
            self.kube.seed({**deployment, "metadata": {**deployment["metadata"], "namespace": NAMESPACE}})
        template = deployment["spec"]["template"]
        if template != self.template:
            self.template = copy.deepcopy(template)
            self._start_pod(template)
        self.kube.update_status(
            path,
            {"observedGeneration": 99, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1},
        )
        return deployment

    @staticmethod
    def _rendered(resources: list[dict[str, Any]], type_: str, name: str) -> dict[str, Any]:
        found = [r for r in resources if r["type"] == type_ and (r["inputs"].get("metadata") or {}).get("name") == name]
        assert len(found) == 1, [r["urn"] for r in resources if r["type"] == type_]
        return dict(found[0]["inputs"])

    def _env(self, container: dict[str, Any]) -> dict[str, str]:
        env: dict[str, str] = {}
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = str(item["value"])
                continue
            ref = item["valueFrom"]["secretKeyRef"]
            stored = self.kube.object(f"/api/v1/namespaces/{NAMESPACE}/secrets/{ref['name']}")
            data = (stored or {}).get("data") or {}
            if ref["key"] not in data:
                assert ref.get("optional"), f"CreateContainerConfigError: {ref} missing"
                continue
            env[item["name"]] = base64.b64decode(data[ref["key"]]).decode()
        return env

    def _files(self, container: dict[str, Any], pod: str, *, env: dict[str, str]) -> ContainerFiles:
        volumes = {v["name"]: v for v in self.template["spec"].get("volumes") or []}
        mounts = {}
        for mount in container.get("volumeMounts") or []:
            volume = volumes[mount["name"]]
            assert "persistentVolumeClaim" in volume, f"{mount['name']}: only the claim is modelled here"
            mounts[mount["mountPath"]] = self.root / "claims" / volume["persistentVolumeClaim"]["claimName"]
        return ContainerFiles(
            root=self.root / "pods" / pod / container["name"],
            mounts=mounts,
            env=env,
            working_dir=container.get("workingDir") or "/",
            timeout=60,
        )

    def _start_pod(self, template: dict[str, Any]) -> None:
        if self.pod is not None:
            self.kube.store.pop(("", "pods", NAMESPACE, self.pod), None)
        self.pods += 1
        digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
        name = f"codex-{digest}-{self.pods}"
        spec = template["spec"]
        for init in spec.get("initContainers") or []:
            env = self._env(init)
            self.init_runs.append(env)
            # the network: the clone URL reaches the bare remote (git's own url.<base>.insteadOf)
            files = self._files(init, name, env=env)
            files.env = {
                **env,
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": f"url.{self.remote.as_uri()}.insteadOf",
                "GIT_CONFIG_VALUE_0": REPOSITORY_URL,
            }
            log = InitLog()
            result = files.run(init["command"], send=log.write)
            assert result.exit_code == 0, b"".join(log.chunks).decode()
        self.kube.seed(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": NAMESPACE, "labels": dict(template["metadata"]["labels"])},
                "spec": copy.deepcopy(spec),
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
            }
        )
        main = spec["containers"][0]
        self.kube.serve_files(NAMESPACE, name, main["name"], self._files(main, name, env={}))
        self.pod = name


@dataclass
class Story:
    remote: Path
    checkout: Path
    github: GithubDouble
    pulumi: PulumiDouble
    kube: KubeDouble
    cluster: Cluster
    tmp: Path

    @property
    def workspace(self) -> Path:
        """The agent's /workspace: the claim's folder."""
        return self.cluster.claim

    def ci(self, *args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["ci", *args])
        return result.exit_code, result.output

    def up(self) -> dict[str, Any]:
        code, output = self.ci("up", "--stack", "ai-slot-1", "--issue", "5", *FAST)
        assert code == 0, output
        return self.cluster.apply(self.pulumi.resources("ai-slot-1"))

    def remote_tree(self, branch: str) -> dict[str, bytes]:
        names = git(self.remote, "ls-tree", "-r", "--name-only", "-z", branch).split("\0")
        return {name: git_bytes(self.remote, "show", f"{branch}:{name}") for name in names if name}


PVC_WORKSPACE = f"""    source: pvc
    pvc:
      repositoryUrl: {REPOSITORY_URL}
      token: {{name: github-secret, key: CODEX_GH_PAT}}
"""


@pytest.fixture
def story(
    tmp_path: Path, pulumi_double: PulumiDouble, kube_api: KubeDouble, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Story]:
    seed = tmp_path / "seed"
    shutil.copytree(PROJECT, seed / "project", ignore=shutil.ignore_patterns(".data", ".github"))
    services = seed / "project" / "services.yaml"
    text = services.read_text()
    example = '    source: hostPath\n    codeRoot: "{{ code_root }}"\n'
    overlay = (
        "      ai:\n        hostMounts:\n          - name: code-src\n"
        '            hostPath: "{{ code_root }}/{{ slot }}/src"\n            mountPath: /workspace\n'
    )
    assert example in text
    assert overlay in text
    services.write_text(text.replace(example, PVC_WORKSPACE, 1).replace(overlay, "", 1))
    (seed / "app.txt").write_text("hello\n")
    (seed / ".gitignore").write_text("*.log\n")
    remote, checkout = publish(seed, tmp_path)
    runner_dir = tmp_path / "runner"
    runner_dir.mkdir()
    monkeypatch.chdir(runner_dir)  # the job's working folder: deliver keeps .codex-ci/ there
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.setenv("CODEX_GH_PAT", PAT)
    monkeypatch.setenv("CODEX_PROJECT_DIR", str(checkout / "project"))
    monkeypatch.setenv("CODEX_SOURCE_DIR", str(checkout))
    with GithubDouble(repos={REPOSITORY: 42}) as github:
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        github.add_issue(REPOSITORY, 5, title="The greeting is rude")
        cluster = Cluster(kube_api, tmp_path / "cluster", remote)
        yield Story(remote, checkout, github, pulumi_double, kube_api, cluster, tmp_path)


def test_the_agent_loop_with_a_pvc_workspace(story: Story) -> None:
    base = story.remote_tree("main")

    # issue labelled → slot claimed
    code, output = story.ci("ensure-slot", "--issue", "5")
    assert code == 0, output
    assert "ai-slot-1" in output

    # up: the claim and the clone init container; the token only as a secretKeyRef
    deployment = story.up()
    claim = story.cluster._rendered(
        story.pulumi.resources("ai-slot-1"), "kubernetes:core/v1:PersistentVolumeClaim", "codex-workspace"
    )
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    pod_spec = deployment["spec"]["template"]["spec"]
    [init] = pod_spec["initContainers"]
    token = [item for item in init["env"] if item["name"] == "CODEX_GIT_TOKEN"]
    assert token == [
        {"name": "CODEX_GIT_TOKEN", "valueFrom": {"secretKeyRef": {"name": "github-secret", "key": "CODEX_GH_PAT"}}}
    ]
    assert {"name": "codex-workspace", "persistentVolumeClaim": {"claimName": "codex-workspace"}} in pod_spec["volumes"]
    assert all("hostPath" not in volume for volume in pod_spec["volumes"])
    texts = list(strings_of(deployment))
    for value in (PAT, GH_TOKEN, CANARY):
        assert not [text for text in texts if value in text]
    comments = story.github.comments_of(REPOSITORY, 5)
    assert len(comments) == 1
    assert NAMESPACE in comments[0].body

    # the pod's workspace: the init container cloned the repository with the Secret's token
    assert story.cluster.init_runs[0]["CODEX_GIT_TOKEN"] == PAT
    assert (story.workspace / "app.txt").read_text() == "hello\n"
    assert git(story.workspace, "rev-parse", "HEAD").strip() == git(story.remote, "rev-parse", "main").strip()
    assert PAT not in (story.workspace / ".git" / "config").read_text()

    # the agent edits → deliver through the Kubernetes API → the branch and the pull request
    agent_edits(story.workspace, greeting="good morning", title="Make the greeting kind")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 0, output
    tree = story.remote_tree("codex/issue-5")
    assert tree == {**base, "app.txt": b"good morning\n"}
    assert CANARY.encode() not in every_blob(story.remote)
    assert PAT.encode() not in every_blob(story.remote)
    [pull] = story.github.pulls(REPOSITORY)
    assert (pull.title, pull.head, pull.base) == ("Make the greeting kind", "codex/issue-5", "main")
    assert "Closes #5" in pull.body
    assert story.github.count("POST", "/pulls") == 1
    assert {call.pod for call in story.kube.execs} == {story.cluster.pod}

    # the workflow's reconcile after the agent's run (--no-sync), in a job of its own (a fresh checkout:
    # its stack file does not hold the branch an earlier job set), keeps the branch: no pod restart
    stack_file = story.pulumi.program / "stacks" / "Pulumi.ai-slot-1.yaml"
    settings = yaml.safe_load(stack_file.read_text())
    assert settings["config"].pop("codex:branch") == "codex/issue-5"
    stack_file.write_text(yaml.safe_dump(settings))
    code, output = story.ci("up", "--stack", "ai-slot-1", "--issue", "5", "--no-sync", *FAST)
    assert code == 0, output
    reconciled = story.cluster.apply(story.pulumi.resources("ai-slot-1"))
    [init] = reconciled["spec"]["template"]["spec"]["initContainers"]
    assert {"name": "CODEX_BRANCH", "value": "codex/issue-5"} in init["env"]
    assert story.cluster.pods == 1

    # a re-run: the same pod keeps the agent's work; the same comment edited, the pull request updated
    story.github.settle()
    story.up()
    assert story.cluster.pods == 1
    assert len(story.github.comments_of(REPOSITORY, 5)) == 1
    assert story.github.count("PATCH", "/issues/comments/") == 2  # the reconcile and the re-run edited it
    agent_edits(story.workspace, greeting="good morning, friend", title="Make the greeting kinder")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 0, output
    assert story.remote_tree("codex/issue-5") == {**base, "app.txt": b"good morning, friend\n"}
    assert story.github.count("POST", "/pulls") == 1
    assert story.github.count("PATCH", f"/pulls/{pull.number}") == 1
    assert story.github.pulls(REPOSITORY)[0].title == "Make the greeting kinder"

    # a foreign commit on the branch: deliver stops with a comment, the commit stays
    foreign = maintainer_commit(
        story.remote,
        story.tmp / "someone",
        branch="codex/issue-5",
        files={"app.txt": "hi from a maintainer\n"},
        message="maintainer fix",
    )
    (story.workspace / "app.txt").write_text("agent again\n")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 1
    assert "delivery stopped" in output
    assert git(story.remote, "rev-parse", "codex/issue-5").strip() == foreign
    stops = [c for c in story.github.comments_of(REPOSITORY, 5) if "delivery stopped" in c.body]
    assert len(stops) == 1
    # the same on a fresh runner, which has no record of what was delivered (the trailer rule)
    shutil.rmtree(".codex-ci")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 1
    assert "delivery stopped" in output
    assert git(story.remote, "rev-parse", "codex/issue-5").strip() == foreign
    for comment in story.github.comments_of(REPOSITORY, 5):
        assert CANARY not in comment.body
        assert PAT not in comment.body

    # the issue is closed → cleanup
    code, output = story.ci("cleanup", "--issue", "5", "--namespace-timeout", "5s")
    assert code == 0, output
    assert NAMESPACE not in story.kube.namespaces()
    code, output = story.ci("find-slot", "--issue", "5")
    assert code == 0
    assert output.strip() == ""

    # the issue is labelled again: a fresh claim's clone is on the issue's branch at its tip (the
    # maintainer's commit included), so the agent builds on it and deliver does not undo it
    code, output = story.ci("ensure-slot", "--issue", "5")
    assert code == 0, output
    story.up()
    assert git(story.workspace, "symbolic-ref", "HEAD").strip() == "refs/heads/codex/issue-5"
    assert git(story.workspace, "rev-parse", "HEAD").strip() == foreign
    assert (story.workspace / "app.txt").read_text() == "hi from a maintainer\n"
    (story.workspace / "NOTES.md").write_text("kept the maintainer's greeting\n")
    shutil.rmtree(".codex-ci", ignore_errors=True)  # a fresh runner: no record, the workspace's HEAD counts
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 0, output
    assert story.remote_tree("codex/issue-5") == {
        **base,
        "app.txt": b"hi from a maintainer\n",
        "NOTES.md": b"kept the maintainer's greeting\n",
    }
    assert git(story.remote, "rev-parse", "codex/issue-5^").strip() == foreign


def error_lines(output: str) -> list[str]:
    """What deliver printed from its error on: the error and anything after it."""
    lines = output.splitlines()
    first = next((n for n, line in enumerate(lines) if line.startswith("error:")), len(lines))
    return lines[first:]


def test_deliver_without_a_running_agent_pod_says_so_in_one_line(story: Story) -> None:
    code, output = story.ci("ensure-slot", "--issue", "5")
    assert code == 0, output
    story.up()
    agent_edits(story.workspace, greeting="good morning", title="Make the greeting kind")

    # the pod is there but not running (its node went away, it is being rescheduled)
    path = f"/api/v1/namespaces/{NAMESPACE}/pods/{story.cluster.pod}"
    story.kube.update_status(path, {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]})
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 1, output
    [line] = error_lines(output)
    assert "deployment/codex" in line
    assert NAMESPACE in line
    assert "ready" in line
    assert "Traceback" not in output
    assert story.kube.execs == []

    # the Deployment is gone (the slot was cleaned up): no waiting for it to come back
    story.kube.store.pop(("apps", "deployments", NAMESPACE, "codex"))
    reads = story.kube.count("GET", "/deployments/codex")
    code, output = story.ci("deliver", "--stack", "ai-slot-1", "--issue", "5")
    assert code == 1, output
    [line] = error_lines(output)
    assert f"deployment/codex does not exist in namespace {NAMESPACE}" in line
    assert "Traceback" not in output
    assert story.kube.count("GET", "/deployments/codex") - reads == 1

    # nothing was pushed, nothing was commented on as delivered
    assert "codex/issue-5" not in git(story.remote, "branch", "--list")
    assert story.github.pulls(REPOSITORY) == []
