"""The NetworkPolicies of a namespace the agent works in alone (docs/security.md, "Network"),
judged the way a CNI would (``tests/support/netpol.py``) and checked against the official
NetworkPolicy schema (an unknown field is refused by the API server's strict field validation).

Written against mutants of codex_stacks/plan/netpol.py that lived (issue #19): a misspelt
``port``/``protocol``/``operator`` key or a wrong protocol name.
"""

from __future__ import annotations

from typing import Any

from codex_stacks.config.model import NetworkPolicySettings
from codex_stacks.kubeschema import check_object
from codex_stacks.plan.netpol import network_policies
from tests.support.netpol import Pod, connects

NAMESPACE = "shop-ai-1"
AGENT = Pod(NAMESPACE, {"app": "codex"})
WEB = Pod(NAMESPACE, {"app": "web"})
COREDNS = Pod("kube-system", {"k8s-app": "kube-dns"})
INGRESS = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
ELSEWHERE = Pod("other-team", {"app": "x"})
API_SERVER = "10.96.0.1"


def policies(**settings: Any) -> list[dict[str, Any]]:
    return network_policies(
        NetworkPolicySettings(**settings),
        namespace=NAMESPACE,
        agent_pods={"app": "codex"},
        labels={"app.kubernetes.io/managed-by": "codex-stacks"},
    )


def test_dns_is_port_53_over_udp_and_tcp_only() -> None:
    rendered = policies()
    assert connects(rendered, WEB, COREDNS, 53, "UDP")
    assert connects(rendered, WEB, COREDNS, 53, "TCP")
    assert not connects(rendered, WEB, COREDNS, 80, "TCP")
    assert not connects(rendered, WEB, COREDNS, 5353, "UDP")


def test_only_the_ingress_controllers_namespace_gets_in() -> None:
    rendered = policies()
    assert connects(rendered, INGRESS, WEB, 8080)
    assert not connects(rendered, ELSEWHERE, WEB, 8080)


def test_every_policy_is_valid_kubernetes() -> None:
    rendered = policies(internet_egress=[{"app": "web"}])
    assert {policy["metadata"]["name"] for policy in rendered} >= {"codex-allow-dns", "codex-allow-agent-egress"}
    problems = [
        f"{policy['metadata']['name']}: {'.'.join(map(str, problem.path))}: {problem.message}"
        for policy in rendered
        for problem in check_object(policy)
    ]
    assert problems == []
