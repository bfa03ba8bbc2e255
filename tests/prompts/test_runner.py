"""``run_prompt`` against a loopback Kubernetes API double: what it waits for, writes, runs and returns."""

from __future__ import annotations

import io
import json
import time
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_stacks.errors import CodexError
from codex_stacks.prompts import runner
from codex_stacks.prompts.runner import prepare, run_prompt
from tests.prompts.conftest import EXAMPLE, copy_example
from tests.prompts.kube_double import AgentScript, Cluster, KubeDouble, free_port, self_signed_context

NAMESPACE = "project-example-dev-3"
OTHERS = ("django-backend", "chat-backend", "web-frontend", "jaeger", "postgres")


class TimedOut(io.StringIO):
    """A stream that remembers when each piece arrived: streaming means pieces arrive apart."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        self.times.append((time.monotonic(), text))
        return super().write(text)


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "POLL_INTERVAL", 0.02)


def serve(cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeDouble]:
    with KubeDouble(cluster) as double:
        monkeypatch.setenv("KUBECONFIG", str(double.kubeconfig(tmp_path / "kubeconfig")))
        yield double


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(namespace=NAMESPACE, deployments={"codex": 2, **dict.fromkeys(OTHERS)})


@pytest.fixture
def double(cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeDouble]:
    yield from serve(cluster, tmp_path, monkeypatch)


def test_waits_only_for_the_agent_writes_prompt_and_config_and_runs_codex(double: KubeDouble) -> None:
    cluster = double.cluster
    out = io.StringIO()
    code = run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=out)
    assert code == 0
    # the other Deployments never become ready, and nobody asked about them
    assert cluster.reads == ["deployment/codex"] * 3 + ["pods"]
    # config, then prompt, then the agent: all in the newest ready pod's codex container
    # (the prompt is longer than one WRITE_CHUNK: truncated by its first chunk, appended to by the rest)
    assert {pod for pod, _, _ in cluster.execs} == {"codex-new"}
    assert {container for _, container, _ in cluster.execs} == {"codex"}
    writes, (_, _, agent) = cluster.execs[:-1], cluster.execs[-1]
    assert [command[:2] + command[3:6] for _, _, command in writes[:2]] == [
        ["sh", "-c", "codexctl-write", "config", "truncate"],
        ["sh", "-c", "codexctl-write", "prompt", "truncate"],
    ]
    assert [command[3:6] for _, _, command in writes[2:]] == [["codexctl-write", "prompt", "append"]] * (
        len(writes) - 2
    )
    assert agent[:2] + agent[3:5] == ["sh", "-c", "codexctl-run", "/tmp/codexctl/prompt.md"]
    assert 3500 <= int(agent[5]) <= 3600  # the in-pod bound: what is left of codex.timeouts.exec (60m)
    _, prompt, config = prepare(
        stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, pr=None, lang=None, infra_report=None
    )
    assert cluster.files["prompt"].decode() == prompt.text
    assert "#42" in prompt.text
    assert NAMESPACE in prompt.text
    assert prompt.lang == "ru"  # codex.promptLang of the example
    assert cluster.files["config"].decode() == config
    assert tomllib.loads(config)["mcp_servers"]["context7"]["bearer_token_env_var"] == "CONTEXT7_API_KEY"
    assert out.getvalue() == "working\ndone\n"


def test_the_scripts_run_in_a_real_shell_write_the_files_and_feed_the_prompt_to_codex(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pod runs the exec commands for real (sh, base64, timeout): the prompt arrives whole even
    in many chunks, config.toml lands in $HOME/.codex, and codex reads the prompt on stdin in the workspace."""
    monkeypatch.setattr(runner, "WRITE_CHUNK", 400)
    pod = tmp_path / "pod"
    cluster = Cluster(namespace=NAMESPACE, deployments={"codex": 0}, pod_root=pod)
    out = io.StringIO()
    for _ in serve(cluster, tmp_path, monkeypatch):
        code = run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=out)
    assert code == 0
    assert out.getvalue() == "codex ran\n"
    prompt = (pod / "tmp" / "codexctl" / "prompt.md").read_text(encoding="utf-8")
    assert len([1 for _, _, command in cluster.execs if command[4:5] == ["prompt"]]) > 3
    assert "#42" in prompt
    assert NAMESPACE in prompt
    _, expected, _ = prepare(
        stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, pr=None, lang=None, infra_report=None
    )
    assert prompt == expected.text
    config = tomllib.loads((pod / "home" / ".codex" / "config.toml").read_text(encoding="utf-8"))
    assert config["model"] == "gpt-5-codex"  # examples/project-example/services.yaml
    call = json.loads((pod / "codex-call.json").read_text(encoding="utf-8"))
    assert call["argv"] == ["exec", "--dangerously-bypass-approvals-and-sandbox", "--skip-git-repo-check", "-"]
    assert call["stdin"] == prompt
    assert call["cwd"] == str(pod / "workspace")


