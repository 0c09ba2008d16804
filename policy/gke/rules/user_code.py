"""Containment of pods that run their users' code (the IDE gives its users a terminal): rules R1-R9, over the manifests of the stack. Pods that run user code are the pod
templates labelled ``coditect.ai/runs-user-code: "true"``; what they may reach is evaluated once, by
``gke.reachability``."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from gke import limits
from gke import policies as policy
from gke.manifest import (
    HPA,
    WORKLOAD_KINDS,
    Manifest,
    as_list,
    as_number,
    containers,
    field_at,
    format_number,
    mapping_at,
    namespace_of,
    pod_labels,
    pod_spec,
    reference,
)
from gke.model import Context, Problem
from gke.reachability import Destination, Network, address, allowing_rules, egress_policies, network
from gke.registry import resource_rule, stack_rule
from gke.stack import StackView

NETWORK_POLICY = "NetworkPolicy"
SERVICE_ACCOUNT = "ServiceAccount"
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
WORKLOADS = tuple(sorted(WORKLOAD_KINDS))
DNS_PORT = 53


def runs_user_code(workload: Manifest) -> bool:
    return str(pod_labels(workload).get(limits.RUNS_USER_CODE_LABEL, "")).lower() == "true"


def user_code_workloads(stack: StackView) -> list[Manifest]:
    return [w for w in stack.workloads if runs_user_code(w)]


def network_policies(stack: StackView) -> list[Manifest]:
    return stack.of_kind(NETWORK_POLICY)


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
                "declare an egress policy for its pod labels (components.EgressPolicy).",
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


def _host_access(workload: Manifest) -> list[str]:
    pod = pod_spec(workload)
    found = [field for field in ("hostNetwork", "hostPID", "hostIPC") if pod.get(field) is True]
    found += [f"volume {v.get('name')!r} is a hostPath" for v in as_list(pod.get("volumes")) if isinstance(v, Mapping) and v.get("hostPath")]
    for container in containers(workload):
        context = mapping_at(container, "securityContext")
        if context.get("privileged") is True:
            found.append(f"container {container.get('name')!r} is privileged")
        if as_list(field_at(context, "capabilities", "add")):
            found.append(f"container {container.get('name')!r} adds capabilities")
        limits_ = mapping_at(container, "resources", "limits")
        if limits_.get("cpu") is None or limits_.get("memory") is None:
            found.append(f"container {container.get('name')!r} has no cpu and memory limits")
    return found


@stack_rule(
    "ide-sandboxed",
    policy.IDE_SANDBOX,
    WORKLOADS,
    "Pods that run user code: runtimeClassName gvisor where required, limits on every container, no host access.",
    "R7: https://cloud.google.com/kubernetes-engine/docs/concepts/sandbox-pods; https://kubernetes.io/docs/concepts/security/pod-security-standards/",
)
def sandboxed(stack: StackView, context: Context) -> Iterator[Problem]:
    for workload in user_code_workloads(stack):
        if context.containment.sandbox_required and pod_spec(workload).get("runtimeClassName") != limits.GVISOR_RUNTIME_CLASS:
            yield Problem(
                f"runs user code outside GKE Sandbox (runtimeClassName {pod_spec(workload).get('runtimeClassName')!r}) although "
                "the stack requires it: a kernel exploit from the terminal reaches the node.",
                f"set runtimeClassName: {limits.GVISOR_RUNTIME_CLASS} (containment.sandbox).",
                resource=reference(workload),
                subject="spec.template.spec.runtimeClassName",
            )
        for problem in _host_access(workload):
            yield Problem(
                f"runs user code with host access or unbounded resources: {problem}.",
                "remove it; pods that run user code get no host access and set limits.",
                resource=reference(workload),
                subject=problem,
            )


def _service_account(stack: StackView, workload: Manifest) -> tuple[str, Manifest | None]:
    name = str(pod_spec(workload).get("serviceAccountName") or "default")
    return name, stack.index(SERVICE_ACCOUNT).get((namespace_of(workload), name))


def _bindings_naming(stack: StackView, namespace: str, name: str) -> list[Manifest]:
    found = []
    for kind in BINDING_KINDS:
        for binding in stack.of_kind(kind):
            for subject in as_list(field_at(binding, "subjects")):
                if (
                    field_at(subject, "kind") == "ServiceAccount"
                    and field_at(subject, "name") == name
                    and (field_at(subject, "namespace") or namespace_of(binding)) == namespace
                ):
                    found.append(binding)
    return found


@stack_rule(
    "ide-identity",
    policy.IDE_IDENTITY,
    (SERVICE_ACCOUNT, *BINDING_KINDS, *WORKLOADS),
    "The service account of pods that run user code: no Workload Identity annotation, no mounted token, no RBAC binding.",
    "R8: https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity",
)
def identity(stack: StackView, _context: Context) -> Iterator[Problem]:
    for workload in user_code_workloads(stack):
        name, account = _service_account(stack, workload)
        where = reference(workload)
        annotations = mapping_at(account, "metadata", "annotations") if account else {}
        if limits.WORKLOAD_IDENTITY_ANNOTATION in annotations:
            yield Problem(
                f"runs user code as service account {name!r}, bound to Google service account "
                f"{annotations[limits.WORKLOAD_IDENTITY_ANNOTATION]!r}: anyone at the terminal gets its Google credentials.",
                f"remove {limits.WORKLOAD_IDENTITY_ANNOTATION} from the service account.",
                resource=where,
                subject=name,
            )
        if pod_spec(workload).get("automountServiceAccountToken") is not False or (
            account is not None and account.get("automountServiceAccountToken") is not False
        ):
            yield Problem(
                f"mounts a token of service account {name!r} into pods that run user code.",
                "set automountServiceAccountToken: false on the pod and the service account.",
                resource=where,
                subject=name,
            )
        for binding in _bindings_naming(stack, namespace_of(workload), name):
            yield Problem(
                f"runs user code as service account {name!r}, which {reference(binding)} grants Kubernetes API access.",
                "remove the binding: the IDE needs no API access.",
                resource=where,
                subject=reference(binding),
            )


@stack_rule(
    "namespace-default-deny",
    policy.NAMESPACE_DEFAULT_DENY,
    (NETWORK_POLICY, *WORKLOADS),
    "A namespace with pods that run user code has a default deny of ingress and egress.",
    "R1: https://kubernetes.io/docs/concepts/security/multi-tenancy/#network-isolation",
)
def default_deny(stack: StackView, _context: Context) -> Iterator[Problem]:
    namespaces = sorted({namespace_of(w) for w in user_code_workloads(stack)})
    for namespace in namespaces:
        denies = [
            p
            for p in network_policies(stack)
            if namespace_of(p) == namespace
            and not mapping_at(p, "spec", "podSelector")
            and {"Ingress", "Egress"} <= set(as_list(field_at(p, "spec", "policyTypes")))
            and not as_list(field_at(p, "spec", "egress"))
            and not as_list(field_at(p, "spec", "ingress"))
        ]
        if not denies:
            yield Problem(
                f"namespace {namespace!r} runs user code without a default-deny NetworkPolicy: a pod added later is open.",
                "declare podSelector {} with policyTypes [Ingress, Egress] and no rules.",
                resource=f"Namespace {namespace}",
            )


@stack_rule(
    "shared-tenancy",
    policy.SHARED_TENANCY,
    (*WORKLOADS, HPA),
    "Said on every render: users share the IDE's pods (a per-user session workload would isolate them).",
    "R9: https://kubernetes.io/docs/concepts/security/multi-tenancy/#network-isolation",
)
def shared_tenancy(stack: StackView, _context: Context) -> Iterator[Problem]:
    for workload in user_code_workloads(stack):
        yield Problem(
            "several users share each pod (one UID, one filesystem): any user's code can read another's workspace and "
            "processes; the infrastructure here cannot separate them.",
            "run one sandboxed workload per user session, behind authentication.",
            resource=reference(workload),
        )
