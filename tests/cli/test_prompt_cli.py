"""``codexctl prompt render|config|run`` as installed: output, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.prompts.conftest import copy_example
from tests.prompts.kube_double import AgentScript, Cluster, KubeDouble, self_signed_context

CODEXCTL = Path(sys.executable).parent / "codexctl"


def codexctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CODEXCTL), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_render_prints_the_prompt_with_the_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps({"healthy": False, "failed": [{"component": "observability", "reason": "jaeger pending"}]})
    )
    result = codexctl(
        "prompt", "render", "--stack", "ai-slot-1", "--kind", "repair_plan", "--issue", "12",
        "--lang", "en", "--infra-report", str(report),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("# Task: diagnose the environment `project-example-dev-1`")
    assert "mode `repair`" in result.stdout
    assert "`observability`: jaeger pending" in result.stdout
    assert "gh issue comment 12" in result.stdout


def test_render_defaults_to_the_projects_language_and_falls_back_with_a_warning() -> None:
    russian = codexctl("prompt", "render", "-s", "ai-slot-3", "-k", "dev_issue", "--issue", "5")
    assert russian.returncode == 0, russian.stderr
    assert russian.stdout.startswith("# Задача: реализовать issue #5")
    german = codexctl("prompt", "render", "-s", "ai-slot-3", "-k", "dev_issue", "--issue", "5", "--lang", "de")
    assert german.returncode == 0, german.stderr
    assert german.stdout.startswith("# Task: implement issue #5")
    assert german.stderr.strip() == "warning: no 'de' translation of the dev_issue prompt; using 'en'"


def test_render_errors_are_one_clear_line(tmp_path: Path) -> None:
    assert_one_line_error(
        codexctl("prompt", "render", "-s", "ai-slot-3", "-k", "dev_issue"), "prompt kind dev_issue needs --issue"
    )
    bad = tmp_path / "report.json"
    bad.write_text('{"healthy": true, "extra": 1}')
    assert_one_line_error(
        codexctl("prompt", "render", "-s", "ai-slot-3", "-k", "dev_issue", "--issue", "5", "--infra-report", str(bad)),
        f"{bad}: extra: the infrastructure report is not valid",
    )


def test_plan_review_answers_a_pull_request_review_as_the_review_workflow_calls_it() -> None:
    heads = {
        "en": "# Task: answer the review of pull request #5 with a plan",
        "ru": "# Задача: ответить на ревью pull request #5 планом",
    }
    for lang, head in heads.items():
        result = codexctl("prompt", "render", "-s", "ai-slot-3", "-k", "plan_review", "--pr", "5", "--lang", lang)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(head)
        assert "gh pr comment 5 --body-file /tmp/plan.md" in result.stdout
        assert "issue #" not in result.stdout.lower()
        assert "задаче #" not in result.stdout
    # with only an issue, it revises the plan posted on the issue
    on_issue = codexctl("prompt", "render", "-s", "ai-slot-3", "-k", "plan_review", "--issue", "9", "--lang", "en")
    assert on_issue.returncode == 0, on_issue.stderr
    assert on_issue.stdout.startswith("# Task: revise the plan of issue #9")
    assert_one_line_error(
        codexctl("prompt", "render", "-s", "ai-slot-3", "-k", "plan_review"),
        "prompt kind plan_review needs --pr or --issue",
    )


def test_config_prints_toml_and_rejects_a_broken_block(tmp_path: Path) -> None:
    result = codexctl("prompt", "config", "--stack", "ai-slot-3")
    assert result.returncode == 0, result.stderr
    assert tomllib.loads(result.stdout)["mcp_servers"]["context7"]["url"] == "https://mcp.context7.com/mcp"
    project = copy_example(
        tmp_path,
        codex_yaml="  mcp:\n    servers: []\n  configBlocks:\n    - 'model = \"twice\"'\n",
    )
    lines = (project / "services.yaml").read_text().splitlines()
    line = lines.index("    - 'model = \"twice\"'") + 1  # where the block is, counted here
    assert_one_line_error(
        codexctl("prompt", "config", "--stack", "ai-slot-3", "--project-dir", str(project)),
        f"services.yaml:{line}: codex.configBlocks[0]: 'model' is set by codex.model, not by a block",
    )


def test_run_streams_the_agent_and_exits_with_its_status(tmp_path: Path) -> None:
    cluster = Cluster(namespace="project-example-dev-3", deployments={"codex": 0, "chat-backend": None})
    cluster.agent = AgentScript(chunks=[(1, "reading issue 5\n"), (2, "tests failed\n")], exit_code=5)
    with KubeDouble(cluster) as double:
        kubeconfig = double.kubeconfig(tmp_path / "kubeconfig")
        result = codexctl(
            "prompt", "run", "-s", "ai-slot-3", "-k", "dev_issue", "--issue", "5", env={"KUBECONFIG": str(kubeconfig)}
        )
    assert result.returncode == 5, result.stderr
    assert result.stdout == "reading issue 5\ntests failed\n"
    assert "the agent exited with status 5" in result.stderr
    assert "Задача: реализовать issue #5" in cluster.files["prompt"].decode()
    assert "deployment/chat-backend" not in cluster.reads


def test_run_rollout_timeout_is_one_clear_line(tmp_path: Path) -> None:
    project = copy_example(tmp_path, rollout="1s")
    cluster = Cluster(namespace="project-example-dev-3", deployments={"codex": None})
    with KubeDouble(cluster) as double:
        kubeconfig = double.kubeconfig(tmp_path / "kubeconfig")
        result = codexctl(
            "prompt", "run", "-s", "ai-slot-3", "-k", "dev_issue", "--issue", "5", "-p", str(project),
            env={"KUBECONFIG": str(kubeconfig)},
        )  # fmt: skip
    assert result.returncode == 1  # the cluster's state, not the user's input: an outside failure
    assert "error: deployment/codex in namespace project-example-dev-3 did not become available within 1s" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert cluster.execs == []


def test_run_with_a_malformed_kubeconfig_is_one_line_naming_it(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nclusters:\n- name: x\n  cluster: {server: [\n")
    result = codexctl(
        "prompt", "run", "-s", "ai-slot-3", "-k", "dev_issue", "--issue", "5", env={"KUBECONFIG": str(kubeconfig)}
    )
    assert_one_line_error(result, f"error: {kubeconfig}:5: the kubeconfig is not valid YAML: ")
    assert len(result.stderr.splitlines()) == 2  # the error and its hint
    assert "ParserError" not in result.stderr


def test_run_against_insecure_tls_warns_once(tmp_path: Path) -> None:
    cluster = Cluster(namespace="project-example-dev-3", deployments={"codex": 5})
    with KubeDouble(cluster, tls=self_signed_context(tmp_path)) as double:
        kubeconfig = double.kubeconfig(tmp_path / "kubeconfig")
        result = codexctl(
            "prompt", "run", "-s", "ai-slot-3", "-k", "dev_issue", "--issue", "5", env={"KUBECONFIG": str(kubeconfig)}
        )
    assert result.returncode == 0, result.stderr
    assert cluster.reads.count("deployment/codex") == 6
    assert "InsecureRequestWarning" not in result.stderr
    assert result.stderr.count("is not verified") == 1


def test_help_texts_have_examples() -> None:
    for command in ("render", "config", "run"):
        result = codexctl("prompt", command, "--help")
        assert result.returncode == 0
        assert f"codexctl prompt {command} --stack ai-slot-3" in " ".join(result.stdout.split())
