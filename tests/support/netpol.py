"""A test double of a CNI enforcing NetworkPolicies: does this connection get through?

Semantics from kubernetes.io/docs/concepts/services-networking/network-policies/ ("The two
sorts of pod isolation", "Behavior of to and from selectors", ipBlock):

- A pod is isolated for egress (ingress) when some policy of its namespace selects it and lists
  ``Egress`` (``Ingress``) in ``policyTypes``; an isolated pod's connections are allowed only
  when some such policy has a rule that matches; policies add up (a union), never subtract.
- A connection needs both: the source's egress allows it and the destination's ingress allows it.
- In a rule, an empty ``to``/``from`` list matches everything, and so does an empty ``ports``
  list. A peer with ``podSelector`` alone selects pods of the policy's own namespace, with
  ``namespaceSelector`` alone every pod of the selected namespaces, with both their intersection;
  ``ipBlock`` matches addresses in ``cidr`` and not in ``except``.
- Namespaces carry ``kubernetes.io/metadata.name: <name>`` (set by Kubernetes 1.22+).

Addresses outside the cluster are modelled as bare IPs; pods as (namespace, labels, IP). Traffic
to a Service is judged after it is translated to the endpoint (the pod, or the API server's
address). Whether an ``ipBlock`` also matches pod IPs is left to the implementation by the docs;
the common CNIs (Calico, Cilium) match them, and so does this double: the unkind reading.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ip: str = "10.1.0.10"  # pod networks are private ranges in practice


Endpoint = Pod | str


def _selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        present = expression["key"] in labels
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _namespace_labels(name: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": name}


def _peer_matches(peer: Mapping[str, Any], policy_namespace: str, endpoint: Endpoint) -> bool:
    if "ipBlock" in peer:
        address = ipaddress.ip_address(endpoint if isinstance(endpoint, str) else endpoint.ip)
        block = peer["ipBlock"]
        network = ipaddress.ip_network(block["cidr"])
        if address.version != network.version or address not in network:
            return False
        return not any(
            address.version == ipaddress.ip_network(cidr).version and address in ipaddress.ip_network(cidr)
            for cidr in block.get("except") or []
        )
    if not isinstance(endpoint, Pod):
        return False
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], _namespace_labels(endpoint.namespace)):
            return False
    elif endpoint.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or _selects(peer["podSelector"], endpoint.labels)


def _port_matches(ports: Sequence[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    return any(item.get("protocol", "TCP") == protocol and item.get("port") in (None, port) for item in ports)


def _direction_allows(
    policies: Sequence[Mapping[str, Any]], pod: Pod, other: Endpoint, port: int, protocol: str, direction: str
) -> bool:
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    isolating = [
        policy
        for policy in policies
        if policy["metadata"]["namespace"] == pod.namespace
        and _selects(policy["spec"]["podSelector"], pod.labels)
        and direction in policy["spec"].get("policyTypes", ["Ingress"])
    ]
    if not isolating:
        return True
    for policy in isolating:
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key) or []
            if (not peers or any(_peer_matches(peer, pod.namespace, other) for peer in peers)) and _port_matches(
                rule.get("ports"), port, protocol
            ):
                return True
    return False


def connects(
    policies: Sequence[Mapping[str, Any]], source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP"
) -> bool:
    """Whether ``source`` may open a connection to ``destination:port``."""
    if isinstance(source, Pod) and not _direction_allows(policies, source, destination, port, protocol, "Egress"):
        return False
    return not (
        isinstance(destination, Pod) and not _direction_allows(policies, destination, source, port, protocol, "Ingress")
    )
