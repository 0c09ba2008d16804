"""Catalogue cases for routing: the incident, Ingress, Service, BackendConfig, FrontendConfig and Deployment."""

from __future__ import annotations

import copy
import json

from tests.policy_catalogue_base import DELETE, NS, Case, add, all_of, set_at

API_V2 = {"service": {"name": "coditect-api-v2", "port": {"number": 80}}}
ROUTING_CASES: tuple[Case, ...] = (
    Case(
        "incident: Ingress routes /api to the non-existent coditect-api-v2",
        "ingress-backend-service-exists",
        "routes to Service 'coditect-api-v2', which is not declared in namespace 'coditect-app'",
        set_at(
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
        add(
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
        add(
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
        all_of(
            add("api_namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "coditect-api"}}),
            set_at("service.metadata.namespace", "coditect-api"),
            set_at("backend_config.metadata.namespace", "coditect-api"),
            set_at("deployment.metadata.namespace", "coditect-api"),
        ),
    ),
    Case(
        "Ingress uses the targetPort instead of a Service port",
        "ingress-backend-port-exists",
        "which has no such port",
        set_at("ingress.spec.defaultBackend.service.port", {"number": 8080}),
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
        set_at("service.spec.selector", {"app": "webb"}),
    ),
    Case("Service targets a port no container declares", "service-target-port", "targets 'web'", set_at("service.spec.ports.0.targetPort", "web")),
    Case(
        "drainingTimeoutSec copied from the 86400 s timeout",
        "backendconfig-draining-range",
        "drainingTimeoutSec is 86400, outside GKE's allowed range 0..3600",
        all_of(
            set_at("backend_config.spec.connectionDraining.drainingTimeoutSec", 86400),
            set_at("deployment.spec.template.spec.terminationGracePeriodSeconds", 86400),
        ),
    ),
    Case(
        "BackendConfig with the 30 s default timeout",
        "backendconfig-websocket-timeout",
        "spec.timeoutSec 30 s is shorter than the minimum WebSocket session of 3600 s",
        set_at("backend_config.spec.timeoutSec", 30),
    ),
    Case(
        "BackendConfig without timeoutSec", "backendconfig-timeout-explicit", "does not set spec.timeoutSec", set_at("backend_config.spec.timeoutSec", DELETE)
    ),
    Case(
        "no session affinity with two replicas",
        "backendconfig-affinity-replicas",
        "has session affinity NONE",
        set_at("backend_config.spec.sessionAffinity.affinityType", "NONE"),
    ),
    Case(
        "unknown affinity type", "backendconfig-affinity-type", "affinityType is 'STICKY'", set_at("backend_config.spec.sessionAffinity.affinityType", "STICKY")
    ),
    Case(
        "spec.ingressClassName: gce instead of the annotation",
        "ingress-class",
        "GKE's controller ignores such an Ingress",
        all_of(set_at("ingress.metadata.annotations", {}), set_at("ingress.spec.ingressClassName", "gce")),
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
    Case("no default backend", "ingress-default-backend", "has no spec.defaultBackend", set_at("ingress.spec.defaultBackend", DELETE)),
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
        set_at("backend_config.spec.healthCheck", DELETE),
    ),
    Case(
        "health check path differs from the readiness probe",
        "health-check-matches-readiness",
        "health check '/ready' on port 8080 disagrees with the readiness probe '/healthz'",
        set_at("backend_config.spec.healthCheck.requestPath", "/ready"),
    ),
    Case(
        "grace period shorter than connection draining",
        "grace-period-covers-draining",
        "terminationGracePeriodSeconds 30 is shorter than",
        set_at("deployment.spec.template.spec.terminationGracePeriodSeconds", 30),
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
        all_of(
            add(
                "frontend",
                {
                    "apiVersion": "networking.gke.io/v1beta1",
                    "kind": "FrontendConfig",
                    "metadata": {"name": "web-frontend", "namespace": NS},
                    "spec": {"redirectToHttps": {"enabled": True}},
                },
            ),
            add(
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
        set_at("deployment.spec.template.spec.containers.0.image", "nginx:1.27"),
        stack="prod",
    ),
    Case(
        "SIGTERM before connection draining ends: preStop of 15 s with 60 s of draining",
        "prestop-covers-draining",
        "has a preStop delay of 15 s, so it gets SIGTERM while BackendConfig coditect-app/web-bc still drains",
        set_at("deployment.spec.template.spec.containers.0.lifecycle.preStop.exec.command", ["sleep", "15"]),
    ),
)
