"""Default-deny NetworkPolicies for a namespace the agent works in, with the project's declared
traffic allowed (docs/security.md, "Network").

Declared traffic:

- every pod may talk to every pod of its own namespace, both ways;
- every pod may ask the cluster DNS (port 53 in ``kube-system``);
- pods of the namespaces in ``security.networkPolicy.ingressFrom`` (the ingress controller's) may
  connect to every pod;
- the agent's pods may reach the internet (public addresses, any port) and the Kubernetes API
  (``security.networkPolicy.apiServer``, or TCP 443 and 6443 on any address when it is empty);
- pods matching a selector of ``security.networkPolicy.internetEgress`` may reach the internet.

Everything else, in and out, is refused: other namespaces, other slots, node and cloud metadata
addresses. ``security.networkPolicy.enabled: false`` renders none of them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from codex_stacks.config.model import NetworkPolicySettings

API_VERSION = "networking.k8s.io/v1"
DEFAULT_DENY = "codex-default-deny"
PRIVATE_IPV4 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8")
"""Private, shared (CGNAT), link-local (cloud metadata) and loopback addresses: not the internet."""
PRIVATE_IPV6 = ("fc00::/7", "fe80::/10", "::1/128")
API_SERVER_PORTS = (443, 6443)
NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by Kubernetes on every namespace (v1.22+), so a namespace can be selected by its name."""

INTERNET: list[dict[str, Any]] = [
    {"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_IPV4)}},
    {"ipBlock": {"cidr": "::/0", "except": list(PRIVATE_IPV6)}},
]


def _policy(name: str, namespace: str, labels: Mapping[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": spec,
    }


def network_policies(
    settings: NetworkPolicySettings,
    *,
    namespace: str,
    agent_pods: Mapping[str, str] | None,
    labels: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The NetworkPolicies of the namespace; ``agent_pods`` selects the agent's pods (None: no agent)."""
    if not settings.enabled:
        return []
    everyone: dict[str, Any] = {}
    policies = [
        _policy(DEFAULT_DENY, namespace, labels, {"podSelector": everyone, "policyTypes": ["Ingress", "Egress"]}),
        _policy(
            "codex-allow-same-namespace",
            namespace,
            labels,
            {
                "podSelector": everyone,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": everyone}]}],
                "egress": [{"to": [{"podSelector": everyone}]}],
            },
        ),
        _policy(
            "codex-allow-dns",
            namespace,
            labels,
            {
                "podSelector": everyone,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"namespaceSelector": {"matchLabels": {NAME_LABEL: "kube-system"}}}],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
    ]
    if settings.ingress_from:
        policies.append(
            _policy(
                "codex-allow-ingress-controller",
                namespace,
                labels,
                {
                    "podSelector": everyone,
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {
                                        "matchExpressions": [
                                            {"key": NAME_LABEL, "operator": "In", "values": list(settings.ingress_from)}
                                        ]
                                    }
                                }
                            ]
                        }
                    ],
                },
            )
        )
    if agent_pods:
        if settings.api_server:
            api: dict[str, Any] = {"to": [{"ipBlock": {"cidr": cidr}} for cidr in settings.api_server]}
        else:
            api = {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}],
                "ports": [{"protocol": "TCP", "port": port} for port in API_SERVER_PORTS],
            }
        policies.append(
            _policy(
                "codex-allow-agent-egress",
                namespace,
                labels,
                {
                    "podSelector": {"matchLabels": dict(agent_pods)},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": INTERNET}, api],
                },
            )
        )
    for index, selector in enumerate(settings.internet_egress):
        policies.append(
            _policy(
                f"codex-allow-internet-{index}",
                namespace,
                labels,
                {
                    "podSelector": {"matchLabels": dict(selector)},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": INTERNET}],
                },
            )
        )
    return copy.deepcopy(policies)  # no two objects share a nested list or mapping
