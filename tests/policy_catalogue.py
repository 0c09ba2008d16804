"""A catalogue of broken setups, each a small set of raw pulumi_kubernetes resources.

Every case starts from a valid baseline (Namespace, Deployment, BackendConfig, Service, Ingress,
written as plain manifests, as people copy them from YAML) and breaks one thing the way it has
broken in practice. The first cases are the incident: an Ingress to the non-existent
`coditect-api-v2` and the HPA/PDB left behind for it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

NS = "coditect-app"
DIGEST = "us-docker.pkg.dev/coditect/app/nginx@sha256:" + "0" * 64
Manifests = dict[str, dict[str, Any]]


def baseline() -> Manifests:
    labels = {"app": "web"}
    container = {
        "name": "nginx",
        "image": DIGEST,
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "60"]}}},
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }

    def backend() -> dict[str, Any]:
        return {"service": {"name": "web", "port": {"name": "http"}}}

    return {
        "namespace": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        "deployment": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"terminationGracePeriodSeconds": 120, "containers": [container]}},
            },
        },
        "backend_config": {
            "apiVersion": "cloud.google.com/v1",
            "kind": "BackendConfig",
            "metadata": {"name": "web-bc", "namespace": NS},
            "spec": {
                "timeoutSec": 86400,
                "connectionDraining": {"drainingTimeoutSec": 60},
                "sessionAffinity": {"affinityType": "CLIENT_IP"},
                "healthCheck": {"type": "HTTP", "requestPath": "/healthz", "port": 8080, "checkIntervalSec": 15, "timeoutSec": 5},
                "securityPolicy": {"name": ""},
                "logging": {"enable": True, "sampleRate": 1.0},
            },
        },
        "service": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "web",
                "namespace": NS,
                "annotations": {"cloud.google.com/neg": '{"ingress": true}', "cloud.google.com/backend-config": '{"default": "web-bc"}'},
            },
            "spec": {"type": "ClusterIP", "selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        },
        "ingress": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "web", "namespace": NS, "annotations": {"kubernetes.io/ingress.class": "gce"}},
            "spec": {
                "defaultBackend": backend(),
                "rules": [{"host": "coditect.ai", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend()}]}}],
            },
        },
    }


# Google Cloud resources the rules judge, declared raw from the spec of their manifest-shaped view
# (single-word keys, so the Python inputs and the wire names agree; minTlsVersion is translated).
GCP_KINDS: dict[str, Callable[..., object]] = {
    "SecurityPolicy": gcp.compute.SecurityPolicy,
    "SslPolicy": lambda key, minTlsVersion, **spec: gcp.compute.SSLPolicy(key, min_tls_version=minTlsVersion, **spec),
}


def gcp_object(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "compute.googleapis.com/v1", "kind": kind, "metadata": {"name": spec["name"]}, "spec": spec}


def _waf_rule(priority: int) -> dict[str, Any]:
    return {
        "priority": priority,
        "action": "deny(403)",
        "description": "OWASP preconfigured WAF: sqli-v33-stable",
        "match": {"expr": {"expression": "evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': 1})"}},
    }


def declare(manifests: Manifests) -> None:
    """Declare manifests as raw pulumi_kubernetes resources, outside any component."""
    classes = {
        "Namespace": k8s.core.v1.Namespace,
        "Deployment": k8s.apps.v1.Deployment,
        "Service": k8s.core.v1.Service,
        "Ingress": k8s.networking.v1.Ingress,
        "HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
        "PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
        "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
    }
    for key, m in manifests.items():
        if m["kind"] in GCP_KINDS:
            GCP_KINDS[m["kind"]](key, **m["spec"])
        elif m["kind"] == "ServiceAccount":
            k8s.core.v1.ServiceAccount(key, metadata=m["metadata"], automount_service_account_token=m.get("automountServiceAccountToken"))
        elif m["kind"] == "RoleBinding":
            k8s.rbac.v1.RoleBinding(key, metadata=m["metadata"], role_ref=m["roleRef"], subjects=m["subjects"])
        elif m["kind"] not in classes and m["kind"] != "Namespace":  # GKE custom resources
            k8s.apiextensions.CustomResource(key, api_version=m["apiVersion"], kind=m["kind"], metadata=m["metadata"], spec=m["spec"])
        elif m["kind"] == "Namespace":
            k8s.core.v1.Namespace(key, metadata=m["metadata"])
        else:
            classes[m["kind"]](key, metadata=m["metadata"], spec=m["spec"])


@dataclass(frozen=True)
class Case:
    name: str
    rule: str  # the one gke rule id that must fire (mandatory)
    fragment: str  # part of the violation message
    breaks: Callable[[Manifests], None]
    stack: str = "dev"

    def manifests(self) -> Manifests:
        manifests = copy.deepcopy(baseline())
        self.breaks(manifests)
        return manifests


def _set(path: str, value: Any) -> Callable[[Manifests], None]:
    """A mutation that sets manifests[key][a][b]... (dotted path; integers index lists)."""
    key, *steps = path.split(".")

    def apply(manifests: Manifests) -> None:
        node: Any = manifests[key]
        for step in steps[:-1]:
            node = node[int(step)] if step.isdigit() else node.setdefault(step, {})
        last = steps[-1]
        if value is _DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return apply


_DELETE = object()


def _all(*mutations: Callable[[Manifests], object]) -> Callable[[Manifests], None]:
    def apply(manifests: Manifests) -> None:
        for mutate in mutations:
            mutate(manifests)

    return apply


def _add(key: str, manifest: dict[str, Any]) -> Callable[[Manifests], None]:
    return lambda manifests: manifests.__setitem__(key, manifest)


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
    return _all(contained, *mutations)


API_V2 = {"service": {"name": "coditect-api-v2", "port": {"number": 80}}}

CASES: tuple[Case, ...] = (
    Case(
        "incident: Ingress routes /api to the non-existent coditect-api-v2",
        "ingress-backend-service-exists",
        "routes to Service 'coditect-api-v2', which is not declared in namespace 'coditect-app'",
        _set(
            "ingress.spec.rules.0.http.paths",
            [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}},
                {"path": "/api", "pathType": "Prefix", "backend": API_V2},
            ],
        ),
    ),
    Case(
        "incident: HPA left behind for coditect-api-v2",
        "hpa-target-exists",
        "scaleTargetRef Deployment/coditect-api-v2",
        _add(
            "hpa",
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "coditect-api-v2", "namespace": NS},
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "coditect-api-v2"}, "minReplicas": 2, "maxReplicas": 4},
            },
        ),
    ),
    Case(
        "incident: PDB left behind for coditect-api-v2",
        "pdb-target-exists",
        "selector {'app': 'coditect-api-v2'}",
        _add(
            "pdb",
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "coditect-api-v2", "namespace": NS},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "coditect-api-v2"}}},
            },
        ),
    ),
    Case(
        "Service in another namespace than the Ingress",
        "ingress-backend-service-exists",
        "A Service of that name exists in namespace coditect-api",
        _all(
            _add("api_namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "coditect-api"}}),
            _set("service.metadata.namespace", "coditect-api"),
            _set("backend_config.metadata.namespace", "coditect-api"),
            _set("deployment.metadata.namespace", "coditect-api"),
        ),
    ),
    Case(
        "Ingress uses the targetPort instead of a Service port",
        "ingress-backend-port-exists",
        "which has no such port",
        _set("ingress.spec.defaultBackend.service.port", {"number": 8080}),
    ),
    Case(
        "backend-config names a BackendConfig that was never applied",
        "service-backend-config-exists",
        "names BackendConfig 'coditect-backend-config-v2', which is not declared",
        lambda m: m["service"]["metadata"]["annotations"].__setitem__("cloud.google.com/backend-config", '{"default": "coditect-backend-config-v2"}'),
    ),
    Case(
        "backend-config annotation is not JSON",
        "service-backend-config-annotation",
        "is not valid JSON",
        lambda m: m["service"]["metadata"]["annotations"].__setitem__("cloud.google.com/backend-config", "{default: web-bc}"),
    ),
    Case(
        "backend-config maps the container port, not a Service port",
        "service-backend-config-port",
        "maps port '8080'",
        lambda m: m["service"]["metadata"]["annotations"].__setitem__("cloud.google.com/backend-config", json.dumps({"ports": {"8080": "web-bc"}})),
    ),
    Case(
        "Service selector matches no pods",
        "service-selector-matches",
        "matches the pod labels of no Deployment",
        _set("service.spec.selector", {"app": "webb"}),
    ),
    Case("Service targets a port no container declares", "service-target-port", "targets 'web'", _set("service.spec.ports.0.targetPort", "web")),
    Case(
        "drainingTimeoutSec copied from the 86400 s timeout",
        "backendconfig-draining-range",
        "drainingTimeoutSec is 86400, outside GKE's allowed range 0..3600",
        _all(
            _set("backend_config.spec.connectionDraining.drainingTimeoutSec", 86400), _set("deployment.spec.template.spec.terminationGracePeriodSeconds", 86400)
        ),
    ),
    Case(
        "BackendConfig with the 30 s default timeout",
        "backendconfig-websocket-timeout",
        "spec.timeoutSec 30 s is shorter than the minimum WebSocket session of 3600 s",
        _set("backend_config.spec.timeoutSec", 30),
    ),
    Case("BackendConfig without timeoutSec", "backendconfig-timeout-explicit", "does not set spec.timeoutSec", _set("backend_config.spec.timeoutSec", _DELETE)),
    Case(
        "no session affinity with two replicas",
        "backendconfig-affinity-replicas",
        "has session affinity NONE",
        _set("backend_config.spec.sessionAffinity.affinityType", "NONE"),
    ),
    Case(
        "unknown affinity type", "backendconfig-affinity-type", "affinityType is 'STICKY'", _set("backend_config.spec.sessionAffinity.affinityType", "STICKY")
    ),
    Case(
        "spec.ingressClassName: gce instead of the annotation",
        "ingress-class",
        "GKE's controller ignores such an Ingress",
        _all(_set("ingress.metadata.annotations", {}), _set("ingress.spec.ingressClassName", "gce")),
    ),
    Case(
        "the invented websocket-max-idle-timeout annotation",
        "ingress-ignored-annotation",
        "cloud.google.com/websocket-max-idle-timeout, which GKE ignores on an Ingress",
        lambda m: m["ingress"]["metadata"]["annotations"].__setitem__("cloud.google.com/websocket-max-idle-timeout", "86400"),
    ),
    Case(
        "backend-config annotation put on the Ingress",
        "ingress-ignored-annotation",
        "GKE reads backend-config only from the Service",
        lambda m: m["ingress"]["metadata"]["annotations"].__setitem__("cloud.google.com/backend-config", '{"default": "web-bc"}'),
    ),
    Case("no default backend", "ingress-default-backend", "has no spec.defaultBackend", _set("ingress.spec.defaultBackend", _DELETE)),
    Case(
        "the same host in two rules",
        "ingress-duplicate-host",
        "repeats host 'coditect.ai'",
        lambda m: m["ingress"]["spec"]["rules"].append(copy.deepcopy(m["ingress"]["spec"]["rules"][0])),
    ),
    Case(
        "HTTP2 backend protocol on the Socket.IO port",
        "service-app-protocols-websocket",
        "WebSocket upgrades",
        lambda m: m["service"]["metadata"]["annotations"].__setitem__("cloud.google.com/app-protocols", '{"http": "HTTP2"}'),
    ),
    Case(
        "Service behind the Ingress without NEG",
        "ingress-service-neg",
        "has no cloud.google.com/neg",
        lambda m: m["service"]["metadata"]["annotations"].pop("cloud.google.com/neg"),
    ),
    Case(
        "Service behind the Ingress without a BackendConfig",
        "ingress-service-backend-config",
        "the load balancer keeps a 30 s timeout and no session affinity",
        lambda m: m["service"]["metadata"]["annotations"].pop("cloud.google.com/backend-config"),
    ),
    Case(
        "BackendConfig without a health check",
        "backendconfig-health-check-explicit",
        "has no spec.healthCheck",
        _set("backend_config.spec.healthCheck", _DELETE),
    ),
    Case(
        "health check path differs from the readiness probe",
        "health-check-matches-readiness",
        "health check '/ready' on port 8080 disagrees with the readiness probe '/healthz'",
        _set("backend_config.spec.healthCheck.requestPath", "/ready"),
    ),
    Case(
        "grace period shorter than connection draining",
        "grace-period-covers-draining",
        "terminationGracePeriodSeconds 30 is shorter than",
        _set("deployment.spec.template.spec.terminationGracePeriodSeconds", 30),
    ),
    Case(
        "Ingress names a FrontendConfig that was never declared",
        "ingress-frontend-config-exists",
        "names FrontendConfig 'web-frontend', which is not declared",
        lambda m: m["ingress"]["metadata"]["annotations"].__setitem__("networking.gke.io/v1beta1.FrontendConfig", "web-frontend"),
    ),
    Case(
        "Ingress names a ManagedCertificate that was never declared",
        "ingress-managed-certificate-exists",
        "names ManagedCertificate 'web-cert', which is not declared",
        lambda m: m["ingress"]["metadata"]["annotations"].__setitem__("networking.gke.io/managed-certificates", "web-cert"),
    ),
    Case(
        "HTTPS redirect with HTTP turned off",
        "frontendconfig-redirect-needs-http",
        "GKE attaches the redirect to the HTTP frontend",
        _all(
            _add(
                "frontend",
                {
                    "apiVersion": "networking.gke.io/v1beta1",
                    "kind": "FrontendConfig",
                    "metadata": {"name": "web-frontend", "namespace": NS},
                    "spec": {"redirectToHttps": {"enabled": True}},
                },
            ),
            _add(
                "certificate",
                {
                    "apiVersion": "networking.gke.io/v1",
                    "kind": "ManagedCertificate",
                    "metadata": {"name": "web-cert", "namespace": NS},
                    "spec": {"domains": ["coditect.ai"]},
                },
            ),
            lambda m: m["ingress"]["metadata"]["annotations"].update(
                {
                    "networking.gke.io/v1beta1.FrontendConfig": "web-frontend",
                    "networking.gke.io/managed-certificates": "web-cert",
                    "kubernetes.io/ingress.allow-http": "false",
                }
            ),
        ),
    ),
    Case(
        "prod image by tag",
        "image-digest",
        "image 'nginx:1.27' is not pinned by digest",
        _set("deployment.spec.template.spec.containers.0.image", "nginx:1.27"),
        stack="prod",
    ),
    Case(
        "SIGTERM before connection draining ends: preStop of 15 s with 60 s of draining",
        "prestop-covers-draining",
        "has a preStop delay of 15 s, so it gets SIGTERM while BackendConfig coditect-app/web-bc still drains",
        _set("deployment.spec.template.spec.containers.0.lifecycle.preStop.exec.command", ["sleep", "15"]),
    ),
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
            _add(
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
    Case(
        "WAF bypass: an allow rule for Socket.IO placed before the WAF rules",
        "security-policy-waf-first",
        "rule 900 (allow) lets matching requests through before the WAF rules",
        _add(
            "armor",
            gcp_object(
                "SecurityPolicy",
                {
                    "name": "web-armor",
                    "rules": [
                        {"priority": 900, "action": "allow", "match": {"expr": {"expression": "request.path.startsWith('/theia/socket.io/')"}}},
                        _waf_rule(1000),
                    ],
                },
            ),
        ),
    ),
    Case(
        "Cloud Armor rule description longer than the API allows",
        "security-policy-rule-description",
        "has a description of 90 characters; the API accepts at most 64",
        _add("armor", gcp_object("SecurityPolicy", {"name": "web-armor", "rules": [{**_waf_rule(1000), "description": "x" * 90}]})),
    ),
    Case(
        "TLS 1.3 minimum on a MODERN SSL policy",
        "ssl-policy-tls13-profile",
        "accepts TLS 1.3 as the minimum only with profile RESTRICTED",
        _add("ssl", gcp_object("SslPolicy", {"name": "web-ssl", "profile": "MODERN", "minTlsVersion": "TLS_1_3"})),
    ),
)
