"""The policies of the pack: each a named group of rules with one level and the GKE behaviour
behind it. Rules name their policy; the pack, the docs and the tests read these through the
registry."""

from __future__ import annotations

from .findings import Level
from .model import Policy, Scope

MANDATORY, ADVISORY = Level.MANDATORY, Level.ADVISORY
RESOURCE, STACK = Scope.RESOURCE, Scope.STACK

# --- per resource --------------------------------------------------------------------------------
BACKENDCONFIG_LIMITS = Policy(
    "backendconfig-limits",
    "BackendConfig values inside GKE's limits. GLBC rejects a bad affinity type or cookie TTL and then fails the whole "
    "Ingress; the Compute API rejects drainingTimeoutSec > 3600 and health-check timeout > interval at sync time "
    "(ingress-gce pkg/backendconfig/validation.go; Compute BackendService).",
    MANDATORY,
    RESOURCE,
)
BACKENDCONFIG_EXPLICIT = Policy(
    "backendconfig-explicit",
    "timeoutSec and healthCheck set explicitly. Without timeoutSec Compute keeps 30 s, the lifetime of every WebSocket on "
    "the external ALB; without healthCheck GKE probes '/' and a redirect there marks pods UNHEALTHY. Removing a block later "
    "does not reset what GKE applied (ingress-gce pkg/backends/features).",
    MANDATORY,
    RESOURCE,
)
BACKENDCONFIG_DRAINING = Policy(
    "backendconfig-draining", "connectionDraining set explicitly, so pods being replaced finish their requests.", ADVISORY, RESOURCE
)
BACKENDCONFIG_COOKIE_TTL = Policy(
    "backendconfig-cookie-ttl", "affinityCookieTtlSec only with GENERATED_COOKIE: Compute applies it to cookie affinity only.", ADVISORY, RESOURCE
)
SERVICE_GKE_ANNOTATIONS = Policy(
    "service-gke-annotations",
    "Service annotations GKE parses: NEG and backend-config must be valid JSON naming something; backend-config port keys "
    "are Service port names or numbers; app-protocols values HTTP/HTTPS/HTTP2 (ingress-gce pkg/annotations/service.go; "
    "translation errors 'BackendConfig annotation is invalid json', 'could not parse app-protocols').",
    MANDATORY,
    RESOURCE,
)
SERVICE_WEBSOCKET_PROTOCOL = Policy(
    "service-websocket-protocol",
    "No HTTP2 backend protocol on a WebSocket port: upgrades then fail with 502 (kubernetes/ingress-gce#855).",
    MANDATORY,
    RESOURCE,
)
SERVICE_CONTROLLER_ANNOTATIONS = Policy(
    "service-controller-annotations", "cloud.google.com/neg-status is written by the NEG controller; a manifest must not own it.", ADVISORY, RESOURCE
)
INGRESS_GCE_CLASS = Policy(
    "ingress-gce-class",
    "kubernetes.io/ingress.class: gce and no spec.ingressClassName: GKE ignores an Ingress with only ingressClassName, "
    "silently (ingress-gce pkg/utils/utils.go IsGCEIngress; kubernetes/ingress-gce#1891).",
    MANDATORY,
    RESOURCE,
)
INGRESS_CLASS_HYGIENE = Policy("ingress-class-hygiene", "The class annotation set explicitly and no ignored ingressClassName beside it.", ADVISORY, RESOURCE)
INGRESS_IGNORED_ANNOTATIONS = Policy(
    "ingress-ignored-annotations",
    "No annotations GKE ignores on an Ingress: backend-config is read from the Service only, "
    "cloud.google.com/websocket-max-idle-timeout does not exist, nginx.ingress.kubernetes.io/* belongs to another "
    "controller. Each one means a setting someone believes is applied is not (ingress-gce pkg/annotations/ingress.go).",
    MANDATORY,
    RESOURCE,
)
INGRESS_DEFAULT_BACKEND = Policy(
    "ingress-default-backend",
    "An explicit spec.defaultBackend: otherwise GKE needs kube-system/default-http-backend and fails the whole Ingress "
    "when it is missing (ingress-gce translator.go).",
    MANDATORY,
    RESOURCE,
)
INGRESS_SPEC = Policy(
    "ingress-spec",
    "Ingress rules GKE can translate: service backends only, an http block per rule, one rule per host (the last wins), "
    "valid pathType, one static-IP annotation, TLS when HTTP is off (ingress-gce translator.go, gceurlmap.go, l7.go).",
    MANDATORY,
    RESOURCE,
)
CONTAINER_HARDENING = Policy(
    "container-hardening", "Containers with readiness and liveness probes, cpu/memory requests and limits, and a hardened security context.", ADVISORY, RESOURCE
)
IMAGE_DIGEST = Policy(
    "image-digest",
    "Images pinned by digest, so what was reviewed is what runs (mandatory in prod through its generated policy/config/prod.json).",
    ADVISORY,
    RESOURCE,
)
CLOUD_ARMOR_RULES = Policy(
    "cloud-armor-rules",
    "Cloud Armor policies whose WAF actually runs and that the API accepts: Cloud Armor runs only the highest-priority "
    "matching rule, so an allow (or a rate-based ban or throttle that allows conforming traffic) placed before the WAF "
    "rules lets matching requests skip the WAF; rule descriptions have at most 64 characters "
    "(cloud.google.com/armor/docs/rules-language-reference; pulumi-gcp SecurityPolicyRuleArgs).",
    MANDATORY,
    RESOURCE,
)
TLS_LIMITS = Policy(
    "tls-limits",
    "SSL policies the API accepts: a minimum of TLS 1.3 only with profile RESTRICTED (Compute SslPolicy; pulumi-gcp compute/ssl_policy.py).",
    MANDATORY,
    RESOURCE,
)
BACKENDCONFIG_STATED = Policy(
    "backendconfig-stated",
    "securityPolicy and logging stated in every BackendConfig: GKE reconciles neither when the block is absent, so turning "
    'Cloud Armor off by deleting the block leaves the policy attached (detach with name ""), and request logs stay as '
    "they were when the backend service was created (ingress-gce pkg/backends/features).",
    ADVISORY,
    RESOURCE,
)
EGRESS_RULES_BOUNDED = Policy(
    "egress-rules-bounded",
    "Egress rules that allow something specific: every rule names its destinations and its ports, and no peer is an "
    "empty namespaceSelector (every namespace); an empty list allows everything (kubernetes.io network-policies).",
    MANDATORY,
    RESOURCE,
)