def test_repair_kinds_run_the_repair_prompt_with_the_report(double: KubeDouble) -> None:
    from codex_stacks.prompts import InfraReport

    report = InfraReport(healthy=False, failed=[{"component": "data-services", "reason": "postgres crashloop"}])
    code = run_prompt(
        stack="ai-slot-3",
        kind="repair_issue",
        project_dir=EXAMPLE,
        issue=42,
        lang="en",
        infra_report=report,
        out=io.StringIO(),
    )
    assert code == 0
    prompt = double.cluster.files["prompt"].decode()
    assert "mode `repair`" in prompt
    assert "postgres crashloop" in prompt
    assert "codexctl repair-targets --stack ai-slot-3" in prompt


def test_the_agent_output_is_streamed_and_a_failing_exit_status_returned(double: KubeDouble) -> None:
    double.cluster.agent = AgentScript(
        chunks=[(1, "step 1\n"), (2, "warning: flaky test\n"), (1, "step 2\n")], exit_code=3, pause=0.3
    )
    out = TimedOut()
    code = run_prompt(stack="ai-slot-3", kind="dev_review", project_dir=EXAMPLE, pr=7, out=out)
    assert code == 3
    assert out.getvalue() == "step 1\nwarning: flaky test\nstep 2\n"
    first, last = out.times[0][0], out.times[-1][0]
    assert last - first >= 0.5, "output arrived all at once: it was buffered, not streamed"


def test_a_large_prompt_is_written_in_chunks(double: KubeDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "WRITE_CHUNK", 400)
    assert run_prompt(stack="ai-slot-3", kind="plan_issue", project_dir=EXAMPLE, issue=42, out=io.StringIO()) == 0
    modes = [command[5] for _, _, command in double.cluster.execs if command[4:5] == ["prompt"]]
    assert len(modes) > 3
    assert modes == ["truncate"] + ["append"] * (len(modes) - 1)
    _, prompt, _ = prepare(
        stack="ai-slot-3", kind="plan_issue", project_dir=EXAMPLE, issue=42, pr=None, lang=None, infra_report=None
    )
    assert double.cluster.files["prompt"].decode() == prompt.text


def test_rollout_timeout_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_example(tmp_path, rollout="1s")
    cluster = Cluster(namespace=NAMESPACE, deployments=dict.fromkeys(("codex", *OTHERS)))
    for _ in serve(cluster, tmp_path, monkeypatch):
        started = time.monotonic()
        with pytest.raises(CodexError) as caught:
            run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=project, issue=42, out=io.StringIO())
        assert time.monotonic() - started < 5
    assert str(caught.value).startswith(
        f"deployment/codex in namespace {NAMESPACE} did not become available within 1s (codex.timeouts.rollout)"
    )
    assert cluster.execs == []
    assert set(cluster.reads) == {"deployment/codex"}


def test_a_missing_agent_deployment_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_example(tmp_path, deploy_wait="1s")  # rollout stays 30m: it is not the limit here
    for _ in serve(Cluster(namespace=NAMESPACE, deployments={}), tmp_path, monkeypatch):
        started = time.monotonic()
        with pytest.raises(CodexError) as caught:
            run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=project, issue=42, out=io.StringIO())
        assert time.monotonic() - started < 5
    assert str(caught.value).startswith(
        f"deployment/codex does not exist in namespace {NAMESPACE} (waited 1s; codex.timeouts.deployWait is 1s)"
    )


