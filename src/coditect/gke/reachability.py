"""What a pod may reach under the NetworkPolicies of its namespace, evaluated once, offline.

Kubernetes semantics (kubernetes.io network-policies): a pod is isolated for egress iff some
NetworkPolicy of its namespace selects it and has ``Egress`` in its ``policyTypes`` (given, or
implied by egress rules). An isolated pod may reach a destination iff some egress rule of a selecting
policy allows it: the rule's ``ports`` are empty or one matches (port, or port..endPort, and the
protocol, TCP by default), and its ``to`` is empty or one peer matches. An ``ipBlock`` peer matches an
address inside ``cidr`` and outside every ``except``. Selector peers (pods, namespaces) cannot be
resolved offline: they match only destinations described as in-cluster pods, never an IP address.
Rules are allow-only and additive; a non-isolated pod may reach everything. Selectors are evaluated
with matchExpressions; one that cannot be resolved is assumed to select when judging what is allowed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .manifest import Manifest, as_list, as_number, field_at, mapping_at, namespace_of

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


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool | None:
    """Whether a LabelSelector matches these labels: matchLabels and every matchExpressions requirement
    (In, NotIn, Exists, DoesNotExist), ANDed; an empty selector matches everything
    (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements).
    None: it cannot be resolved (an unknown operator, values missing where required or given where not)."""
    match = field_at(selector, "matchLabels")
    expressions = field_at(selector, "matchExpressions")
    if (match is not None and not isinstance(match, Mapping)) or (expressions is not None and not isinstance(expressions, list)):
        return None
    result: bool | None = all(labels.get(k) == v for k, v in (match or {}).items())
    for requirement in expressions or []:
        verdict = _requirement_matches(requirement, labels)
        if verdict is False:
            return False
        if verdict is None:
            result = None
    return result


def _requirement_matches(requirement: Any, labels: Mapping[str, Any]) -> bool | None:
    if not isinstance(requirement, Mapping) or not isinstance(requirement.get("key"), str):
        return None
    key, operator, values = requirement["key"], requirement.get("operator"), requirement.get("values")
    if values is not None and (not isinstance(values, list) or not all(isinstance(v, str) for v in values)):
        return None
    if operator in ("In", "NotIn"):
        if not values:
            return None  # the API server requires values for In and NotIn
        inside = key in labels and labels[key] in values
        return inside if operator == "In" else not inside
    if operator in ("Exists", "DoesNotExist"):
        if values:
            return None  # and none for Exists and DoesNotExist
        return (key in labels) == (operator == "Exists")
    return None


def selects_pod(policy: Manifest, pod_labels: Mapping[str, Any], namespace: str, assume: bool = True) -> bool:
    """Whether the policy selects the pod. `assume`: the answer for a selector that cannot be resolved.
    Egress rules of all selecting policies are ORed, so judging what is allowed assumes it selects (a
    policy ignored would drop its allows); judging whether the pod is isolated at all assumes not."""
    if namespace_of(policy) != namespace:
        return False
    selector = field_at(policy, "spec", "podSelector")
    if not isinstance(selector, Mapping):
        return False
    verdict = selector_matches(selector, pod_labels)
    return assume if verdict is None else verdict


def has_egress(policy: Manifest) -> bool:
    types = as_list(field_at(policy, "spec", "policyTypes"))
    if types:
        return "Egress" in types
    return bool(as_list(field_at(policy, "spec", "egress")))


def egress_policies(policies: Iterable[Manifest], pod_labels: Mapping[str, Any], namespace: str, assume: bool = True) -> list[Manifest]:
    """The NetworkPolicies that isolate this pod for egress (`assume`: see selects_pod)."""
    return [p for p in policies if has_egress(p) and selects_pod(p, pod_labels, namespace, assume)]


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
    """A peer's selector; one that cannot be resolved is taken to match (what is allowed is judged)."""
    return selector_matches(selector, labels) is not False


def rule_allows(rule: Mapping[str, Any], destination: Destination) -> bool:
    ports = [p for p in as_list(rule.get("ports")) if isinstance(p, Mapping)]
    peers = [p for p in as_list(rule.get("to")) if isinstance(p, Mapping)]
    ports_ok = not as_list(rule.get("ports")) or any(_port_matches(p, destination) for p in ports)
    peers_ok = not as_list(rule.get("to")) or any(_peer_matches(p, destination) for p in peers)
    return ports_ok and peers_ok


def allows(policies: Sequence[Manifest], pod_labels: Mapping[str, Any], namespace: str, destination: Destination) -> bool:
    """Whether a pod with these labels in this namespace may open a connection to `destination`."""
    if not egress_policies(policies, pod_labels, namespace, assume=False):
        return True  # not isolated for certain: it may reach everything
    return any(
        rule_allows(rule, destination)
        for policy in egress_policies(policies, pod_labels, namespace)
        for rule in as_list(field_at(policy, "spec", "egress"))
        if isinstance(rule, Mapping)
    )


def allowing_rules(policies: Sequence[Manifest], pod_labels: Mapping[str, Any], namespace: str, destination: Destination) -> list[tuple[Manifest, int]]:
    """(policy, rule index) of every rule that lets the pod reach `destination` (empty when isolated and denied)."""
    found = []
    for policy in egress_policies(policies, pod_labels, namespace):
        for i, rule in enumerate(as_list(field_at(policy, "spec", "egress"))):
            if isinstance(rule, Mapping) and rule_allows(rule, destination):
                found.append((policy, i))
    return found
