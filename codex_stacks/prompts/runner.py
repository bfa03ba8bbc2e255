"""``prompt run``: wait for the agent's Deployment only, put prompt and config in its pod, run codex.

Everything goes through the Kubernetes API with the official client (reads over HTTP, files and
the agent over exec), so a CI runner needs a kubeconfig and nothing else: no kubectl binary.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from codex_stacks.config.hooks import parse_duration
from codex_stacks.errors import CodexError
from codex_stacks.kubeclient import ClusterError, api_client, api_status, network_reason
from codex_stacks.plan import Plan, build_plan
from codex_stacks.plan.target import fixed_mode
from codex_stacks.prompts.codex_config import render_codex_config
from codex_stacks.prompts.context import REPAIR_KINDS, InfraReport, build_context, check_numbers
from codex_stacks.prompts.labels import apply_run_labels
from codex_stacks.prompts.render import RenderedPrompt, choose_lang, render_prompt
from codex_stacks.stackconfig import stack_request

if TYPE_CHECKING:
    from kubernetes.client import ApiClient, CoreV1Api, V1Deployment, V1Pod

PROMPT_DIR = "/tmp/codexctl"
PROMPT_FILE = f"{PROMPT_DIR}/prompt.md"
AGENT_COMMAND = "codex exec --dangerously-bypass-approvals-and-sandbox --skip-git-repo-check -"
"""The agent itself, reading its prompt on stdin; the pod is its sandbox, so codex's own is off."""
RUN_SCRIPT = (
    'cd "${WORKDIR:-/workspace}" || exit 1; '
    'if command -v timeout >/dev/null 2>&1; then exec timeout "$2" ' + AGENT_COMMAND + ' < "$1"; fi; '
    "exec " + AGENT_COMMAND + ' < "$1"'
)
"""Runs AGENT_COMMAND in the workspace on the prompt file ($1); ``timeout`` ($2 seconds) makes sure
the agent dies in the pod too when the client stops waiting."""
WRITE_SCRIPT = (
    "set -e; "
    'case "$1" in '
    'config) d="${CODEX_HOME:-$HOME/.codex}"; f="$d/config.toml";; '
    f"prompt) d={PROMPT_DIR}; f={PROMPT_FILE};; "
    '*) echo "unknown file $1" >&2; exit 2;; '
    "esac; "
    'mkdir -p "$d"; '
    'if [ "$2" = append ]; then printf %s "$3" | base64 -d >> "$f"; else printf %s "$3" | base64 -d > "$f"; fi'
)
"""Writes one base64 chunk ($3) of a named file ($1: config or prompt), truncating first ($2)."""
WRITE_CHUNK = 6000
"""Base64 characters per exec: the chunk travels in the URL, which proxies may limit to ~8 KiB."""
POLL_INTERVAL = 2.0
PROGRESS_INTERVAL = 30.0
"""Seconds between "still waiting" lines while deployment/codex is missing or not available."""
READ_TIMEOUT = 30.0
STATUS_CHANNEL = 3
CLOSE_TIMEOUT = 1.0
"""Seconds to wait for the server's answer to our close: after a timeout the pod may never answer."""


def _log(message: str) -> None:
    print(f"codexctl: {message}", file=sys.stderr, flush=True)


def mode_for(*, kind: str, stack: str, project_dir: Path) -> str:
    """An environment fixed to one mode keeps it; else repair kinds get repair mode."""
    fixed = fixed_mode(stack_request(stack, project_dir=project_dir))
    if fixed is not None:
        return fixed
    return "repair" if kind in REPAIR_KINDS else "normal"


def _api_error(exc: Exception, *, doing: str, server: str | None = None) -> CodexError:
    """The cluster's failure: an outside one (exit 1), not bad input."""
    status = api_status(exc)
    if status is not None:
        return ClusterError(f"{doing}: {status}")
    reason = network_reason(exc)
    if reason is not None:
        return ClusterError(
            f"cannot reach the Kubernetes API server at {server or 'the kubeconfig server'} ({reason}) while {doing}",
            hint="check that the cluster runs and that KUBECONFIG (or --kube-context) points at it",
        )
    return ClusterError(f"{doing}: {type(exc).__name__}: {exc}")


def _rolled_out(deployment: V1Deployment) -> bool:
    """kubectl's rule: the newest template is everywhere, old pods are gone, and all are available."""
    spec, status, meta = deployment.spec, deployment.status, deployment.metadata
    if status is None or spec is None or meta is None:
        return False
    desired = spec.replicas if spec.replicas is not None else 1
    return (
        desired > 0
        and (status.observed_generation or 0) >= (meta.generation or 0)
        and (status.updated_replicas or 0) >= desired
        and (status.replicas or 0) <= (status.updated_replicas or 0)
        and (status.available_replicas or 0) >= (status.updated_replicas or 0)
    )


