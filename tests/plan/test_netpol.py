"""A slot's network: only the project's declared traffic gets through (docs/security.md, "Network").

The NetworkPolicies are those the slot stack registers; ``tests/support/netpol.py`` decides
connections the way Kubernetes documents NetworkPolicy semantics.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from codex_stacks.offline.runner import run_program
from tests.conftest import EXAMPLE
from tests.support.netpol import Pod, connects

SLOT = "project-example-dev-3"
CODEX = Pod(SLOT, {"app": "codex"})
DJANGO = Pod(SLOT, {"app": "django-backend"})
FRONTEND = Pod(SLOT, {"app": "web-frontend"})
POSTGRES = Pod(SLOT, {"app": "postgres"})
OTHER_SLOT = Pod("project-example-dev-4", {"app": "postgres"})
STAGING = Pod("project-example-staging", {"app": "postgres"})
COREDNS = Pod("kube-system", {"k8s-app": "kube-dns"})
METRICS = Pod("kube-system", {"k8s-app": "metrics-server"})
INGRESS_NGINX = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
MICROK8S_INGRESS = Pod("ingress", {"name": "nginx-ingress-microk8s"})
GITHUB = "140.82.112.3"
NPM = "104.16.1.35"
METADATA = "169.254.169.254"
API_SERVER = "10.96.0.1"  # the kubernetes Service's ClusterIP (what a pod dials)
PRIVATE_HOST = "10.0.0.5"
PUBLIC_V6 = "2606:4700::6810:1"


@cache
def policies(stack: str = "ai-slot-3", project: Path = EXAMPLE, mode: str = "normal") -> list[dict[str, Any]]:
    run = run_program(stack, {"codex:projectDir": str(project), "codex:mode": mode})
    return [dict(r.inputs) for r in run.registrations if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"]


@pytest.mark.parametrize(
    ("source", "destination", "port", "protocol", "allowed"),
    [
        # inside the slot: everything
        (DJANGO, POSTGRES, 5432, "TCP", True),
        (CODEX, FRONTEND, 5173, "TCP", True),
        # DNS in kube-system, and nothing else there
        (DJANGO, COREDNS, 53, "UDP", True),
        (DJANGO, COREDNS, 53, "TCP", True),
        (CODEX, METRICS, 10250, "TCP", False),
        # the ingress controller (ingress-nginx, or microk8s' ingress) reaches every pod
        (INGRESS_NGINX, FRONTEND, 5173, "TCP", True),
        (MICROK8S_INGRESS, CODEX, 8080, "TCP", True),
        # other slots and other namespaces, both ways
        (OTHER_SLOT, POSTGRES, 5432, "TCP", False),
        (CODEX, OTHER_SLOT, 5432, "TCP", False),
        (CODEX, STAGING, 5432, "TCP", False),
        # the agent: the internet and the Kubernetes API, not the node's or the cloud's addresses
        (CODEX, GITHUB, 443, "TCP", True),
        (CODEX, GITHUB, 22, "TCP", True),
        (CODEX, PUBLIC_V6, 443, "TCP", True),
        (CODEX, API_SERVER, 443, "TCP", True),
        # without security.networkPolicy.apiServer, 443 and 6443 are open anywhere (documented)
        (CODEX, OTHER_SLOT, 443, "TCP", True),
        (CODEX, METADATA, 80, "TCP", False),
        (CODEX, PRIVATE_HOST, 5432, "TCP", False),
        # declared internet egress (npm install on the frontend's first start); others have none
        (FRONTEND, NPM, 443, "TCP", True),
        (FRONTEND, METADATA, 80, "TCP", False),
        (DJANGO, NPM, 443, "TCP", False),
        (DJANGO, API_SERVER, 443, "TCP", False),
        (POSTGRES, GITHUB, 443, "TCP", False),
    ],
)
def test_only_declared_traffic_gets_through(
    source: Pod, destination: Pod | str, port: int, protocol: str, allowed: bool
) -> None:
    assert connects(policies(), source, destination, port, protocol) is allowed


def test_the_same_policies_in_repair_mode() -> None:
    """They belong to the agent's component, which every repair run brings up."""

    def names(mode: str) -> set[str]:
        return {p["metadata"]["name"] for p in policies("ai-slot-3", EXAMPLE, mode)}

    assert names("repair") == names("normal")
    assert len(names("normal")) >= 3


def test_no_policies_where_the_agent_shares_a_namespace() -> None:
    """ai-repair runs the agent in staging's namespace: staging's traffic is not the agent's to cut."""
    assert policies("ai-repair", EXAMPLE, "repair") == []
    assert policies("ai-staging") == []
    assert policies("dev") == []


def test_opt_out(example_copy: Path) -> None:
    services = example_copy / "services.yaml"
    services.write_text(
        services.read_text().replace("  networkPolicy:\n", "  networkPolicy:\n    enabled: false\n"), encoding="utf-8"
    )
    assert policies("ai-slot-3", example_copy) == []
    assert connects([], DJANGO, METADATA, 80)


def test_a_named_api_server_narrows_the_agents_reach(example_copy: Path) -> None:
    services = example_copy / "services.yaml"
    services.write_text(
        services.read_text().replace("  networkPolicy:\n", "  networkPolicy:\n    apiServer: [10.0.0.1/32]\n"),
        encoding="utf-8",
    )
    rendered = policies("ai-slot-3", example_copy)
    assert connects(rendered, CODEX, "10.0.0.1", 6443)
    assert not connects(rendered, CODEX, PRIVATE_HOST, 6443)
    assert not connects(rendered, CODEX, API_SERVER, 443)
    assert not connects(rendered, CODEX, OTHER_SLOT, 443)
