"""NetworkPolicy admitting Google's load balancer and health checkers to the serving port only."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.base import child_opts, manifest, type_token
from components.deployment import CombinedDeployment
from components.plan import declare
from gke import limits


class LoadBalancerNetworkPolicy(pulumi.ComponentResource):
    """With NEG the load balancer talks to pod IPs directly, from Google's proxy and health-check
    ranges; everything else is denied ingress to the pods of the Deployment."""

    def __init__(self, resource_name: str, target: CombinedDeployment, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("LoadBalancerNetworkPolicy"), resource_name, None, opts)
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name=f"{target.name}-from-load-balancer", namespace=target.namespace.name, labels=target.pod_labels
        )
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