def test_waiting_for_a_missing_deployment_shows_progress_and_respects_deploy_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner, "PROGRESS_INTERVAL", 0.3)
    project = copy_example(tmp_path, deploy_wait="2s")
    for _ in serve(Cluster(namespace=NAMESPACE, deployments={}), tmp_path, monkeypatch):
        started = time.monotonic()
        with pytest.raises(CodexError, match="does not exist"):
            run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=project, issue=42, out=io.StringIO())
        assert time.monotonic() - started < 6
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (
        f"codexctl: waiting for deployment/codex in namespace {NAMESPACE} "
        "(to exist: up to 2s, then to become available: up to 1800s)"
    )
    progress = [line for line in lines if line.startswith("codexctl: still waiting")]
    assert 3 <= len(progress) <= 8, lines  # about every 0.3s for 2s: a modest rate, not every 0.02s poll
    assert progress[0].startswith(
        f"codexctl: still waiting for deployment/codex in namespace {NAMESPACE}: it does not exist yet ("
    )
    assert progress[0].endswith("s left of codex.timeouts.deployWait)")
    left = [int(line.rsplit("(", 1)[1].split("s left")[0]) for line in progress]
    assert left == sorted(left, reverse=True)
    assert left[0] <= 2


def test_a_deployment_created_late_then_gets_the_rollout_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner, "PROGRESS_INTERVAL", 0.05)
    project = copy_example(tmp_path, deploy_wait="1s", rollout="30s")
    # 404 for 10 reads (~0.2s), then 40 more reads (~0.8s) until available: past deployWait since the start;
    # the rollout time is generous so that a loaded machine's slower reads cannot end the wait
    cluster = Cluster(namespace=NAMESPACE, deployments={"codex": 50}, appears_after={"codex": 10})
    monkeypatch.setattr(runner, "POLL_INTERVAL", 0.025)
    for _ in serve(cluster, tmp_path, monkeypatch):
        started = time.monotonic()
        code = run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=project, issue=42, out=io.StringIO())
        waited = time.monotonic() - started
    assert code == 0
    assert waited > 1.0, "the double was too fast to show that the rollout time starts when it appears"
    err = capsys.readouterr().err
    assert "it does not exist yet" in err
    assert "codexctl: deployment/codex exists now; waiting up to 30s for it to become available" in err
    assert "0 of 1 available (" in err
    assert "s left of codex.timeouts.rollout)" in err


def test_a_deployment_that_exists_is_bounded_by_the_rollout_not_deploy_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_example(tmp_path, deploy_wait="30m", rollout="1s")
    cluster = Cluster(namespace=NAMESPACE, deployments={"codex": None})
    for _ in serve(cluster, tmp_path, monkeypatch):
        started = time.monotonic()
        with pytest.raises(CodexError, match=r"did not become available within 1s \(codex.timeouts.rollout\)"):
            run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=project, issue=42, out=io.StringIO())
        assert time.monotonic() - started < 5


def test_exec_timeout_stops_waiting_with_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_example(tmp_path, exec_timeout="2s")
    cluster = Cluster(namespace=NAMESPACE, deployments={"codex": 0})
    cluster.agent = AgentScript(chunks=[(1, "started\n"), (1, "never seen\n")], pause=30)
    out = io.StringIO()
    for _ in serve(cluster, tmp_path, monkeypatch):
        started = time.monotonic()
        with pytest.raises(CodexError) as caught:
            run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=project, issue=42, out=out)
        assert time.monotonic() - started < 6
    assert str(caught.value).startswith("the agent did not finish within 2s (codex.timeouts.exec)")
    assert out.getvalue() == "started\n"
    assert int(cluster.execs[-1][2][5]) <= 2  # the in-pod `timeout` got the same bound


def test_a_stack_without_the_agent_fails_before_touching_the_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    with pytest.raises(CodexError, match="stack dev has no codex agent Deployment"):
        run_prompt(stack="dev", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=io.StringIO())


def test_an_unreachable_cluster_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = Cluster(namespace=NAMESPACE)
    double = KubeDouble(cluster)
    config = double.kubeconfig(tmp_path / "kubeconfig")
    server = f"http://127.0.0.1:{free_port()}"
    config.write_text(config.read_text().replace(double.url, server))
    double.server.server_close()
    monkeypatch.setenv("KUBECONFIG", str(config))
    with pytest.raises(CodexError) as caught:
        run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=io.StringIO())
    assert caught.value.message == (
        f"cannot reach the Kubernetes API server at {server} (connection refused) "
        f"while reading deployment/codex in namespace {NAMESPACE}"
    )
    assert "MaxRetryError" not in str(caught.value)
    assert "HTTPConnectionPool" not in str(caught.value)