GATEWAY_SPEC = Policy(
    "gateway-spec",
    "Gateway, HTTPRoute and GCPGatewayPolicy objects GKE's Gateway controller accepts for this app: class "
    "gke-l7-global-external-managed (the classic gke-l7-gxlb has no rule filters, so no HTTPS redirect), an explicit "
    "NamedAddress (the CRD defaults to IPAddress, which GKE rejects), certmap annotation xor listener certificates and "
    "never a ManagedCertificate, no HTTPRoute timeouts (refused; the limit is GCPBackendPolicy timeoutSec), a redirect "
    "with an explicit statusCode and no port, and a bare global SSL policy name "
    "(https://docs.cloud.google.com/kubernetes-engine/docs/how-to/gatewayclass-capabilities, secure-gateway, "
    "configure-gateway-resources; gateway-api apis/v1).",
    MANDATORY,
    RESOURCE,
)
GATEWAY_BACKEND_LIMITS = Policy(
    "gateway-backend-limits",
    "GCPBackendPolicy and HealthCheckPolicy values that keep Socket.IO working behind a Gateway: targetRef a core "
    "Service, timeoutSec explicit and at most 86400, draining 0..3600, logging stated with an integer sampleRate in "
    "millionths, a usable affinity type, and a health check with explicit type, port specification, path and all four "
    "numbers (GKE's defaults differ from the Ingress's) (gke-gateway-api apis/networking/v1; "
    "https://docs.cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources).",
    MANDATORY,
    RESOURCE,
)

