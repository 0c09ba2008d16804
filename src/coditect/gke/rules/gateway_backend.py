"""GCPBackendPolicy and HealthCheckPolicy (networking.gke.io/v1): what the Gateway's backend service gets, the ranges
their CRDs publish, the values GKE really uses, and one policy of each per backend Service
(gke-gateway-api@fc40d606 apis/networking/v1/{gcpbackendpolicy,healthcheck}_types.go and config/crd/;
https://docs.cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import gateway_limits as gw
from .. import policies as policy
from ..manifest import SERVICE, Manifest, as_number, field_at, format_number, mapping_at, name_of, namespace_of, reference
from ..model import Context, Problem, out_of_range, problems
from ..registry import resource_rule, stack_rule
from ..rules.gateway import bare_name_problem, route_backend_services
from ..stack import StackView

BACKEND_CRD = "gke-gateway-api@fc40d606 config/crd/networking.gke.io_gcpbackendpolicies.yaml"
HEALTH_CRD = "gke-gateway-api@fc40d606 config/crd/networking.gke.io_healthcheckpolicies.yaml"
RESOURCES = "https://docs.cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources"
SERVICE_TARGET = '{group: "", kind: Service, name: <service>}'


def backend_default(manifest: Manifest) -> Mapping[str, Any]:
    return mapping_at(manifest, "spec", "default")


def targets_service(manifest: Manifest) -> str | None:
    """The Service a GKE policy attaches to (targetRef group "" and kind Service), or None."""
    target = mapping_at(manifest, "spec", "targetRef")
    if target.get("group") == "" and target.get("kind") == SERVICE and target.get("name"):
        return str(target.get("name"))
    return None


def policies_for(stack: StackView, kind: str, namespace: str, service: str) -> list[Manifest]:
    return [p for p in stack.of_kind(kind) if namespace_of(p) == namespace and targets_service(p) == service]


def _target_problem(manifest: Manifest) -> Iterator[Problem]:
    if targets_service(manifest) is None:
        target = mapping_at(manifest, "spec", "targetRef")
        yield Problem(
            f"spec.targetRef is {dict(target)!r}; this policy must attach to a core Service of its own namespace.",
            f"set spec.targetRef to {SERVICE_TARGET} (group is the empty string).",
            subject="spec.targetRef",
        )


@resource_rule("gcpbackendpolicy-target", policy.GATEWAY_BACKEND_LIMITS, (gw.GCP_BACKEND_POLICY,), f"spec.targetRef is {SERVICE_TARGET}.", RESOURCES)
def backend_policy_target(manifest: Manifest) -> Iterator[Problem]:
    yield from _target_problem(manifest)


@resource_rule("healthcheckpolicy-target", policy.GATEWAY_BACKEND_LIMITS, (gw.HEALTH_CHECK_POLICY,), f"spec.targetRef is {SERVICE_TARGET}.", RESOURCES)
def health_policy_target(manifest: Manifest) -> Iterator[Problem]:
    yield from _target_problem(manifest)


MISSING = {
    gw.GCP_BACKEND_POLICY: "its backend service keeps a 30 s timeout (every WebSocket cut), no affinity, no draining and no Cloud Armor",
    gw.HEALTH_CHECK_POLICY: "GKE probes HTTP '/' on the serving port, and a redirect or auth page there answers '503 no healthy upstream'",
}


@stack_rule(
    "gateway-backend-policies",
    policy.GATEWAY_REFERENCES,
    (gw.HTTP_ROUTE, SERVICE, gw.GCP_BACKEND_POLICY, gw.HEALTH_CHECK_POLICY),
    "Every Service behind an HTTPRoute has exactly one GCPBackendPolicy and one HealthCheckPolicy in its namespace; every such policy targets a declared Service.",
    f"{RESOURCES} (a second policy on one Service is ignored: the oldest wins)",
)
def one_policy_each(stack: StackView, _context: Context) -> Iterator[Problem]:
    for (namespace, name), uses in sorted(stack_route_services(stack).items()):
        service = stack.services[(namespace, name)]
        for kind in (gw.GCP_BACKEND_POLICY, gw.HEALTH_CHECK_POLICY):
            found = policies_for(stack, kind, namespace, name)
            if not found:
                elsewhere = sorted({namespace_of(p) for p in stack.of_kind(kind) if targets_service(p) == name} - {namespace})
                hint = f" (one in namespace {', '.join(elsewhere)} does not count: a policy attaches within its own namespace)" if elsewhere else ""
                yield Problem(
                    f"is routed to by {uses[0]} but no {kind} in namespace {namespace!r} targets it{hint}: {MISSING[kind]}.",
                    f'declare one {kind} named {name!r} in namespace {namespace!r} with spec.targetRef {{group: "", kind: Service, name: {name}}}.',
                    resource=reference(service),
                    subject=kind,
                )
            elif len(found) > 1:
                yield Problem(
                    f"is targeted by {len(found)} {kind} objects ({', '.join(name_of(p) for p in found)}); GKE applies only the oldest and ignores the others.",
                    f"keep exactly one {kind} for Service {name!r}.",
                    resource=reference(service),
                    subject=kind,
                )
    for kind in (gw.GCP_BACKEND_POLICY, gw.HEALTH_CHECK_POLICY):
        for item in stack.of_kind(kind):
            target = targets_service(item)
            if target is not None and (namespace_of(item), target) not in stack.services:
                yield Problem(
                    f"targets Service {target!r}, which is not declared in namespace {namespace_of(item)!r}; the policy configures nothing.",
                    "target a Service declared in the policy's namespace.",
                    resource=reference(item),
                    subject="spec.targetRef",
                )


def stack_route_services(stack: StackView) -> dict[tuple[str, str], list[str]]:
    """Declared Services behind an HTTPRoute -> the routes that use them."""
    return {key: sorted({reference(route) for route, _ in uses}) for key, uses in route_backend_services(stack).items()}


# --- GCPBackendPolicy values --------------------------------------------------------------------------


@resource_rule(
    "gcpbackendpolicy-timeout",
    policy.GATEWAY_BACKEND_LIMITS,
    (gw.GCP_BACKEND_POLICY,),
    f"spec.default.timeoutSec is set, within {gw.BACKEND_TIMEOUT_SEC[0]}..{gw.BACKEND_TIMEOUT_SEC[1]}.",
    f"{BACKEND_CRD}; GoogleCloudPlatform/gcpdiag lint/lb/bp_2025_002",
)
def backend_timeout(manifest: Manifest) -> Iterator[Problem]:
    timeout = backend_default(manifest).get("timeoutSec")
    if timeout is None:
        yield Problem(
            f"does not set spec.default.timeoutSec, so the backend service keeps {gw.DEFAULT_BACKEND_TIMEOUT_SEC} s: on the external "
            "Application Load Balancer that is the maximum lifetime of every WebSocket.",
            "set spec.default.timeoutSec explicitly (86400 for Socket.IO sessions of up to a day).",
            subject="spec.default.timeoutSec",
        )
    yield from problems(
        out_of_range("spec.default.timeoutSec", timeout, gw.BACKEND_TIMEOUT_SEC, " (above 86400 Google's front-end restarts cut sockets anyway)")
    )


@stack_rule(
    "gcpbackendpolicy-websocket-timeout",
    policy.WEBSOCKET_SESSIONS,
    (gw.GCP_BACKEND_POLICY,),
    "A GCPBackendPolicy's timeoutSec covers the minimum WebSocket session.",
    "Google Cloud external Application Load Balancer docs: the backend service timeout is the WebSocket lifetime",
)
def backend_websocket_timeout(stack: StackView, context: Context) -> Iterator[Problem]:
    if context.min_session_sec is None:
        return
    for item in stack.of_kind(gw.GCP_BACKEND_POLICY):
        timeout = as_number(backend_default(item).get("timeoutSec"))
        if timeout is not None and timeout < context.min_session_sec:
            yield Problem(
                f"spec.default.timeoutSec {format_number(timeout)} s is shorter than the minimum WebSocket session of {context.min_session_sec} s; "
                "on the external Application Load Balancer it is the maximum lifetime of every WebSocket, idle or not.",
                f"raise spec.default.timeoutSec to at least {context.min_session_sec}, or lower the configured minimum session length.",
                resource=reference(item),
                subject="spec.default.timeoutSec",
            )


@resource_rule(
    "gcpbackendpolicy-draining",
    policy.GATEWAY_BACKEND_LIMITS,
    (gw.GCP_BACKEND_POLICY,),
    f"spec.default.connectionDraining.drainingTimeoutSec within {gw.DRAINING_TIMEOUT_SEC[0]}..{gw.DRAINING_TIMEOUT_SEC[1]}.",
    BACKEND_CRD,
)
def backend_draining(manifest: Manifest) -> Iterator[Problem]:
    field = "spec.default.connectionDraining.drainingTimeoutSec"
    yield from problems(out_of_range(field, field_at(backend_default(manifest), "connectionDraining", "drainingTimeoutSec"), gw.DRAINING_TIMEOUT_SEC))


def sample_rate_problem(rate: Any) -> str | None:
    """Why a GCPBackendPolicy logging.sampleRate is refused, or None: an integer in millionths, 0..1_000_000.

    A fraction (0.5) is BackendConfig's unit (0.0..1.0) carried over, which the CRD refuses. So is 1: as BackendConfig's
    1.0 it meant every request, here it logs one in a million, and the policy engine cannot tell 1 from 1.0 (its
    protobuf Struct delivers every number as a float), so the components and the pack refuse both alike."""
    number = as_number(rate)
    low, high = gw.SAMPLE_RATE
    if number is None:
        return f"is {rate!r}, not a number"
    if number != int(number) or number == 1:
        return (
            f"is {rate!r}, a fraction in BackendConfig's unit (0.0..1.0); GCPBackendPolicy counts in millionths, an integer "
            f"{low}..{high} ({format_number(min(max(number, 0.0), 1.0) * gw.SAMPLE_RATE_SCALE)} for this rate)"
        )
    if not low <= number <= high:
        return f"is {format_number(number)}, outside {low}..{high} (millionths of the requests)"
    return None


@resource_rule(
    "gcpbackendpolicy-logging",
    policy.GATEWAY_BACKEND_LIMITS,
    (gw.GCP_BACKEND_POLICY,),
    "spec.default.logging.enabled is stated; sampleRate is an integer 0..1000000 (millionths).",
    f"{BACKEND_CRD} (logging.sampleRate int32 0..1000000)",
)
def backend_logging(manifest: Manifest) -> Iterator[Problem]:
    logging = mapping_at(backend_default(manifest), "logging")
    enabled = logging.get("enabled")
    if not isinstance(enabled, bool):
        state = "" if enabled is None else f" (it is {enabled!r}, not true or false)"
        yield Problem(
            f"does not state spec.default.logging.enabled{state}; the Gateway's backend service then logs nothing, unlike a "
            "BackendConfig whose logging stays as it was at creation.",
            "set spec.default.logging {enabled: true, sampleRate: 1000000} (or enabled: false).",
            subject="spec.default.logging.enabled",
        )
    if logging.get("sampleRate") is not None:
        why = sample_rate_problem(logging.get("sampleRate"))
        if why is not None:
            yield Problem(
                f"spec.default.logging.sampleRate {why}.",
                "set an integer from 0 to 1000000 (1000000 logs every request).",
                subject="spec.default.logging.sampleRate",
            )


@resource_rule(
    "gcpbackendpolicy-affinity",
    policy.GATEWAY_BACKEND_LIMITS,
    (gw.GCP_BACKEND_POLICY,),
    f"sessionAffinity.type is one of {', '.join(gw.AFFINITY_TYPES)}; cookieTtlSec only with {gw.COOKIE_AFFINITY}.",
    f"{BACKEND_CRD}; GoogleCloudPlatform/gke-gateway-api#42 (HEADER_FIELD, HTTP_COOKIE unsupported)",
)
def backend_affinity(manifest: Manifest) -> Iterator[Problem]:
    affinity = mapping_at(backend_default(manifest), "sessionAffinity")
    kind, ttl = affinity.get("type"), affinity.get("cookieTtlSec")
    if kind is not None and kind not in gw.AFFINITY_TYPES:
        yield Problem(
            f"spec.default.sessionAffinity.type is {kind!r}; GKE's Gateway backend services use only {', '.join(gw.AFFINITY_TYPES)} "
            "for HTTP(S) (HEADER_FIELD and HTTP_COOKIE are unsupported, CLIENT_IP_PROTO/CLIENT_IP_PORT_PROTO are not for HTTP).",
            "use CLIENT_IP or GENERATED_COOKIE for Socket.IO.",
            subject="spec.default.sessionAffinity.type",
        )
    if ttl is not None and kind != gw.COOKIE_AFFINITY:
        yield Problem(
            f"spec.default.sessionAffinity.cookieTtlSec is set with affinity {kind!r}; the TTL applies only to {gw.COOKIE_AFFINITY}.",
            f"remove cookieTtlSec, or set type: {gw.COOKIE_AFFINITY}.",
            subject="spec.default.sessionAffinity.cookieTtlSec",
        )
    yield from problems(out_of_range("spec.default.sessionAffinity.cookieTtlSec", ttl, gw.COOKIE_TTL_SEC))


@resource_rule(
    "gcpbackendpolicy-security-policy",
    policy.GATEWAY_BACKEND_LIMITS,
    (gw.GCP_BACKEND_POLICY,),
    "spec.default.securityPolicy, when set, is the bare name of a Cloud Armor policy (no path).",
    f"{RESOURCES} (securityPolicy: POLICY_NAME); {BACKEND_CRD}",
)
def backend_security_policy(manifest: Manifest) -> Iterator[Problem]:
    if field_at(backend_default(manifest), "securityPolicy") is not None:  # absent: no Cloud Armor policy attached
        yield from bare_name_problem(manifest, "securityPolicy", "Cloud Armor security policy", "the stack's Cloud Armor policy")


# --- HealthCheckPolicy ------------------------------------------------------------------------------


def health_default(manifest: Manifest) -> Mapping[str, Any]:
    return mapping_at(manifest, "spec", "default")


def _block_problems(kind: str, block: Mapping[str, Any], where: str) -> Iterator[Problem]:
    spec = block.get("portSpecification")
    if spec is None:
        yield Problem(
            f"{where}.portSpecification is not set; the current HealthCheckPolicy CRD rejects a port without USE_FIXED_PORT, and "
            "an older one probes the serving port.",
            f"set {where}.portSpecification: USE_FIXED_PORT with {where}.port (the container port serving the health path).",
            subject=f"{where}.portSpecification",
        )
    elif spec not in gw.PORT_SPECIFICATIONS:
        yield Problem(f"{where}.portSpecification is {spec!r}.", f"use one of {', '.join(gw.PORT_SPECIFICATIONS)}.", subject=f"{where}.portSpecification")
    elif spec == "USE_FIXED_PORT" and block.get("port") is None:
        yield Problem(f"{where}.portSpecification is USE_FIXED_PORT without a port.", f"set {where}.port.", subject=f"{where}.port")
    elif spec == "USE_NAMED_PORT" and not block.get("portName"):
        yield Problem(f"{where}.portSpecification is USE_NAMED_PORT without a portName.", f"set {where}.portName.", subject=f"{where}.portName")
    elif spec == "USE_SERVING_PORT" and (block.get("port") is not None or block.get("portName")):
        yield Problem(
            f"{where} sets a port with portSpecification USE_SERVING_PORT, which the CRD rejects.",
            f"use USE_FIXED_PORT with {where}.port, or remove the port.",
            subject=f"{where}.port",
        )
    yield from problems(out_of_range(f"{where}.port", block.get("port"), gw.HEALTH_CHECK_PORT))
    path = block.get("requestPath")
    if kind in gw.HTTP_HEALTH_CHECK_TYPES and (not isinstance(path, str) or not path.startswith("/")):
        state = "is not set, so GKE probes '/'" if path is None else f"is {path!r}, not a path starting with '/'"
        yield Problem(f"{where}.requestPath {state}.", f"set {where}.requestPath to the health endpoint (e.g. /healthz).", subject=f"{where}.requestPath")


@resource_rule(
    "healthcheckpolicy-config",
    policy.GATEWAY_BACKEND_LIMITS,
    (gw.HEALTH_CHECK_POLICY,),
    "spec.default.config states its type with the matching block, portSpecification and requestPath.",
    f"{HEALTH_CRD} (CEL: portSpecification vs port, commit 983ac3d)",
)
def health_config(manifest: Manifest) -> Iterator[Problem]:
    config = mapping_at(health_default(manifest), "config")
    kind = config.get("type")
    if not isinstance(kind, str) or kind not in gw.HEALTH_CHECK_BLOCKS:  # a list or mapping is unhashable: no lookup
        state = "is not set (GKE then probes HTTP '/')" if kind is None else f"is {kind!r}"
        yield Problem(
            f"spec.default.config.type {state}; the health check must say what it probes.",
            "set spec.default.config.type: HTTP with spec.default.config.httpHealthCheck.",
            subject="spec.default.config.type",
        )
        return
    wanted = gw.HEALTH_CHECK_BLOCKS[kind]
    for other in sorted(set(gw.HEALTH_CHECK_BLOCKS.values()) - {wanted}):
        if config.get(other) is not None:
            yield Problem(
                f"spec.default.config.{other} does not match config.type {kind}.",
                f"move its settings to config.{wanted}.",
                subject=f"spec.default.config.{other}",
            )
    block = config.get(wanted)
    if not isinstance(block, Mapping):
        yield Problem(
            f"spec.default.config.type is {kind} without config.{wanted}: GKE probes '/' on the serving port.",
            f"set spec.default.config.{wanted} with portSpecification, port and requestPath.",
            subject=f"spec.default.config.{wanted}",
        )
        return
    yield from _block_problems(kind, block, f"spec.default.config.{wanted}")


@resource_rule(
    "healthcheckpolicy-numbers",
    policy.GATEWAY_BACKEND_LIMITS,
    (gw.HEALTH_CHECK_POLICY,),
    "checkIntervalSec, timeoutSec, healthyThreshold and unhealthyThreshold are set, in range, timeoutSec <= checkIntervalSec.",
    f"{HEALTH_CRD}; ingress-gce@acbcf5d pkg/translator/healthchecks.go (the Ingress's NEG defaults)",
)
def health_numbers(manifest: Manifest) -> Iterator[Problem]:
    default = health_default(manifest)
    for field in gw.HEALTH_CHECK_NUMBERS:
        if default.get(field) is None:
            yield Problem(
                f"does not set spec.default.{field}; GKE's Gateway default is {gw.GATEWAY_HEALTH_CHECK_DEFAULTS[field]}, the Ingress's "
                f"was {gw.INGRESS_NEG_HEALTH_CHECK_DEFAULTS[field]}, so the health check changes behind your back.",
                f"set spec.default.{field} explicitly (the BackendConfig's value, or {gw.INGRESS_NEG_HEALTH_CHECK_DEFAULTS[field]} to keep the Ingress's).",
                subject=f"spec.default.{field}",
            )
        yield from problems(out_of_range(f"spec.default.{field}", default.get(field), gw.HEALTH_CHECK_BOUNDS[field]))
    interval = as_number(default.get("checkIntervalSec", gw.GATEWAY_HEALTH_CHECK_DEFAULTS["checkIntervalSec"]))
    timeout = as_number(default.get("timeoutSec", gw.GATEWAY_HEALTH_CHECK_DEFAULTS["timeoutSec"]))
    if interval is not None and timeout is not None and timeout > interval:
        yield Problem(
            f"spec.default.timeoutSec {format_number(timeout)} is longer than checkIntervalSec {format_number(interval)} (defaults counted); the CRD rejects it.",
            "make timeoutSec less than or equal to checkIntervalSec.",
            subject="spec.default.timeoutSec",
        )
