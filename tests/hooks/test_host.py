"""Every hook once more through the SDK's own provider host (``python -m pulumi.dynamic``).

The pickled provider and the inputs come from a mocked registration of the example stack (a
copy of examples/alimentor with a step of every kind), so unpickling, import paths and wire
(de)serialization are the ones a real ``pulumi up`` uses. The side effects are real: folders
on disk, objects in the Kubernetes API double, comments in the GitHub API double.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.offline.runner import ProgramRun, run_program
from tests.hooks.helpers import FAST, all_hooks_project
from tests.support.github_double import GithubDouble
from tests.support.kube_double import KubeDouble
from tests.support.provider_host import ProviderHost, ProviderHostError, unwrap_secrets

CANARY = "sk-canary-hostc0de"
NS = "alimentor-dev-3"
STAGING = "alimentor-staging"


@dataclass
class World:
    run: ProgramRun
    data_root: Path
    kube: KubeDouble
    github: GithubDouble
    host: ProviderHost


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("host")
    data_root = folder / "data"
    project = all_hooks_project(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALIMENTOR_DATA_ROOT", str(data_root))
        patch.setenv("ISSUE_TITLE", 'Add "meal plans" $(touch /tmp/never)')
        run = run_program("ai-slot-3", {"codex:projectDir": str(project), "codex:openaiApiKey": CANARY})
    kube, github = KubeDouble(namespaces=(NS, STAGING)), GithubDouble(repos={"acme/alimentor": 7})
    github.add_issue("acme/alimentor", 42)
    kube.start()
    github.start()
    kubeconfig = kube.kubeconfig(folder / "kubeconfig")
    env = {
        "KUBECONFIG": str(kubeconfig),
        "GITHUB_TOKEN": "ghp-from-host-env",
        "CODEX_GH_PAT": "",
        "OPENAI_API_KEY": "",
        "CONTEXT7_API_KEY": "",
    }
    try:
        with ProviderHost(env=env, stack="ai-slot-3") as host:
            yield World(run=run, data_root=data_root, kube=kube, github=github, host=host)
    finally:
        kube.stop()
        github.stop()


def registration_inputs(world: World, name: str, **params: Any) -> tuple[str, dict[str, Any]]:
    """URN and wire inputs of a registered step, with test-sized timeouts (and param overrides)."""
    registration = next(r for r in world.run.registrations if r.name == name)
    inputs = unwrap_secrets(dict(registration.raw_inputs))
    inputs["params"] = {**inputs["params"], **params}
    inputs["tuning"] = dict(FAST)
    return registration.urn, inputs


def lifecycle(world: World, name: str, **params: Any) -> tuple[str, str, dict[str, Any]]:
    """Check, create, then diffs: the same inputs change nothing; an ``always`` step's next up
    carries a new run token, which changes it; returns (urn, id, outputs)."""
    urn, inputs = registration_inputs(world, name, **params)
    checked = world.host.check(urn, {}, inputs)
    assert checked.failures == ()
    created = world.host.create(urn, checked.inputs)
    assert world.host.diff(created.id, urn, created.outputs, checked.inputs).changes == "none"
    if checked.inputs.get("always"):
        assert checked.inputs["run"]
        next_up = {**checked.inputs, "run": "the-next-up"}
        assert world.host.diff(created.id, urn, created.outputs, next_up).changes == "some"
    return urn, created.id, created.outputs


def test_ensure_data_dirs_through_the_host(world: World) -> None:
    urn, id_, outputs = lifecycle(world, "hook/beforeAll/ensure-data-dirs")
    assert (world.data_root / "slots" / "3" / "postgres").is_dir()
    assert outputs["result"]["created"][-1] == str(world.data_root / "slots" / "3" / "postgres")
    world.host.delete(id_, urn, outputs)
    assert (world.data_root / "slots" / "3" / "postgres").is_dir()  # kept: deleteOnDestroy is off


def test_ensure_codex_secrets_through_the_host(world: World) -> None:
    _urn, _id, outputs = lifecycle(world, "codex/hook/beforeApply/ensure-codex-secrets")
    stored = world.kube.objects[f"/api/v1/namespaces/{NS}/secrets/openai-secret"]
    assert base64.b64decode(stored["data"]["OPENAI_API_KEY"]).decode() == CANARY
    github = world.kube.objects[f"/api/v1/namespaces/{NS}/secrets/github-secret"]
    assert base64.b64decode(github["data"]["CODEX_GH_PAT"]).decode() == "ghp-from-host-env"  # env fallback
    assert outputs["result"]["written"] == ["openai-secret", "github-secret"]
    assert outputs["result"]["skipped"] == ["context7-secret"]
    assert "no value for Secret context7-secret" in world.host.stderr
    assert CANARY not in world.host.stderr


def test_reuse_dev_tls_secret_through_the_host(world: World) -> None:
    name = "alimentor-dev-3-tls"
    world.kube.seed(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": STAGING},
            "data": {"tls.crt": "Yw=="},
        }
    )
    _urn, _id, outputs = lifecycle(world, "codex/hook/afterApply/reuse-dev-tls-secret", wait=0.5, poll_interval=0.05)
    # the source is there, so it is not written back (tests/hooks/test_tls_annotations.py)
    assert outputs["result"] == {"copied_in": True, "present": True, "backed_up": False}
    assert world.kube.objects[f"/api/v1/namespaces/{NS}/secrets/{name}"]["data"] == {"tls.crt": "Yw=="}


def test_check_dev_host_ports_through_the_host(world: World) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        _urn, _id, outputs = lifecycle(
            world, "codex/hook/afterApply/check-dev-host-ports", ports=[port], http_host="", probe_timeout=0.5
        )
    assert outputs["result"]["ports"] == {str(port): True}
    assert outputs["warnings"] == []


def test_kubectl_wait_through_the_host(world: World) -> None:
    world.kube.seed(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "postgres", "namespace": NS},
            "status": {"conditions": [{"type": "Available", "status": "True"}]},
        }
    )
    _urn, _id, outputs = lifecycle(world, "base/hook/afterApply/postgres-ready", wait=1, poll_interval=0.05)
    assert outputs["result"] == {"condition": "Available", "status": "True"}


def test_github_comment_through_the_host(world: World) -> None:
    _urn, _id, outputs = lifecycle(world, "hook/afterAll/announce", api_url=world.github.url)
    (comment,) = world.github.comments_of("acme/alimentor", 42)
    assert comment.body.startswith("Slot 3 is up at https://dev-3.staging.alimentor.example")
    assert outputs["result"]["action"] == "created"
    assert world.github.requests[-1].authorization == "Bearer ghp-from-host-env"


def test_sleep_and_preflight_through_the_host(world: World) -> None:
    _urn, _id, outputs = lifecycle(world, "hook/afterAll/settle")
    assert outputs["result"] == {"slept": 0.01}
    urn, inputs = registration_inputs(world, "hook/beforeAll/preflight")
    with pytest.raises(ProviderHostError) as failure:  # codex:githubToken is not set for this stack
        world.host.create(urn, world.host.check(urn, {}, inputs).inputs)
    assert "secret config codex:githubToken is not set" in failure.value.details
    inputs["secrets"] = {"config:githubToken": "ghp"}
    created = world.host.create(urn, inputs)
    assert created.outputs["result"] == {"kubernetes": "v1.35.0"}  # the server's gitVersion


def test_run_steps_and_destroy_stages_through_the_host(world: World) -> None:
    env_dir = world.data_root / "slots" / "3"
    env_dir.mkdir(parents=True, exist_ok=True)
    lifecycle(world, "base/hook/beforeApply/note")
    assert (env_dir / "note.txt").read_text() == 'Add "meal plans" $(touch /tmp/never)\n'
    urn, id_, outputs = lifecycle(world, "base/hook/beforeDestroy/dump")
    assert outputs["result"] == {"armed": True}
    assert not (env_dir / "dump.sql").exists()
    world.host.delete(id_, urn, outputs)
    assert (env_dir / "dump.sql").read_text() == "dump\n"


def test_a_failing_step_is_one_clear_error_from_the_host(world: World) -> None:
    urn, inputs = registration_inputs(world, "base/hook/beforeApply/note", script="echo nope >&2; exit 4")
    with pytest.raises(ProviderHostError) as failure:
        world.host.create(urn, inputs)
    assert "hook base/beforeApply/note failed: script exited with 4: nope" in failure.value.details
