"""Containment rules R1-R6 for pods that run their users' code: the egress they are allowed, over the NetworkPolicies of the stack.

What the pods may reach is evaluated once, by ``gke.reachability``; these rules judge it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from .. import limits
from .. import policies as policy
from ..manifest import (
    Manifest,
    as_list,
    as_number,
    field_at,
    format_number,
    mapping_at,
    namespace_of,
    pod_labels,
    reference,
)
from ..model import Context, Problem
from ..reachability import Destination, Network, address, allowing_rules, egress_policies, network
from ..registry import resource_rule, stack_rule
from ..rules.user_code import DNS_PORT, NETWORK_POLICY, WORKLOADS, network_policies, user_code_workloads
from ..stack import StackView


def _egress_rules(policy_manifest: Manifest) -> list[Mapping[str, Any]]:
    return [r for r in as_list(field_at(policy_manifest, "spec", "egress")) if isinstance(r, Mapping)]


@resource_rule(
    "egress-no-allow-all",
    policy.EGRESS_RULES_BOUNDED,
    (NETWORK_POLICY,),
    "Every egress rule names its destinations and its ports; no namespaceSelector {} peer.",
    "R2: https://kubernetes.io/docs/concepts/services-networking/network-policies/",
)
def no_allow_all(manifest: Manifest) -> Iterator[Problem]:
    for i, rule in enumerate(_egress_rules(manifest)):
        where = f"spec.egress[{i}]"
        if not as_list(rule.get("to")):
            yield Problem(f"{where} has no 'to': it allows every destination.", "list the destinations (ipBlock with except, or kube-dns).", subject=where)
        if not as_list(rule.get("ports")):
            yield Problem(f"{where} has no 'ports': it allows every port.", "list the ports (53 for DNS, 443 for the internet).", subject=where)
        for j, peer in enumerate(as_list(rule.get("to"))):
            selector = field_at(peer, "namespaceSelector")
            if isinstance(selector, Mapping) and not mapping_at(selector, "matchLabels") and not field_at(selector, "matchExpressions"):
                yield Problem(
                    f"{where}.to[{j}] has an empty namespaceSelector: it selects every namespace.",
                    "select the one namespace (kubernetes.io/metadata.name) the rule is for.",
                    subject=f"{where}.to[{j}]",
                )


@stack_rule(
    "ide-egress-isolated",
    policy.IDE_EGRESS,
    (NETWORK_POLICY, *WORKLOADS),
    "Pods that run user code are selected by a NetworkPolicy with Egress.",
    "R1: https://kubernetes.io/docs/concepts/services-networking/network-policies/; https://kubernetes.io/docs/concepts/security/multi-tenancy/#network-isolation",
)
def egress_isolated(stack: StackView, _context: Context) -> Iterator[Problem]:
    for workload in user_code_workloads(stack):
        if not egress_policies(network_policies(stack), pod_labels(workload), namespace_of(workload), assume=False):
            yield Problem(
                "runs user code but no NetworkPolicy with Egress selects its pods: they reach the metadata server, the kubelet, the cluster and the VPC.",
                "declare an egress policy for its pod labels (coditect.EgressPolicy).",
                resource=reference(workload),
            )


def _metadata_destinations() -> list[Destination]:
    return [address(ip, port) for ip, port in limits.METADATA_ENDPOINTS]


@stack_rule(
    "egress-metadata-denied",
    policy.IDE_EGRESS,
    (NETWORK_POLICY, *WORKLOADS),
    "No egress rule lets pods that run user code reach the metadata server (169.254.169.254:80/8080, 169.254.169.252:987/988).",
    "R3: https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity; https://cloud.google.com/kubernetes-engine/docs/concepts/sandbox-pods",
)
def metadata_denied(stack: StackView, context: Context) -> Iterator[Problem]:
    resolvers = _resolver_networks(context)
    for workload in user_code_workloads(stack):
        labels, namespace = pod_labels(workload), namespace_of(workload)
        if not egress_policies(network_policies(stack), labels, namespace, assume=False):
            continue  # not isolated at all: ide-egress-isolated's finding
        blamed: set[tuple[str, int]] = set()
        for destination in _metadata_destinations():
            for policy_manifest, index in allowing_rules(network_policies(stack), labels, namespace, destination):
                blamed.add((reference(policy_manifest), index))
                yield Problem(
                    f"spec.egress[{index}] of {reference(policy_manifest)} lets its pods reach the metadata server at "
                    f"{destination}, which hands out credentials.",
                    _metadata_fix(policy_manifest, index),
                    resource=reference(workload),
                    subject=str(destination),
                )
        # Defence in depth (R3): an ipBlock that contains a metadata address excepts it, whatever its ports;
        # only the declared resolver on port 53 alone may be inside (Cloud DNS answers on 169.254.169.254:53).
        for policy_manifest in egress_policies(network_policies(stack), labels, namespace):
            for i, rule in enumerate(_egress_rules(policy_manifest)):
                if (reference(policy_manifest), i) in blamed:
                    continue
                dns = _is_dns_rule(rule)
                for peer in [p for p in as_list(rule.get("to")) if isinstance(p, Mapping)]:
                    parts = [part for part in allowed_networks(peer) if not (dns and _inside(part, resolvers))]
                    if any(any(d.ip is not None and d.ip in part for d in _metadata_destinations()) for part in parts):
                        yield Problem(
                            f"spec.egress[{i}] of {reference(policy_manifest)} does not except the metadata addresses from "
                            f"{mapping_at(peer, 'ipBlock').get('cidr')}: one port away from handing out credentials.",
                            _peer_fix(peer),
                            resource=reference(workload),
                            subject=f"spec.egress[{i}]",
                        )
                        break


LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")


def _peer_fix(peer: Mapping[str, Any]) -> str:
    """`except` must be a strict subset of `cidr` (kubernetes pkg/apis/networking/validation/validation.go,
    ValidateIPBlock): a block inside link-local cannot except 169.254.0.0/16, it must go."""
    cidr = network(mapping_at(peer, "ipBlock").get("cidr"))
    if cidr is not None and cidr.version == 4 and cidr.subnet_of(LINK_LOCAL):  # type: ignore[arg-type]
        return (
            f"remove the ipBlock {cidr}: it names the metadata server; only DNS may go there, on port 53 alone (UDP and TCP), with containment.dns cloud-dns."
        )
    return "add 169.254.0.0/16 to the ipBlock's except."


def _metadata_fix(policy_manifest: Mapping[str, Any], index: int) -> str:
    rules = _egress_rules(policy_manifest)
    rule = rules[index] if index < len(rules) else {}
    peers = [p for p in as_list(rule.get("to")) if isinstance(p, Mapping) and mapping_at(p, "ipBlock")]
    if not peers:
        return "give that rule ports and destinations that exclude the metadata server (an empty `to` or `ports` allows everything)."
    return "; ".join(dict.fromkeys(_peer_fix(p) for p in peers))


def allowed_networks(peer: Mapping[str, Any]) -> list[Network]:
    """The addresses an ipBlock peer allows: its cidr minus every except."""
    block = mapping_at(peer, "ipBlock")
    cidr = network(block.get("cidr")) if block else None
    if cidr is None:
        return []
    remaining: list[Network] = [cidr]
    for text in as_list(block.get("except")):
        excepted = network(text)
        if excepted is None or excepted.version != cidr.version:
            continue
        next_remaining: list[Network] = []
        for part in remaining:
            if excepted.supernet_of(part):  # type: ignore[arg-type]
                continue
            if part.overlaps(excepted):
                next_remaining.extend(part.address_exclude(excepted))  # type: ignore[arg-type]
            else:
                next_remaining.append(part)
        remaining = next_remaining
    return remaining


def _is_dns_rule(rule: Mapping[str, Any]) -> bool:
    ports = [p for p in as_list(rule.get("ports")) if isinstance(p, Mapping)]
    return bool(ports) and all(as_number(p.get("port")) == DNS_PORT and p.get("endPort") is None for p in ports)


def _lateral_ranges(context: Context) -> list[Network]:
    ranges = [*limits.LATERAL_RANGES, *context.containment.cluster_ranges]
    return [n for n in (network(r) for r in ranges) if n is not None]


def _resolver_networks(context: Context) -> list[Network]:
    resolver = limits.DNS_RESOLVER_ADDRESSES.get(context.containment.dns)
    return [ipaddress.ip_network(resolver)] if resolver else []


@stack_rule(
    "egress-no-lateral",
    policy.IDE_EGRESS,
    (NETWORK_POLICY, *WORKLOADS),
    "Pods that run user code reach no private, link-local or cluster range and no in-cluster pod, except DNS to the resolver.",
    "R4: https://kubernetes.io/docs/concepts/services-networking/network-policies/; https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity#metadata_server",
)
def no_lateral(stack: StackView, context: Context) -> Iterator[Problem]:
    lateral, resolvers = _lateral_ranges(context), _resolver_networks(context)
    for workload in user_code_workloads(stack):
        for policy_manifest in egress_policies(network_policies(stack), pod_labels(workload), namespace_of(workload)):
            for i, rule in enumerate(_egress_rules(policy_manifest)):
                dns = _is_dns_rule(rule)
                for peer in [p for p in as_list(rule.get("to")) if isinstance(p, Mapping)]:
                    where = f"spec.egress[{i}] of {reference(policy_manifest)}"
                    if not mapping_at(peer, "ipBlock"):
                        if not dns:
                            yield Problem(
                                f"{where} lets its pods reach in-cluster pods by selector on ports other than DNS.",
                                "allow selector peers only for kube-dns on port 53.",
                                resource=reference(workload),
                                subject=where,
                            )
                        continue
                    for allowed in allowed_networks(peer):
                        hit = next(
                            (
                                r
                                for r in lateral
                                if allowed.version == r.version
                                and allowed.overlaps(r)
                                and not (dns and any(allowed.version == d.version and d.supernet_of(allowed) for d in resolvers))  # type: ignore[arg-type]
                            ),
                            None,
                        )
                        if hit is not None:
                            yield Problem(
                                f"{where} lets its pods reach {allowed}, inside {hit}: the VPC, the cluster or link-local services.",
                                f"except {hit} from that ipBlock.",
                                resource=reference(workload),
                                subject=where,
                            )
                            break


def _dns_destinations(context: Context, protocol: str) -> list[Destination]:
    """Every resolver the pods may query: the declared one, and the kube-dns pods where they fall back to them."""
    found = []
    resolver = limits.DNS_RESOLVER_ADDRESSES.get(context.containment.dns)
    if resolver:
        found.append(address(resolver, DNS_PORT, protocol))
    if context.containment.dns in limits.DNS_KUBE_DNS_FALLBACK:
        found.append(Destination(DNS_PORT, protocol, pod_labels=limits.KUBE_DNS_POD_LABELS, namespace_labels=limits.KUBE_SYSTEM_NAMESPACE_LABELS))
    return found


@stack_rule(
    "egress-dns-allowed",
    policy.IDE_EGRESS,
    (NETWORK_POLICY, *WORKLOADS),
    "Pods that run user code may query the declared resolver on UDP and TCP 53.",
    "R5: https://cloud.google.com/kubernetes-engine/docs/how-to/nodelocal-dns-cache; https://cloud.google.com/kubernetes-engine/docs/concepts/kube-dns; https://cloud.google.com/kubernetes-engine/docs/concepts/about-cloud-dns",
)
def dns_allowed(stack: StackView, context: Context) -> Iterator[Problem]:
    for workload in user_code_workloads(stack):
        labels, namespace = pod_labels(workload), namespace_of(workload)
        if not egress_policies(network_policies(stack), labels, namespace, assume=False):
            continue
        for protocol in ("UDP", "TCP"):
            for destination in _dns_destinations(context, protocol):
                if allowing_rules(network_policies(stack), labels, namespace, destination):
                    continue
                yield Problem(
                    f"its pods cannot reach DNS ({context.containment.dns}, {destination}): the IDE fails on every name lookup.",
                    f"allow {protocol} 53 to the resolver the cluster uses.",
                    resource=reference(workload),
                    subject=f"DNS {protocol} {destination}",
                )


def _inside(part: Network, ranges: list[Network]) -> bool:
    return any(part.version == r.version and part.subnet_of(r) for r in ranges)  # type: ignore[arg-type]


def _reaches_internet(peer: Mapping[str, Any]) -> bool:
    """Some address the peer allows lies outside every private and link-local range."""
    private = [n for n in (network(r) for r in (*limits.PRIVATE_RANGES, *limits.PRIVATE_RANGES_V6)) if n is not None]
    return any(not _inside(part, private) for part in allowed_networks(peer))


@stack_rule(
    "egress-internet-port-bound",
    policy.IDE_EGRESS,
    (NETWORK_POLICY, *WORKLOADS),
    "Internet egress of pods that run user code is limited to the declared ports.",
    "R6: https://kubernetes.io/docs/concepts/services-networking/network-policies/; https://cloud.google.com/kubernetes-engine/docs/how-to/fqdn-network-policies",
)
def internet_port_bound(stack: StackView, context: Context) -> Iterator[Problem]:
    allowed_ports = context.containment.internet_ports
    for workload in user_code_workloads(stack):
        for policy_manifest in egress_policies(network_policies(stack), pod_labels(workload), namespace_of(workload)):
            for i, rule in enumerate(_egress_rules(policy_manifest)):
                if not any(_reaches_internet(p) for p in as_list(rule.get("to")) if isinstance(p, Mapping)):
                    continue
                ports = [p for p in as_list(rule.get("ports")) if isinstance(p, Mapping)]
                numbers = {as_number(p.get("port")) for p in ports}
                wide = [p for p in ports if p.get("endPort") is not None or p.get("port") is None]
                if not ports or wide or not numbers <= {float(n) for n in allowed_ports}:
                    shown = sorted(format_number(n) for n in numbers if n is not None)
                    yield Problem(
                        f"spec.egress[{i}] of {reference(policy_manifest)} opens the internet on ports {shown or 'all'}"
                        f"{' (or a range)' if wide else ''}, beyond the declared {sorted(allowed_ports)}.",
                        "list only the declared internet ports (containment.internetPorts).",
                        resource=reference(workload),
                        subject=f"spec.egress[{i}]",
                    )