@dataclass(frozen=True, slots=True)
class AgentWorkload:
    """What exec needs from the agent's Deployment: how to find its pods, which container to use."""

    name: str
    selector: str
    container: str

    @classmethod
    def of(cls, deployment: V1Deployment, *, name: str) -> AgentWorkload:
        spec = deployment.spec
        labels = spec.selector.match_labels if spec is not None and spec.selector is not None else None
        pod_spec = spec.template.spec if spec is not None and spec.template is not None else None
        if not labels or pod_spec is None or not pod_spec.containers:
            raise CodexError(f"deployment/{name} has no matchLabels selector or no container to exec in")
        selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
        return cls(name=name, selector=selector, container=pod_spec.containers[0].name)


def _left(seconds: float) -> str:
    return f"{max(0, round(seconds))}s left"


def wait_for_agent(api: ApiClient, *, name: str, namespace: str, deploy_wait: float, rollout: float) -> AgentWorkload:
    """Wait for this one Deployment, never the stack: the agent must start even when the rest fails.

    It may not exist yet (the deploy that creates it may still run): that wait is bounded by
    ``deploy_wait`` (codex.timeouts.deployWait). Once it exists, it has ``rollout``
    (codex.timeouts.rollout) to become available. Progress is logged every PROGRESS_INTERVAL.
    """
    from kubernetes.client import AppsV1Api
    from kubernetes.client.exceptions import ApiException

    apps = AppsV1Api(api)
    server = api.configuration.host
    doing = f"reading deployment/{name} in namespace {namespace}"
    started = time.monotonic()
    appear_by = started + deploy_wait
    available_by: float | None = None
    next_report = started + PROGRESS_INTERVAL
    last: V1Deployment | None = None
    reached = False
    while True:
        try:
            last = apps.read_namespaced_deployment(name, namespace, _request_timeout=READ_TIMEOUT)
        except ApiException as exc:
            if exc.status != 404:
                raise _api_error(exc, doing=doing, server=server) from None
            last = None
        except Exception as exc:
            # the API server gone for a moment during the wait is asked again, within the wait's
            # own bound; one that never answered fails at once (exit 1)
            if not reached or network_reason(exc) is None or time.monotonic() >= (available_by or appear_by):
                raise _api_error(exc, doing=doing, server=server) from None
            time.sleep(POLL_INTERVAL)
            continue
        reached = True
        now = time.monotonic()
        if last is not None and available_by is None:
            available_by = now + rollout
            if now > started + POLL_INTERVAL:
                _log(f"deployment/{name} exists now; waiting up to {rollout:g}s for it to become available")
        if last is not None and _rolled_out(last):
            return AgentWorkload.of(last, name=name)
        deadline = appear_by if available_by is None else available_by
        if now >= deadline:
            break
        if now >= next_report:
            next_report = now + PROGRESS_INTERVAL
            if last is None:
                _log(
                    f"still waiting for deployment/{name} in namespace {namespace}: it does not exist yet "
                    f"({_left(deadline - now)} of codex.timeouts.deployWait)"
                )
            else:
                _log(
                    f"still waiting for deployment/{name} in namespace {namespace}: {_replicas(last)} "
                    f"({_left(deadline - now)} of codex.timeouts.rollout)"
                )
        time.sleep(min(POLL_INTERVAL, deadline - now))
    if last is None:
        raise ClusterError(
            f"deployment/{name} does not exist in namespace {namespace} "
            f"(waited {time.monotonic() - started:.0f}s; codex.timeouts.deployWait is {deploy_wait:g}s)",
            hint="deploy the stack first (pulumi up, or codexctl ci up --fallback-repair)",
        )
    status = last.status
    raise ClusterError(
        f"deployment/{name} in namespace {namespace} did not become available within {rollout:g}s "
        f"(codex.timeouts.rollout): {status.available_replicas or 0 if status else 0} available, "
        f"{status.updated_replicas or 0 if status else 0} updated",
        hint=f"look at its pods: kubectl -n {namespace} describe deployment/{name}",
    )


def _replicas(deployment: V1Deployment) -> str:
    spec, status = deployment.spec, deployment.status
    desired = spec.replicas if spec is not None and spec.replicas is not None else 1
    available = status.available_replicas or 0 if status is not None else 0
    return f"{available} of {desired} available"


