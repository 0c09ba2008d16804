"""GKE Ingress / BackendConfig facts as constants, each with its source.

Sources, cited beside each value: github.com/kubernetes/ingress-gce at acbcf5d (the GKE Ingress controller, "GLBC"), the Compute API field docs and
GoogleCloudPlatform/gcpdiag. Nothing here is folklore: an annotation that is not in
``pkg/annotations`` of ingress-gce does not exist for GKE.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# --- Annotations that GLBC reads -------------------------------------------------------------
# Ingress class: GLBC processes an Ingress whose class annotation is "gce", or which has no
# annotation *and* no spec.ingressClassName. ingressClassName alone makes GKE ignore it, silently
# (pkg/utils/utils.go#L332-L353; ingress-gce#1891).
INGRESS_CLASS_ANNOTATION: Final = "kubernetes.io/ingress.class"
GCE_INGRESS_CLASS: Final = "gce"
GCE_INGRESS_CLASSES: Final = frozenset({"gce", "gce-internal", "gce-regional-external"})

# Service annotations (pkg/annotations/service.go, pkg/negannotation).
NEG_ANNOTATION: Final = "cloud.google.com/neg"
NEG_STATUS_ANNOTATION: Final = "cloud.google.com/neg-status"  # written by the controller
BACKEND_CONFIG_ANNOTATION: Final = "cloud.google.com/backend-config"
BETA_BACKEND_CONFIG_ANNOTATION: Final = "beta.cloud.google.com/backend-config"
APP_PROTOCOLS_ANNOTATIONS: Final = (
    "cloud.google.com/app-protocols",
    "service.alpha.kubernetes.io/app-protocols",
)
APP_PROTOCOLS: Final = frozenset({"HTTP", "HTTPS", "HTTP2"})

# Ingress annotations (pkg/annotations/ingress.go).
GLOBAL_STATIC_IP_ANNOTATION: Final = "kubernetes.io/ingress.global-static-ip-name"
REGIONAL_STATIC_IP_ANNOTATION: Final = "kubernetes.io/ingress.regional-static-ip-name"
ALLOW_HTTP_ANNOTATION: Final = "kubernetes.io/ingress.allow-http"
MANAGED_CERTIFICATES_ANNOTATION: Final = "networking.gke.io/managed-certificates"
FRONTEND_CONFIG_ANNOTATION: Final = "networking.gke.io/v1beta1.FrontendConfig"
PRE_SHARED_CERT_ANNOTATION: Final = "ingress.gcp.kubernetes.io/pre-shared-cert"

# Annotations people put on an Ingress that GLBC never reads there (no error, no event).
# backend-config is read only from the Service (pkg/backendconfig/backendconfig.go#L57);
# cloud.google.com/websocket-max-idle-timeout does not exist at all; nginx-ingress keys are
# for another controller.
IGNORED_INGRESS_ANNOTATIONS: Final = frozenset(
    {
        BACKEND_CONFIG_ANNOTATION,
        BETA_BACKEND_CONFIG_ANNOTATION,
        NEG_ANNOTATION,
        *APP_PROTOCOLS_ANNOTATIONS,
    }
)
IGNORED_INGRESS_ANNOTATION_PREFIXES: Final = (
    "cloud.google.com/websocket-",
    "nginx.ingress.kubernetes.io/",
)

# --- BackendConfig (cloud.google.com/v1) ranges -----------------------------------------------
BACKEND_CONFIG_API_VERSION: Final = "cloud.google.com/v1"
# Compute allows 1..2^31-1, but for an external ALB the timeout is the hard lifetime of every
# WebSocket and Google's own linter fails anything above 86400 (gcpdiag bp_2025_002).
TIMEOUT_SEC: Final = (1, 86_400)
# Compute API: "a timeout of up to one hour"; GLBC does not validate it, the sync fails later.
DRAINING_TIMEOUT_SEC: Final = (0, 3_600)
# GLBC validation.go#L35-L39: the only affinity types a BackendConfig may ask for.
AFFINITY_TYPES: Final = ("NONE", "CLIENT_IP", "GENERATED_COOKIE")
# GLBC validation.go#L113-L117. Compute applies it only to cookie affinity.
AFFINITY_COOKIE_TTL_SEC: Final = (0, 86_400)
# Health check (Compute; HealthCheckPolicy CRD publishes the same ranges).
HEALTH_CHECK_INTERVAL_SEC: Final = (1, 300)
HEALTH_CHECK_TIMEOUT_SEC: Final = (1, 300)
HEALTH_CHECK_THRESHOLD: Final = (1, 10)
HEALTH_CHECK_TYPES: Final = ("HTTP", "HTTPS", "HTTP2")  # translator/healthchecks.go#L200-L213
PORT: Final = (1, 65_535)

# The shortest WebSocket session that must survive, unless a stack says otherwise (settings
# `socketio.minSessionSec`, policy config `minSessionSec`).
DEFAULT_MIN_SESSION_SEC: Final = 3_600

# Compute's default backend-service timeout when no BackendConfig sets one: WebSockets die at 30 s.
DEFAULT_BACKEND_TIMEOUT_SEC: Final = 30

# --- Ingress paths (translator.go#L404-L452) ---------------------------------------------------
PATH_TYPES: Final = frozenset({"Exact", "Prefix", "ImplementationSpecific"})

# --- Google front ends and health checkers --------------------------------------------------
# Source ranges of the external Application Load Balancer proxies and health checks; a
# NetworkPolicy must admit them to the serving port or every NEG endpoint stays UNHEALTHY.
LOAD_BALANCER_SOURCE_RANGES: Final = ("130.211.0.0/22", "35.191.0.0/16")

# Google front ends keep connections to backends open for a fixed 600 s and need the backend's HTTP
# keepalive to be longer, or a pooled connection closes under the load balancer and the request gets
# a 502 (cloud.google.com/load-balancing/docs/https/request-distribution, "timeouts and retries").
LOAD_BALANCER_KEEPALIVE_SEC: Final = 600
# What the pod's nginx uses: longer than the load balancer's keepalive, with a margin.
BACKEND_KEEPALIVE_SEC: Final = 620

# --- BackendConfig blocks GKE never resets ----------------------------------------------------
# securityPolicy: absent = not reconciled (the policy stays attached); {name: ""} = detach
# (ingress-gce pkg/backends/features/securitypolicy.go; the BackendConfig CRD's own description).
# logging: GKE enables request logs only when it creates a backend service and changes nothing when
# the block is absent (ingress-gce pkg/backends/backends.go Create, pkg/backends/features/logging.go).
UNRESET_BACKEND_CONFIG_BLOCKS: Final = ("securityPolicy", "logging")
DETACH_SECURITY_POLICY: Final = ""

# --- Cloud Armor (pulumi-gcp SecurityPolicyRuleArgs docstrings; cloud.google.com/armor/docs) ---------
SECURITY_POLICY_RULE_DESCRIPTION_MAX: Final = 64
# Only the highest-priority (lowest number) matching rule runs (armor/docs/rules-language-reference);
# these actions let a request through, so one placed before a WAF rule lets traffic skip the WAF.
ALLOWING_ACTIONS: Final = frozenset({"allow"})
CONFORM_ALLOWING_ACTIONS: Final = frozenset({"rate_based_ban", "throttle"})  # their conformAction may be "allow"
WAF_EXPRESSION_FUNCTIONS: Final = ("evaluatePreconfiguredWaf", "evaluatePreconfiguredExpr")
DEFAULT_RULE_PRIORITY: Final = 2_147_483_647

# --- SSL policy and managed certificates --------------------------------------------------------
# minTlsVersion TLS_1_3 is accepted only with profile RESTRICTED (pulumi-gcp compute/ssl_policy.py).
TLS_1_3_PROFILES: Final = frozenset({"RESTRICTED"})
# ManagedCertificate spec.domains[] maxLength (networking.gke.io/v1 CRD, schemas/crds/).
MANAGED_CERTIFICATE_DOMAIN_MAX: Final = 63

# --- Containment of pods that run user code (https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity, https://kubernetes.io/docs/concepts/services-networking/network-policies/) ---
# The GKE metadata server: 169.254.169.254 on 80 (and 8080 on some dataplanes), the GKE metadata
# server's own ports 987/988 on 169.254.169.252. Each hands out credentials; none may be reachable.
METADATA_ENDPOINTS: Final = (("169.254.169.254", 80), ("169.254.169.254", 8080), ("169.254.169.252", 987), ("169.254.169.252", 988))
# Ranges a pod must not reach except for DNS: RFC 1918, shared address space (RFC 6598), link-local.
PRIVATE_RANGES: Final = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")
PRIVATE_RANGES_V6: Final = ("fc00::/7", "fe80::/10")
# What rule R4 calls lateral: the VPC's and the cluster's private space (link-local 169.254.0.0/16 is R3's,
# the metadata rule).
LATERAL_RANGES: Final = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
# Where the resolver of each DNS setup answers; kube-dns is reached by selector. NodeLocal DNSCache
# listens on 169.254.20.10 with hostNetwork, which no pod selector matches (kubernetes
# cluster/addons/dns/nodelocaldns/README.md: allow it by ipBlock); Cloud DNS for GKE answers on the
# metadata address, port 53 (https://cloud.google.com/kubernetes-engine/docs/how-to/cloud-dns).
DNS_RESOLVER_ADDRESSES: Final = {"node-local": "169.254.20.10", "cloud-dns": "169.254.169.254"}
# Setups whose pods fall back to the kube-dns pods while the node's cache is down or being upgraded
# (the kube-dns ClusterIP is served by the cache, else by kube-dns): both must be reachable.
DNS_KUBE_DNS_FALLBACK: Final = frozenset({"kube-dns", "node-local"})
DnsChoice = Literal["node-local", "kube-dns", "cloud-dns"]
DNS_CHOICES: Final = get_args(DnsChoice)
# What a stack declares when it says nothing: the settings' defaults and the rule engine's (gke.Containment).
# node-local: NodeLocal DNSCache is on by default from GKE 1.34.1-gke.3720000 and always on in Autopilot
# (https://cloud.google.com/kubernetes-engine/docs/how-to/nodelocal-dns-cache); 443: HTTPS only.
DEFAULT_DNS: Final[DnsChoice] = "node-local"
DEFAULT_INTERNET_PORTS: Final = (443,)
KUBE_DNS_POD_LABELS: Final = {"k8s-app": "kube-dns"}
KUBE_SYSTEM_NAMESPACE_LABELS: Final = {"kubernetes.io/metadata.name": "kube-system"}
GVISOR_RUNTIME_CLASS: Final = "gvisor"
WORKLOAD_IDENTITY_ANNOTATION: Final = "iam.gke.io/gcp-service-account"
# The pod-template label that marks pods running their users' code: the containment rules judge those.
RUNS_USER_CODE_LABEL: Final = "coditect.ai/runs-user-code"

# --- Kubernetes API version the schema checks pin -------------------------------------------
# A minor version every GKE release channel serves in 2026; kubernetes-validate ships its schema.
KUBERNETES_VERSION: Final = "1.33.0"