# --- over the stack ------------------------------------------------------------------------------
INGRESS_BACKENDS_EXIST = Policy(
    "ingress-backends-exist",
    "Every Ingress backend names a Service declared in the Ingress's namespace, on one of its ports. One missing Service "
    "fails the whole Ingress ('Translation failed: could not find service'), so no BackendConfig reaches the load "
    "balancer: the coditect-api-v2 outage (ingress-gce translator.go; kubernetes/ingress-gce#646).",
    MANDATORY,
    STACK,
)
INGRESS_REFERENCES = Policy(
    "ingress-references",
    "The FrontendConfig and ManagedCertificates an Ingress names exist in its namespace, and HTTP stays on while the "
    "FrontendConfig redirects to HTTPS (GKE puts the redirect on the HTTP frontend; managed-certs is all-or-nothing; "
    "ingress-gce controller.go, l7.go; gke-managed-certs sync.go).",
    MANDATORY,
    STACK,
)
INGRESS_SERVICES_READY = Policy(
    "ingress-services-ready",
    "Services behind the Ingress have NEG (a ClusterIP without it fails translation) and a BackendConfig (otherwise 30 s timeout and no affinity).",
    MANDATORY,
    STACK,
)
BACKENDCONFIG_REFERENCES = Policy(
    "backendconfig-references",
    "A Service's backend-config annotation names a BackendConfig declared in the Service's namespace "
    "('no BackendConfig for service port exists' fails the Ingress).",
    MANDATORY,
    STACK,
)
SERVICE_ENDPOINTS = Policy(
    "service-endpoints",
    "A Service selects the pods of a declared Deployment and targets a port a container declares; otherwise its NEG is empty.",
    MANDATORY,
    STACK,
)
AUTOSCALER_DISRUPTION_TARGETS = Policy(
    "autoscaler-disruption-targets", "HPAs and PDBs target a workload declared in the stack; orphans scale or protect nothing.", MANDATORY, STACK
)
WEBSOCKET_SESSIONS = Policy(
    "websocket-sessions",
    "Socket.IO sessions survive: sticky sessions with more than one replica, a backend timeout covering the minimum "
    "session (on the external ALB it is the WebSocket's maximum lifetime), a health check agreeing with the readiness "
    "probe, and a grace period covering connection draining.",
    MANDATORY,
    STACK,
)

GATEWAY_REFERENCES = Policy(
    "gateway-references",
    "Every name a Gateway's objects resolve exists in the stack: HTTPRoute backends are Services of the route's "
    "namespace on one of their ports, each with exactly one GCPBackendPolicy and one HealthCheckPolicy (a second one is "
    "ignored), certificate Secrets exist (a missing one blocks the whole Gateway, GWCER102), a GCPGatewayPolicy's "
    "Gateway exists in its namespace, the Gateway's address is not the Ingress's, and no route with filters is bound "
    "to a gke-l7-gxlb Gateway (gateway-api httproute_types.go BackendRefs; configure-gateway-resources).",
    MANDATORY,
    STACK,
)
GATEWAY_ROUTING = Policy(
    "gateway-routing",
    "The HTTP->HTTPS redirect is its own HTTPRoute bound (sectionName) to the HTTP listener, the app's routes bind only "
    "the HTTPS listener (a redirect on both loops), and the redirect's statusCode is one the cluster's Gateway API "
    "bundle accepts: 301/302 up to v1.4, 303/307/308 only from v1.5 (gateway-api v1.3.0 and v1.5.1 CRDs; "
    "kubernetes-sigs/gateway-api#2622).",
    MANDATORY,
    STACK,
)
FRONT_DOORS_AGREE = Policy(
    "front-doors-agree",
    "While an Ingress (BackendConfig) and a Gateway (GCPBackendPolicy, HealthCheckPolicy) front the same Service, "
    "each load balancer has its own backend service, so every backend value must agree: timeout, affinity, draining, "
    "health check, Cloud Armor policy and logging (ingress2gateway drops most of them silently: "
    "kubernetes-sigs/ingress2gateway pkg/i2gw/providers/gce/README.md).",
    MANDATORY,
    STACK,
)