def _ready_pod(core: CoreV1Api, agent: AgentWorkload, *, namespace: str) -> str:
    """The newest ready pod of the Deployment: exec must reach the current template, not an old one."""
    try:
        pods = core.list_namespaced_pod(namespace, label_selector=agent.selector, _request_timeout=READ_TIMEOUT).items
    except Exception as exc:
        raise _api_error(
            exc, doing=f"listing pods of deployment/{agent.name}", server=core.api_client.configuration.host
        ) from None

    def ready(pod: V1Pod) -> bool:
        status, meta = pod.status, pod.metadata
        return (
            meta is not None
            and meta.deletion_timestamp is None
            and status is not None
            and status.phase == "Running"
            and any(c.type == "Ready" and c.status == "True" for c in status.conditions or [])
        )

    def created(pod: V1Pod) -> str:
        stamp = pod.metadata.creation_timestamp if pod.metadata is not None else None
        return "" if stamp is None else str(stamp)

    candidates = sorted((pod for pod in pods if ready(pod)), key=created)
    if not candidates:
        raise ClusterError(
            f"deployment/{agent.name} is available but none of its pods ({agent.selector}) is ready",
            hint="the pod may have just restarted; run again",
        )
    newest = candidates[-1].metadata
    return str(newest.name if newest is not None else "")


class _Exec:
    """One command in the agent's container, its output streamed, its exit status returned."""

    def __init__(self, core: CoreV1Api, *, pod: str, namespace: str, container: str) -> None:
        self.core, self.pod, self.namespace, self.container = core, pod, namespace, container

    def run(self, command: Sequence[str], *, out: TextIO | None, deadline: float, what: str) -> tuple[int, str]:
        """Exit status and error text; raises on timeout, a lost connection or a failed start."""
        from kubernetes.stream import stream
        from websocket import WebSocketException

        try:
            ws = stream(
                self.core.connect_get_namespaced_pod_exec,
                self.pod,
                self.namespace,
                command=list(command),
                container=self.container,
                stdin=False,
                stdout=True,
                stderr=True,
                tty=False,
                _preload_content=False,
            )
        except Exception as exc:
            raise _api_error(
                exc, doing=f"exec in pod {self.pod} ({what})", server=self.core.api_client.configuration.host
            ) from None
        status_text = ""
        try:
            while True:
                status_text += self._drain(ws, out)
                if not ws.is_open():
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                try:
                    ws.update(timeout=min(remaining, 1.0))
                except WebSocketException:
                    break
            status_text += self._drain(ws, out)
        finally:
            ws.close(timeout=CLOSE_TIMEOUT)
        return _exit_status(status_text, what=what, pod=self.pod)

    @staticmethod
    def _drain(ws: Any, out: TextIO | None) -> str:
        """What arrived so far: stdout and stderr to ``out``, the status text returned."""
        from websocket import WebSocketException

        received: dict[int, str] = {}
        for channel in (1, 2, STATUS_CHANNEL):
            try:
                received[channel] = str(ws.read_channel(channel, timeout=0) or "")
            except WebSocketException:
                received[channel] = ""
            if out is not None and channel != STATUS_CHANNEL and received[channel]:
                out.write(received[channel])
                out.flush()
        return received[STATUS_CHANNEL]


def _exit_status(text: str, *, what: str, pod: str) -> tuple[int, str]:
    """Kubernetes reports the end of an exec as a Status on channel 3."""
    if not text.strip():
        raise ClusterError(f"{what} in pod {pod} ended without an exit status (the connection was lost)")
    try:
        status = json.loads(text)
    except ValueError:
        raise ClusterError(f"{what} in pod {pod}: unreadable exec status {text[:200]!r}") from None
    if status.get("status") == "Success":
        return 0, ""
    causes = (status.get("details") or {}).get("causes") or []
    for cause in causes:
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message", "1")), str(status.get("message", ""))
    raise ClusterError(f"{what} in pod {pod} could not run: {status.get('message') or status}")


def _write_file(runner: _Exec, *, name: str, content: str, deadline: float) -> None:
    encoded = base64.b64encode(content.encode("utf-8")).decode("ascii")
    chunks = [encoded[i : i + WRITE_CHUNK] for i in range(0, len(encoded), WRITE_CHUNK)] or [""]
    for index, chunk in enumerate(chunks):
        mode = "append" if index else "truncate"
        command = ("sh", "-c", WRITE_SCRIPT, "codexctl-write", name, mode, chunk)
        code, message = runner.run(command, out=None, deadline=deadline, what=f"writing the {name} file")
        if code != 0:
            raise ClusterError(f"could not write the {name} file in pod {runner.pod} (exit {code}): {message}")


