"""GKE Gateway (Gateway API) facts as constants, each with its primary source.

Sources, cited beside each value: kubernetes-sigs/gateway-api at tags v1.3.0 (40be951) and v1.5.1 (e7677b7),
GoogleCloudPlatform/gke-gateway-api at fc40d606 (the GKE policy types and CRDs), kubernetes/ingress-gce at acbcf5d
(the Ingress side the Gateway is compared with) and Google's GKE Gateway pages. Standard library only, like ``limits``.
"""

from __future__ import annotations

from typing import Final

# --- Kinds and API versions ----------------------------------------------------------------------
# gateway-api@v1.5.1 config/crd/standard/*.yaml: v1 is the storage version of Gateway and HTTPRoute in both
# bundles GKE installs (v1.3.0 and v1.5.1).
GATEWAY_API_GROUP: Final = "gateway.networking.k8s.io"
GATEWAY_API_VERSION: Final = "gateway.networking.k8s.io/v1"
# gke-gateway-api@fc40d606 apis/networking/v1/*_types.go: the GKE policies exist only as networking.gke.io/v1.
GKE_POLICY_API_VERSION: Final = "networking.gke.io/v1"
GATEWAY: Final = "Gateway"
HTTP_ROUTE: Final = "HTTPRoute"
GCP_BACKEND_POLICY: Final = "GCPBackendPolicy"
HEALTH_CHECK_POLICY: Final = "HealthCheckPolicy"
GCP_GATEWAY_POLICY: Final = "GCPGatewayPolicy"
SECRET: Final = "Secret"
API_VERSIONS: Final = {
    GATEWAY: GATEWAY_API_VERSION,
    HTTP_ROUTE: GATEWAY_API_VERSION,
    GCP_BACKEND_POLICY: GKE_POLICY_API_VERSION,
    HEALTH_CHECK_POLICY: GKE_POLICY_API_VERSION,
    GCP_GATEWAY_POLICY: GKE_POLICY_API_VERSION,
}

# --- Gateway classes (https://docs.cloud.google.com/kubernetes-engine/docs/how-to/gatewayclass-capabilities) ---
# The global external Application Load Balancer; the only class that supports HTTPRoute rule filters (the
# HTTP->HTTPS redirect) for an internet-facing app (https://cloud.google.com/kubernetes-engine/docs/how-to/deploying-gateways#configure_http-to-https_redirects;
# kubernetes-sigs/ingress2gateway#148).
MANAGED_CLASS: Final = "gke-l7-global-external-managed"
# The classic ALB (what the `gce` Ingress creates): rejects every rule filter (GWCER104 "classic GXLB ... does not
# support rule filters").
CLASSIC_CLASS: Final = "gke-l7-gxlb"

# --- Addresses ----------------------------------------------------------------------------------
# gateway-api@v1.5.1 apis/v1/gateway_types.go GatewaySpecAddress: `type` defaults to IPAddress, which GKE rejects
# (GWCER106 "only NamedAddress is supported", kubernetes-sigs/gateway-api#2632).
NAMED_ADDRESS: Final = "NamedAddress"
# GKE's Gateway controller writes the addresses it used into this annotation (`kubectl describe gateway` shows
# e.g. "/projects/NUMBER/global/addresses/gkegw1-...", a name the controller generated); it is an output, and
# writing it as input chooses nothing: the Gateway still gets an ephemeral IP.
ADDRESSES_ANNOTATION: Final = "networking.gke.io/addresses"

# --- TLS (https://cloud.google.com/kubernetes-engine/docs/how-to/secure-gateway) ---------------------
CERTMAP_ANNOTATION: Final = "networking.gke.io/certmap"
PRE_SHARED_CERTS_OPTION: Final = "networking.gke.io/pre-shared-certs"
# GKE's Gateway controller takes only core Secrets as certificateRefs ("GWCER105 ... {Group: , Kind: Secret} are the
# supported values"); a ManagedCertificate is refused.
MANAGED_CERTIFICATE_GROUP: Final = "networking.gke.io"

# --- Listeners (gateway-api@v1.5.1 apis/v1/gateway_types.go ProtocolType) -------------------------
HTTP: Final = "HTTP"
HTTPS: Final = "HTTPS"

# --- HTTPRoute RequestRedirect (gateway-api apis/v1/httproute_types.go HTTPRequestRedirectFilter) ---
REQUEST_REDIRECT: Final = "RequestRedirect"
# +kubebuilder:validation:Enum: 301/302 up to v1.4 (v1.3.0 CRD), 301/302/303/307/308 from v1.5 (v1.5.1 CRD).
# The CRD default is 302, not the Ingress's 301 (FrontendConfig MOVED_PERMANENTLY_DEFAULT).
REDIRECT_STATUS_CODES: Final = {"v1.3.0": frozenset({301, 302}), "v1.5.1": frozenset({301, 302, 303, 307, 308})}
# What every bundle accepts: the codes a redirect may use when the cluster's bundle is not known.
REDIRECT_STATUS_CODES_ANY_BUNDLE: Final = frozenset.intersection(*REDIRECT_STATUS_CODES.values())
REDIRECT_STATUS_CODES_ALL: Final = frozenset.union(*REDIRECT_STATUS_CODES.values())
GATEWAY_BUNDLES: Final = tuple(REDIRECT_STATUS_CODES)
DEFAULT_REDIRECT_STATUS_CODE: Final = 302  # the CRD's default when statusCode is omitted

