"""``run_prompt`` against a loopback Kubernetes API double: what it waits for, writes, runs and returns."""

from __future__ import annotations

import io
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from codexctl.errors import CodexError
from codexctl.prompts import runner
from codexctl.prompts.runner import AGENT_COMMAND, PROMPT_FILE, RUN_SCRIPT, WRITE_SCRIPT, prepare, run_prompt
from tests.prompts.conftest import EXAMPLE, copy_example
from tests.prompts.kube_double import AgentScript, Cluster, KubeDouble, free_port

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
    assert [pod for pod, _, _ in cluster.execs] == ["codex-new"] * 3
    assert {container for _, container, _ in cluster.execs} == {"codex"}
    writes, (_, _, agent) = cluster.execs[:2], cluster.execs[2]
    assert [command[:5] for _, _, command in writes] == [
        ["sh", "-c", WRITE_SCRIPT, "codexctl-write", "config"],
        ["sh", "-c", WRITE_SCRIPT, "codexctl-write", "prompt"],
    ]
    assert agent[:5] == ["sh", "-c", RUN_SCRIPT, "codexctl-run", PROMPT_FILE]
    assert AGENT_COMMAND in RUN_SCRIPT
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


def test_repair_kinds_run_the_repair_prompt_with_the_report(double: KubeDouble) -> None:
    from codexctl.prompts import InfraReport

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
    project = copy_example(tmp_path, rollout="1s")
    for _ in serve(Cluster(namespace=NAMESPACE, deployments={}), tmp_path, monkeypatch):
        with pytest.raises(CodexError, match=f"deployment/codex does not exist in namespace {NAMESPACE}"):
            run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=project, issue=42, out=io.StringIO())


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
    config.write_text(config.read_text().replace(double.url, f"http://127.0.0.1:{free_port()}"))
    double.server.server_close()
    monkeypatch.setenv("KUBECONFIG", str(config))
    with pytest.raises(CodexError, match="reading deployment/codex in namespace project-example-dev-3: "):
        run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=io.StringIO())


def test_no_kubeconfig_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(CodexError, match="no usable kubeconfig"):
        run_prompt(stack="ai-slot-3", kind="dev_issue", project_dir=EXAMPLE, issue=42, out=io.StringIO())


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