def prepare(
    *,
    stack: str,
    kind: str,
    project_dir: Path,
    issue: int | None,
    pr: int | None,
    lang: str | None,
    infra_report: InfraReport | None,
    labels: Sequence[str] = (),
) -> tuple[Plan, RenderedPrompt, str]:
    """Plan, prompt and config, all before touching the cluster: bad input fails fast.

    ``labels`` are the issue's or pull request's: ``[ai-model-…]``/``[ai-reasoning-…]`` choose the
    model and effort of this run (:mod:`codex_stacks.prompts.labels`)."""
    check_numbers(kind=kind, issue=issue, pr=pr)
    mode = mode_for(kind=kind, stack=stack, project_dir=project_dir)
    plan = build_plan(stack_request(stack, project_dir=project_dir, mode=mode))
    codex = apply_run_labels(plan.settings.codex, labels)
    context = build_context(
        plan=plan,
        kind=kind,
        lang=choose_lang(flag=lang, configured=codex.prompt_lang),
        issue=issue,
        pr=pr,
        infra_report=infra_report,
    )
    prompt = render_prompt(context, project_dir=project_dir)
    return plan, prompt, render_codex_config(codex, namespace=plan.target.namespace)


def run_prompt(
    *,
    stack: str,
    kind: str,
    project_dir: Path,
    issue: int | None = None,
    pr: int | None = None,
    lang: str | None = None,
    infra_report: InfraReport | None = None,
    kube_context: str | None = None,
    out: TextIO | None = None,
    labels: Sequence[str] = (),
) -> int:
    """Run the agent in its slot and return its exit status."""
    from kubernetes.client import CoreV1Api

    out = out if out is not None else sys.stdout
    plan, prompt, config_text = prepare(
        stack=stack,
        kind=kind,
        project_dir=project_dir,
        issue=issue,
        pr=pr,
        lang=lang,
        infra_report=infra_report,
        labels=labels,
    )
    for warning in prompt.warnings:
        _log(f"warning: {warning}")
    name, namespace = plan.agent_deployment, plan.target.namespace
    if name is None:
        raise CodexError(
            f"stack {stack} has no codex agent Deployment (mode {plan.target.mode})",
            hint="the service 'codex' must be active in this environment and hold a Deployment",
        )
    timeouts = plan.settings.codex.timeouts
    rollout, exec_timeout = parse_duration(timeouts.rollout), parse_duration(timeouts.exec)
    deploy_wait = parse_duration(timeouts.deploy_wait)
    api = api_client(context=kube_context or plan.target.environment.kube_context)
    try:
        with warnings.catch_warnings():
            _quiet_tls_warnings(api)
            _log(
                f"waiting for deployment/{name} in namespace {namespace} (to exist: up to {deploy_wait:g}s, "
                f"then to become available: up to {rollout:g}s)"
            )
            agent = wait_for_agent(api, name=name, namespace=namespace, deploy_wait=deploy_wait, rollout=rollout)
            core = CoreV1Api(api)
            pod = _ready_pod(core, agent, namespace=namespace)
            runner = _Exec(core, pod=pod, namespace=namespace, container=agent.container)
            deadline = time.monotonic() + exec_timeout
            try:
                _write_file(runner, name="config", content=config_text, deadline=deadline)
                _write_file(runner, name="prompt", content=prompt.text, deadline=deadline)
                _log(f"running the agent ({kind}, {prompt.lang}) in pod {pod}, up to {exec_timeout:g}s")
                seconds = str(max(1, int(deadline - time.monotonic())))
                command = ("sh", "-c", RUN_SCRIPT, "codexctl-run", PROMPT_FILE, seconds)
                code, _ = runner.run(command, out=out, deadline=deadline, what="the agent")
            except TimeoutError:
                raise ClusterError(
                    f"the agent did not finish within {exec_timeout:g}s (codex.timeouts.exec); stopped waiting",
                    hint="raise codex.timeouts.exec in services.yaml, or narrow the task",
                ) from None
            _log(f"the agent exited with status {code}")
            return code
    finally:
        api.close()  # type: ignore[no-untyped-call]


def _quiet_tls_warnings(api: ApiClient) -> None:
    """With TLS verification off, urllib3 warns on every request (each poll): say it once instead.
    Call inside ``warnings.catch_warnings()``, which puts the filters back afterwards."""
    if api.configuration.verify_ssl:
        return
    from urllib3.exceptions import InsecureRequestWarning

    warnings.simplefilter("ignore", InsecureRequestWarning)
    _log(
        f"warning: the TLS certificate of {api.configuration.host} is not verified "
        "(insecure-skip-tls-verify in the kubeconfig)"
    )