IDE_EGRESS = Policy(
    "ide-egress",
    "Pods that run their users' code are egress-isolated and reach only DNS (at the declared resolver) and the internet on "
    "the declared ports: never the metadata server (it hands out credentials), the kubelet, the cluster, the VPC or "
    "another namespace (https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity#metadata_server; https://kubernetes.io/docs/concepts/services-networking/network-policies/).",
    MANDATORY,
    STACK,
)
IDE_SANDBOX = Policy(
    "ide-sandbox",
    "Pods that run their users' code run in GKE Sandbox where the stack requires it (runtimeClassName gvisor), set cpu and "
    "memory limits on every container, and use no host namespaces, hostPath, privileged mode or added capabilities "
    "(https://cloud.google.com/kubernetes-engine/docs/concepts/sandbox-pods; https://kubernetes.io/docs/concepts/security/pod-security-standards/).",
    MANDATORY,
    STACK,
)
IDE_IDENTITY = Policy(
    "ide-identity",
    "The service account of pods that run their users' code carries no Workload Identity binding, mounts no token and is "
    "named by no RoleBinding or ClusterRoleBinding (https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity).",
    MANDATORY,
    STACK,
)
NAMESPACE_DEFAULT_DENY = Policy(
    "namespace-default-deny",
    "A namespace holding pods that run user code starts from a default deny of ingress and egress (kubernetes.io multi-tenancy, network isolation).",
    ADVISORY,
    STACK,
)
SHARED_TENANCY = Policy(
    "shared-tenancy",
    "Several users share the pods of one IDE Deployment (one UID, one filesystem), spread by session affinity: the "
    "infrastructure cannot isolate them from each other; one sandboxed workload per user session can "
    "(https://kubernetes.io/docs/concepts/security/multi-tenancy/#network-isolation).",
    ADVISORY,
    STACK,
)

ALL: tuple[Policy, ...] = (
    BACKENDCONFIG_LIMITS,
    BACKENDCONFIG_EXPLICIT,
    BACKENDCONFIG_DRAINING,
    BACKENDCONFIG_COOKIE_TTL,
    SERVICE_GKE_ANNOTATIONS,
    SERVICE_WEBSOCKET_PROTOCOL,
    SERVICE_CONTROLLER_ANNOTATIONS,
    INGRESS_GCE_CLASS,
    INGRESS_CLASS_HYGIENE,
    INGRESS_IGNORED_ANNOTATIONS,
    INGRESS_DEFAULT_BACKEND,
    INGRESS_SPEC,
    CONTAINER_HARDENING,
    IMAGE_DIGEST,
    CLOUD_ARMOR_RULES,
    TLS_LIMITS,
    BACKENDCONFIG_STATED,
    EGRESS_RULES_BOUNDED,
    GATEWAY_SPEC,
    GATEWAY_BACKEND_LIMITS,
    INGRESS_BACKENDS_EXIST,
    INGRESS_REFERENCES,
    INGRESS_SERVICES_READY,
    BACKENDCONFIG_REFERENCES,
    SERVICE_ENDPOINTS,
    AUTOSCALER_DISRUPTION_TARGETS,
    WEBSOCKET_SESSIONS,
    GATEWAY_REFERENCES,
    GATEWAY_ROUTING,
    FRONT_DOORS_AGREE,
    IDE_EGRESS,
    IDE_SANDBOX,
    IDE_IDENTITY,
    NAMESPACE_DEFAULT_DENY,
    SHARED_TENANCY,
)
BY_NAME = {policy.name: policy for policy in ALL}
