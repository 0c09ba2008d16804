"""What a pod may reach under the NetworkPolicies of its namespace, evaluated once, offline.

Kubernetes semantics (kubernetes.io network-policies): a pod is isolated for egress iff some
NetworkPolicy of its namespace selects it and has ``Egress`` in its ``policyTypes`` (given, or
implied by egress rules). An isolated pod may reach a destination iff some egress rule of a selecting
policy allows it: the rule's ``ports`` are empty or one matches (port, or port..endPort, and the
protocol, TCP by default), and its ``to`` is empty or one peer matches. An ``ipBlock`` peer matches an
address inside ``cidr`` and outside every ``except``. Selector peers (pods, namespaces) cannot be
resolved offline: they match only destinations described as in-cluster pods, never an IP address.
Rules are allow-only and additive; a non-isolated pod may reach everything.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gke.manifest import Manifest, as_list, as_number, field_at, mapping_at, namespace_of, selects

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Destination:
    """Where a connection goes: an IP address, or (``ip`` None) an in-cluster pod matched by selectors."""

    port: int
    protocol: str = "TCP"
    ip: Address | None = None
    pod_labels: Mapping[str, str] | None = None  # for an in-cluster pod destination
    namespace_labels: Mapping[str, str] | None = None

    def __str__(self) -> str:
        where = str(self.ip) if self.ip is not None else f"pods {dict(self.pod_labels or {})}"
        return f"{where}:{self.port}/{self.protocol}"


def address(text: str, port: int, protocol: str = "TCP") -> Destination:
    return Destination(port, protocol, ipaddress.ip_address(text))


def network(text: Any) -> Network | None:
    try:
        return ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        return None


def selects_pod(policy: Manifest, pod_labels: Mapping[str, Any], namespace: str) -> bool:
    if namespace_of(policy) != namespace:
        return False
    selector = field_at(policy, "spec", "podSelector")
    if not isinstance(selector, Mapping):
        return False
    match = mapping_at(selector, "matchLabels")
    # An empty podSelector selects every pod of the namespace. (matchExpressions: not used here, so a
    # policy relying on them is treated as selecting nothing, never as selecting more.)
    if field_at(selector, "matchExpressions"):
        return False
    return not match or selects(match, pod_labels)


def has_egress(policy: Manifest) -> bool:
    types = as_list(field_at(policy, "spec", "policyTypes"))
    if types:
        return "Egress" in types
    return bool(as_list(field_at(policy, "spec", "egress")))


def egress_policies(policies: Iterable[Manifest], pod_labels: Mapping[str, Any], namespace: str) -> list[Manifest]:
    """The NetworkPolicies that isolate this pod for egress."""
    return [p for p in policies if has_egress(p) and selects_pod(p, pod_labels, namespace)]


def _port_matches(port_spec: Mapping[str, Any], destination: Destination) -> bool:
    if str(port_spec.get("protocol") or "TCP") != destination.protocol:
        return False
    port = port_spec.get("port")
    if port is None:
        return True  # every port of that protocol
    number = as_number(port)
    if number is None:
        return False  # a named port is a pod's port name: it never matches an address outside the cluster
    end = as_number(port_spec.get("endPort"))
    return number <= destination.port <= (end if end is not None else number)


def _peer_matches(peer: Mapping[str, Any], destination: Destination) -> bool:
    block = mapping_at(peer, "ipBlock")
    if block:
        if destination.ip is None:
            return False
        cidr = network(block.get("cidr"))
        if cidr is None or destination.ip.version != cidr.version or destination.ip not in cidr:
            return False
        for excepted in as_list(block.get("except")):
            excepted_network = network(excepted)
            if excepted_network is not None and excepted_network.version == destination.ip.version and destination.ip in excepted_network:
                return False
        return True
    if destination.ip is not None:
        return False  # selectors name pods, not addresses
    pod_selector = field_at(peer, "podSelector")
    namespace_selector = field_at(peer, "namespaceSelector")
    pods_ok = pod_selector is None or selects_all_or(mapping_at(peer, "podSelector"), destination.pod_labels or {})
    namespaces_ok = namespace_selector is None or selects_all_or(mapping_at(peer, "namespaceSelector"), destination.namespace_labels or {})
    return pods_ok and namespaces_ok


def selects_all_or(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    match = mapping_at(selector, "matchLabels")
    return not match or selects(match, labels)


def rule_allows(rule: Mapping[str, Any], destination: Destination) -> bool:
    ports = [p for p in as_list(rule.get("ports")) if isinstance(p, Mapping)]
    peers = [p for p in as_list(rule.get("to")) if isinstance(p, Mapping)]
    ports_ok = not as_list(rule.get("ports")) or any(_port_matches(p, destination) for p in ports)
    peers_ok = not as_list(rule.get("to")) or any(_peer_matches(p, destination) for p in peers)
    return ports_ok and peers_ok


def allows(policies: Sequence[Manifest], pod_labels: Mapping[str, Any], namespace: str, destination: Destination) -> bool:
    """Whether a pod with these labels in this namespace may open a connection to `destination`."""
    isolating = egress_policies(policies, pod_labels, namespace)
    if not isolating:
        return True
    return any(rule_allows(rule, destination) for policy in isolating
               for rule in as_list(field_at(policy, "spec", "egress")) if isinstance(rule, Mapping))


def allowing_rules(policies: Sequence[Manifest], pod_labels: Mapping[str, Any], namespace: str,
                   destination: Destination) -> list[tuple[Manifest, int]]:
    """(policy, rule index) of every rule that lets the pod reach `destination` (empty when isolated and denied)."""
    found = []
    for policy in egress_policies(policies, pod_labels, namespace):
        for i, rule in enumerate(as_list(field_at(policy, "spec", "egress"))):
            if isinstance(rule, Mapping) and rule_allows(rule, destination):
                found.append((policy, i))
    return found
