"""Catalogue cases for a contained IDE: egress, sandbox and identity of pods that run user code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.policy_catalogue_base import NS, Case, Manifests, add, all_of

# A contained IDE: the baseline's pods marked as running user code, with their own service account,
# an egress policy (DNS to NodeLocal DNSCache with kube-dns as fallback, the internet on 443 except private and link-local space) and a
# namespace default deny. The containment cases break one thing of it.
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]


def _dns_rule() -> dict[str, Any]:
    return {
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        "to": [
            {"ipBlock": {"cidr": "169.254.20.10/32"}},
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}},
        ],
    }


def _internet_rule(excepted: list[str] = PRIVATE, ports: tuple[int, ...] = (443,)) -> dict[str, Any]:
    return {"ports": [{"port": port, "protocol": "TCP"} for port in ports], "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(excepted)}}]}


def contained(manifests: Manifests) -> None:
    pod = manifests["deployment"]["spec"]["template"]
    pod["metadata"]["labels"]["coditect.ai/runs-user-code"] = "true"
    pod["spec"].update({"serviceAccountName": "web", "automountServiceAccountToken": False})
    manifests["service_account"] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "web", "namespace": NS},
        "automountServiceAccountToken": False,
    }
    manifests["egress"] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web-egress", "namespace": NS},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"], "egress": [_dns_rule(), _internet_rule()]},
    }
    manifests["default_deny"] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": NS},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def _contained_then(*mutations: Callable[[Manifests], object]) -> Callable[[Manifests], None]:
    return all_of(contained, *mutations)


CONTAINMENT_CASES: tuple[Case, ...] = (
    Case(
        "IDE pods without an egress policy: the terminal reaches the metadata server",
        "ide-egress-isolated",
        "runs user code but no NetworkPolicy with Egress selects its pods",
        _contained_then(lambda m: m.pop("egress"), lambda m: m.pop("default_deny")),
    ),
    Case(
        "internet egress to 0.0.0.0/0 without excepting 169.254.0.0/16",
        "egress-metadata-denied",
        "does not except the metadata addresses from 0.0.0.0/0",
        _contained_then(lambda m: m["egress"]["spec"].__setitem__("egress", [_dns_rule(), _internet_rule(PRIVATE[:4])])),
    ),
    Case(
        "the metadata server reachable on port 80",
        "egress-metadata-denied",
        "reach the metadata server at 169.254.169.254:80/TCP",
        _contained_then(
            lambda m: m["egress"]["spec"]["egress"].append({"ports": [{"port": 80, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}]})
        ),
    ),
    Case(
        "a second policy selecting the IDE pods by matchExpressions opens the metadata server",
        "egress-metadata-denied",
        "reach the metadata server at 169.254.169.254:80/TCP",
        _contained_then(
            add(
                "metadata_by_expression",
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": {"name": "web-metadata", "namespace": NS},
                    "spec": {
                        "podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]},
                        "policyTypes": ["Egress"],
                        "egress": [{"ports": [{"port": 80, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}]}],
                    },
                },
            )
        ),
    ),
    Case(
        "a DNS peer with namespaceSelector {}: every namespace",
        "egress-no-allow-all",
        "has an empty namespaceSelector",
        _contained_then(lambda m: m["egress"]["spec"]["egress"][0]["to"].append({"namespaceSelector": {}})),
    ),
    Case(
        "egress into the VPC: 10.0.0.0/8 on 443",
        "egress-no-lateral",
        "lets its pods reach 10.0.0.0/8, inside 10.0.0.0/8",
        _contained_then(
            lambda m: m["egress"]["spec"]["egress"].append({"ports": [{"port": 443, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]})
        ),
    ),
    Case(
        "no DNS: the IDE fails on every lookup",
        "egress-dns-allowed",
        "cannot reach DNS",
        _contained_then(lambda m: m["egress"]["spec"].__setitem__("egress", [_internet_rule()])),
    ),
    Case(
        "internet egress on SSH as well as 443",
        "egress-internet-port-bound",
        "opens the internet on ports ['22', '443']",
        _contained_then(lambda m: m["egress"]["spec"].__setitem__("egress", [_dns_rule(), _internet_rule(ports=(443, 22))])),
    ),
    Case(
        "a hostPath volume in the IDE pod",
        "ide-sandboxed",
        "volume 'docker' is a hostPath",
        _contained_then(
            lambda m: m["deployment"]["spec"]["template"]["spec"].__setitem__("volumes", [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}])
        ),
    ),
    Case(
        "the IDE's service account bound to a Google service account",
        "ide-identity",
        "bound to Google service account",
        _contained_then(
            lambda m: m["service_account"]["metadata"].__setitem__("annotations", {"iam.gke.io/gcp-service-account": "editor@coditect.iam.gserviceaccount.com"})
        ),
    ),
    Case(
        "a RoleBinding granting the IDE's service account API access",
        "ide-identity",
        "which RoleBinding coditect-app/web-admin grants",
        _contained_then(
            lambda m: m.__setitem__(
                "binding",
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": "web-admin", "namespace": NS},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                    "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": NS}],
                },
            )
        ),
    ),
)
