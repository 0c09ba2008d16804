"""The pods' network: the load balancer's ingress to the serving port, the egress of pods that run user
code, and the namespace's default deny."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_kubernetes as k8s

from coditect.base import PART_OF, child_opts, manifest, type_token
from coditect.deployment import CombinedDeployment
from coditect.gke import limits
from coditect.namespace import AppNamespace
from coditect.plan import declare
from coditect.settings import ContainmentSettings


class LoadBalancerNetworkPolicy(pulumi.ComponentResource):
    """With NEG the load balancer talks to pod IPs directly, from Google's proxy and health-check
    ranges; everything else is denied ingress to the pods of the Deployment."""

    def __init__(self, resource_name: str, target: CombinedDeployment, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("LoadBalancerNetworkPolicy"), resource_name, None, opts)
        metadata = k8s.meta.v1.ObjectMetaArgs(name=f"{target.name}-from-load-balancer", namespace=target.namespace.name, labels=target.pod_labels)
        spec = k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=target.pod_labels),
            policy_types=["Ingress"],
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr))
                        for cidr in limits.LOAD_BALANCER_SOURCE_RANGES
                    ],
                    ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=target.serving_port.number, protocol="TCP")],
                )
            ],
        )
        self.manifest = manifest("networking.k8s.io/v1", "NetworkPolicy", metadata, spec)

        def create() -> None:
            self.resource = k8s.networking.v1.NetworkPolicy(resource_name, metadata=metadata, spec=spec, opts=child_opts(self, [target]))
            self.register_outputs({"name": self.resource.metadata.name})

        declare(f"NetworkPolicy {target.namespace.name}/{target.name}-from-load-balancer", [self.manifest], create)


class EgressPolicy(pulumi.ComponentResource):
    """Egress of the pods that run their users' code: DNS to the resolver the stack declares, the internet
    on the declared ports with every private, link-local and cluster range excepted, nothing else (not
    the metadata server, the kubelet, the cluster or the VPC). Derived from the Deployment object."""

    def __init__(self, resource_name: str, target: CombinedDeployment, settings: ContainmentSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("EgressPolicy"), resource_name, None, opts)
        name = f"{target.name}-egress"
        metadata = k8s.meta.v1.ObjectMetaArgs(name=name, namespace=target.namespace.name, labels=target.pod_labels)
        spec = k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=target.pod_labels),
            policy_types=["Egress"],
            egress=[_dns_rule(settings), _internet_rule(settings)],
        )
        self.manifest = manifest("networking.k8s.io/v1", "NetworkPolicy", metadata, spec)

        def create() -> None:
            self.resource = k8s.networking.v1.NetworkPolicy(resource_name, metadata=metadata, spec=spec, opts=child_opts(self, [target]))
            self.register_outputs({"name": self.resource.metadata.name})

        declare(f"NetworkPolicy {target.namespace.name}/{name}", [self.manifest], create)


def _dns_rule(settings: ContainmentSettings) -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    """UDP and TCP 53 to exactly the resolver the cluster serves: an ipBlock for a link-local resolver
    (a hostNetwork cache or the metadata server is no pod a selector can match), the kube-dns pods
    where the pods fall back to them (kubernetes cluster/addons/dns/nodelocaldns/README.md)."""
    peers = []
    resolver = limits.DNS_RESOLVER_ADDRESSES.get(settings.dns)
    if resolver:
        peers.append(k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=f"{resolver}/32")))
    if settings.dns in limits.DNS_KUBE_DNS_FALLBACK:
        peers.append(
            k8s.networking.v1.NetworkPolicyPeerArgs(
                namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(limits.KUBE_SYSTEM_NAMESPACE_LABELS)),
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(limits.KUBE_DNS_POD_LABELS)),
            )
        )
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(
        ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=53, protocol=protocol) for protocol in ("UDP", "TCP")], to=peers
    )


def _internet_rule(settings: ContainmentSettings) -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    private = [ipaddress.ip_network(r) for r in limits.PRIVATE_RANGES]
    # Cluster ranges outside the private ones (a cluster may use public space privately) are excepted too.
    extra = [r for r in settings.cluster_ranges if (n := ipaddress.ip_network(r)).version == 4 and not any(n.subnet_of(p) for p in private if p.version == 4)]
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(
        ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol="TCP") for port in settings.internet_ports],
        to=[k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0", except_=[*limits.PRIVATE_RANGES, *extra]))],
    )


class NamespaceDefaultDeny(pulumi.ComponentResource):
    """Nothing in or out of the namespace unless a policy allows it: a pod added later starts closed."""

    def __init__(self, resource_name: str, namespace: AppNamespace, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("NamespaceDefaultDeny"), resource_name, None, opts)
        metadata = k8s.meta.v1.ObjectMetaArgs(name="default-deny", namespace=namespace.name, labels=dict(PART_OF))
        spec = k8s.networking.v1.NetworkPolicySpecArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress", "Egress"])
        self.manifest = manifest("networking.k8s.io/v1", "NetworkPolicy", metadata, spec)

        def create() -> None:
            self.resource = k8s.networking.v1.NetworkPolicy(resource_name, metadata=metadata, spec=spec, opts=child_opts(self, [namespace]))
            self.register_outputs({"name": self.resource.metadata.name})

        declare(f"NetworkPolicy {namespace.name}/default-deny", [self.manifest], create)