def test_no_kubeconfig_names_the_paths_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    with pytest.raises(CodexError) as caught:
        run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=io.StringIO())
    assert caught.value.message == "no kubeconfig found (looked for /nonexistent/kubeconfig)"
    assert "--kube-context" not in str(caught.value)
    assert "KUBECONFIG" in (caught.value.hint or "")
    monkeypatch.delenv("KUBECONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(CodexError) as caught:
        run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=io.StringIO())
    assert caught.value.message == f"no kubeconfig found (looked for {tmp_path / '.kube' / 'config'})"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "apiVersion: v1\nclusters:\n- name: x\n  cluster: {server: [\n",
            "the kubeconfig is not valid YAML: ",
        ),
        ("apiVersion: v1\n\tkind: Config\n", "the kubeconfig is not valid YAML: "),
        ("- just\n- a list\n", "the kubeconfig is not a kubeconfig (expected a mapping"),
        ("apiVersion: v1\nclusters: 5\ncontexts: 7\n", "the kubeconfig "),
    ],
)
def test_a_malformed_kubeconfig_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(text)
    monkeypatch.setenv("KUBECONFIG", str(config))
    with pytest.raises(CodexError) as caught:
        run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=io.StringIO())
    first = str(caught.value).splitlines()[0]
    assert first.startswith(f"{config}")
    assert message in first
    assert "Traceback" not in str(caught.value)


def test_an_unknown_kube_context_hints_at_the_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    double = KubeDouble(Cluster(namespace=NAMESPACE))
    monkeypatch.setenv("KUBECONFIG", str(double.kubeconfig(tmp_path / "kubeconfig")))
    double.server.server_close()
    with pytest.raises(CodexError) as caught:
        run_prompt(
            stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, kube_context="nope", out=io.StringIO()
        )
    assert str(caught.value).startswith(f"{tmp_path / 'kubeconfig'}: the kubeconfig cannot be used: ")
    assert "nope" in caught.value.message
    assert "--kube-context" in (caught.value.hint or "")


def test_an_unverified_tls_server_is_warned_about_once_not_on_every_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = Cluster(namespace=NAMESPACE, deployments={"codex": 6})
    with KubeDouble(cluster, tls=self_signed_context(tmp_path)) as double:
        monkeypatch.setenv("KUBECONFIG", str(double.kubeconfig(tmp_path / "kubeconfig")))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=io.StringIO())
    assert code == 0
    assert cluster.reads.count("deployment/codex") == 7
    assert [warning for warning in caught if "Insecure" in type(warning.message).__name__] == []
    err = capsys.readouterr().err
    assert err.count("is not verified") == 1
    assert f"codexctl: warning: the TLS certificate of {double.url} is not verified" in err


def test_an_exec_that_could_not_start_is_an_error_not_an_exit_status() -> None:
    failure = '{"status": "Failure", "message": "executable file not found in $PATH", "reason": "InternalError"}'
    with pytest.raises(CodexError, match="could not run: executable file not found"):
        runner._exit_status(failure, what="the agent", pod="codex-1")
    with pytest.raises(CodexError, match="ended without an exit status"):
        runner._exit_status("", what="the agent", pod="codex-1")


@pytest.mark.parametrize(
    ("stack", "kind", "mode"),
    [
        ("ai-slot-3", "dev_issue", "normal"),
        ("ai-slot-3", "plan_review", "normal"),
        ("ai-slot-3", "repair_issue", "repair"),
        ("ai-slot-3", "repair_plan", "repair"),
        ("ai-repair", "dev_issue", "repair"),  # a repair-only environment keeps its mode
    ],
)
def test_the_mode_of_a_run(stack: str, kind: str, mode: str) -> None:
    assert runner.mode_for(kind=kind, stack=stack, project_dir=EXAMPLE) == mode


def test_a_role_without_exec_rights_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RBAC as on a cluster: exec needs get *and* create on pods/exec; without create the API answers 403."""
    rules = [
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
        {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get"]},
    ]
    cluster = Cluster(namespace=NAMESPACE, deployments={"codex": 0}, rules=rules)
    for _ in serve(cluster, tmp_path, monkeypatch):
        with pytest.raises(CodexError) as caught:
            run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=io.StringIO())
    assert "\n" not in caught.value.message
    message = caught.value.message
    assert message.startswith("exec in pod codex-new (writing the config file): ")
    assert "403" in message
    assert 'cannot create resource \\"pods/exec\\"' in message or 'cannot create resource "pods/exec"' in message
    assert cluster.files == {}
    assert cluster.execs == []