# --- GCPBackendPolicy (gke-gateway-api@fc40d606 config/crd/networking.gke.io_gcpbackendpolicies.yaml) ---
# The CRD allows 1..2^31-1; for an external ALB the timeout is the hard lifetime of a WebSocket and Google's own
# linter fails anything above 86400 (GoogleCloudPlatform/gcpdiag gcpdiag/lint/lb/bp_2025_002_timeout_sec_for_lb_backendservices.py).
BACKEND_TIMEOUT_SEC: Final = (1, 86_400)
DEFAULT_BACKEND_TIMEOUT_SEC: Final = 30  # Compute BackendService.timeoutSec default
DRAINING_TIMEOUT_SEC: Final = (0, 3_600)  # CRD connectionDraining.drainingTimeoutSec minimum/maximum
DEFAULT_DRAINING_TIMEOUT_SEC: Final = 0  # Compute ConnectionDraining default: off
# CRD logging.sampleRate: an int32 in millionths (1_000_000 = every request), not BackendConfig's 0.0..1.0 float.
SAMPLE_RATE: Final = (0, 1_000_000)
SAMPLE_RATE_SCALE: Final = 1_000_000
COOKIE_TTL_SEC: Final = (0, 1_209_600)  # CRD sessionAffinity.cookieTtlSec
# The CRD enum also has CLIENT_IP_PROTO, CLIENT_IP_PORT_PROTO (not for HTTP(S) load balancing: Compute
# BackendService.SessionAffinity docs) and HEADER_FIELD, HTTP_COOKIE ("GCPBackendPolicy does not support
# HEADER_FIELD or HTTP_COOKIE", GoogleCloudPlatform/gke-gateway-api#42).
AFFINITY_TYPES: Final = ("NONE", "CLIENT_IP", "GENERATED_COOKIE")
COOKIE_AFFINITY: Final = "GENERATED_COOKIE"
DEFAULT_AFFINITY: Final = "NONE"

# --- HealthCheckPolicy (gke-gateway-api@fc40d606 config/crd/networking.gke.io_healthcheckpolicies.yaml) ---
HEALTH_CHECK_INTERVAL_SEC: Final = (1, 300)
HEALTH_CHECK_TIMEOUT_SEC: Final = (1, 300)
HEALTH_CHECK_THRESHOLD: Final = (1, 10)
HEALTH_CHECK_PORT: Final = (1, 65_535)
# config.type -> the block that must carry its settings (healthcheck_types.go HealthCheck).
HEALTH_CHECK_BLOCKS: Final = {
    "HTTP": "httpHealthCheck",
    "HTTPS": "httpsHealthCheck",
    "HTTP2": "http2HealthCheck",
    "TCP": "tcpHealthCheck",
    "GRPC": "grpcHealthCheck",
}
HTTP_HEALTH_CHECK_TYPES: Final = frozenset({"HTTP", "HTTPS", "HTTP2"})  # the types with a requestPath
PORT_SPECIFICATIONS: Final = ("USE_FIXED_PORT", "USE_NAMED_PORT", "USE_SERVING_PORT")
# The four numbers and their defaults when omitted on each front door:
# Gateway: the HealthCheckPolicy CRD's documented defaults (5 s, 5 s, 2, 2);
# Ingress with NEG: ingress-gce@acbcf5d pkg/translator/healthchecks.go (defaultNEGHealthCheckInterval 15 s,
# defaultNEGTimeout 15 s, defaultHealthyThreshold 1, defaultNEGUnhealthyThreshold 2).
HEALTH_CHECK_NUMBERS: Final = ("checkIntervalSec", "timeoutSec", "healthyThreshold", "unhealthyThreshold")
GATEWAY_HEALTH_CHECK_DEFAULTS: Final = {"checkIntervalSec": 5, "timeoutSec": 5, "healthyThreshold": 2, "unhealthyThreshold": 2}
INGRESS_NEG_HEALTH_CHECK_DEFAULTS: Final = {"checkIntervalSec": 15, "timeoutSec": 15, "healthyThreshold": 1, "unhealthyThreshold": 2}
HEALTH_CHECK_BOUNDS: Final = {
    "checkIntervalSec": HEALTH_CHECK_INTERVAL_SEC,
    "timeoutSec": HEALTH_CHECK_TIMEOUT_SEC,
    "healthyThreshold": HEALTH_CHECK_THRESHOLD,
    "unhealthyThreshold": HEALTH_CHECK_THRESHOLD,
}
DEFAULT_HEALTH_CHECK_PATH: Final = "/"  # both front doors probe '/' when no path is given
