"""BackendConfig (cloud.google.com/v1): the ranges GLBC validates and those the Compute API rejects
later, at sync time (ingress-gce pkg/backendconfig/validation.go)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import limits
from .. import policies as policy
from ..manifest import BACKEND_CONFIG, Manifest, as_number, field_at, format_number
from ..model import Problem, out_of_range, problems
from ..registry import resource_rule

KINDS = (BACKEND_CONFIG,)
VALIDATION = "ingress-gce pkg/backendconfig/validation.go"
COMPUTE = "Compute API BackendService / HealthCheck field docs"


def spec_or_none(manifest: Manifest) -> Mapping[str, Any] | None:
    spec = manifest.get("spec")
    return spec if isinstance(spec, Mapping) else None


def health_check_or_none(manifest: Manifest) -> Mapping[str, Any] | None:
    health = field_at(manifest, "spec", "healthCheck")
    return health if isinstance(health, Mapping) else None


@resource_rule("backendconfig-spec", policy.BACKENDCONFIG_LIMITS, KINDS, "A BackendConfig has a spec.", VALIDATION)
def has_spec(manifest: Manifest) -> Iterator[Problem]:
    if spec_or_none(manifest) is None:
        yield Problem("has no spec.", "declare spec.timeoutSec, spec.sessionAffinity, spec.connectionDraining and spec.healthCheck.")


@resource_rule(
    "backendconfig-timeout-explicit",
    policy.BACKENDCONFIG_EXPLICIT,
    KINDS,
    "spec.timeoutSec is set (Compute's default is 30 s, and removing it later resets nothing).",
    "ingress-gce pkg/backends/features/timeout.go; Compute BackendService.timeoutSec",
)
def timeout_explicit(manifest: Manifest) -> Iterator[Problem]:
    spec = spec_or_none(manifest)
    if spec is not None and spec.get("timeoutSec") is None:
        yield Problem(
            f"does not set spec.timeoutSec, so the backend service keeps Compute's default of {limits.DEFAULT_BACKEND_TIMEOUT_SEC} s "
            "(every WebSocket is cut after 30 s), and removing it later does not reset a value GKE already applied.",
            "set spec.timeoutSec explicitly (86400 for Socket.IO sessions of up to a day).",
            subject="spec.timeoutSec",
        )


@resource_rule(
    "backendconfig-timeout-range",
    policy.BACKENDCONFIG_LIMITS,
    KINDS,
    "spec.timeoutSec within 1..86400.",
    "gcpdiag bp_2025_002; Compute BackendService.timeoutSec",
)
def timeout_range(manifest: Manifest) -> Iterator[Problem]:
    spec = spec_or_none(manifest)
    if spec is not None:
        yield from problems(
            out_of_range("spec.timeoutSec", spec.get("timeoutSec"), limits.TIMEOUT_SEC, " (above 86400 Google's GFE restarts cut sockets anyway)")
        )


@resource_rule(
    "backendconfig-draining-explicit",
    policy.BACKENDCONFIG_DRAINING,
    KINDS,
    "spec.connectionDraining.drainingTimeoutSec is set.",
    "ingress-gce pkg/backends/features/draining.go",
)
def draining_explicit(manifest: Manifest) -> Iterator[Problem]:
    spec = spec_or_none(manifest)
    if spec is not None and field_at(spec, "connectionDraining", "drainingTimeoutSec") is None:
        yield Problem(
            "does not set spec.connectionDraining.drainingTimeoutSec: pods being replaced drop their connections at once.",
            "set spec.connectionDraining.drainingTimeoutSec (0..3600).",
            subject="spec.connectionDraining.drainingTimeoutSec",
        )


@resource_rule("backendconfig-draining-range", policy.BACKENDCONFIG_LIMITS, KINDS, "spec.connectionDraining.drainingTimeoutSec within 0..3600.", COMPUTE)
def draining_range(manifest: Manifest) -> Iterator[Problem]:
    spec = spec_or_none(manifest)
    if spec is not None:
        yield from problems(
            out_of_range(
                "spec.connectionDraining.drainingTimeoutSec",
                field_at(spec, "connectionDraining", "drainingTimeoutSec"),
                limits.DRAINING_TIMEOUT_SEC,
                " (the Compute API rejects more than one hour at sync time)",
            )
        )


@resource_rule(
    "backendconfig-affinity-type",
    policy.BACKENDCONFIG_LIMITS,
    KINDS,
    "spec.sessionAffinity.affinityType is NONE, CLIENT_IP or GENERATED_COOKIE.",
    f"{VALIDATION}#L35-L39",
)
def affinity_type(manifest: Manifest) -> Iterator[Problem]:
    value = field_at(manifest, "spec", "sessionAffinity", "affinityType")
    if spec_or_none(manifest) is not None and value is not None and value not in limits.AFFINITY_TYPES:
        yield Problem(
            f"spec.sessionAffinity.affinityType is {value!r}; GKE accepts only {', '.join(limits.AFFINITY_TYPES)} and rejects the whole Ingress otherwise.",
            "use CLIENT_IP or GENERATED_COOKIE for Socket.IO.",
            subject="spec.sessionAffinity.affinityType",
        )


@resource_rule(
    "backendconfig-cookie-ttl-range",
    policy.BACKENDCONFIG_LIMITS,
    KINDS,
    "spec.sessionAffinity.affinityCookieTtlSec within 0..86400.",
    f"{VALIDATION}#L113-L117",
)
def cookie_ttl_range(manifest: Manifest) -> Iterator[Problem]:
    if spec_or_none(manifest) is not None:
        yield from problems(
            out_of_range(
                "spec.sessionAffinity.affinityCookieTtlSec",
                field_at(manifest, "spec", "sessionAffinity", "affinityCookieTtlSec"),
                limits.AFFINITY_COOKIE_TTL_SEC,
            )
        )


@resource_rule(
    "backendconfig-cookie-ttl-unused",
    policy.BACKENDCONFIG_COOKIE_TTL,
    KINDS,
    "affinityCookieTtlSec only with GENERATED_COOKIE affinity.",
    "Compute BackendService.affinityCookieTtlSec",
)
def cookie_ttl_unused(manifest: Manifest) -> Iterator[Problem]:
    affinity = field_at(manifest, "spec", "sessionAffinity")
    affinity_type = field_at(affinity, "affinityType")
    if spec_or_none(manifest) is not None and field_at(affinity, "affinityCookieTtlSec") is not None and affinity_type != "GENERATED_COOKIE":
        yield Problem(
            f"spec.sessionAffinity.affinityCookieTtlSec is set with affinity {affinity_type!r}; GKE applies the TTL only to GENERATED_COOKIE affinity.",
            "keep it only if you may switch to GENERATED_COOKIE; it has no effect otherwise.",
            subject="spec.sessionAffinity.affinityCookieTtlSec",
        )


@resource_rule(
    "backendconfig-health-check-explicit",
    policy.BACKENDCONFIG_EXPLICIT,
    KINDS,
    "spec.healthCheck is set (otherwise GKE probes '/').",
    "ingress-gce pkg/healthchecks/healthchecks.go, pkg/translator/healthchecks.go; https://cloud.google.com/kubernetes-engine/docs/concepts/ingress#health_checks",
)
def health_check_explicit(manifest: Manifest) -> Iterator[Problem]:
    if spec_or_none(manifest) is not None and health_check_or_none(manifest) is None:
        yield Problem(
            "has no spec.healthCheck: GKE then probes '/' (or copies the readiness probe once, at creation only) "
            "and a redirect or auth page there marks every pod UNHEALTHY (502).",
            "set spec.healthCheck with type HTTP, requestPath (a path answering 200) and port (the container port).",
            subject="spec.healthCheck",
        )


@resource_rule(
    "backendconfig-health-check-type",
    policy.BACKENDCONFIG_LIMITS,
    KINDS,
    "spec.healthCheck.type is HTTP, HTTPS or HTTP2.",
    "ingress-gce pkg/translator/healthchecks.go#L200-L213",
)
def health_check_type(manifest: Manifest) -> Iterator[Problem]:
    health = health_check_or_none(manifest)
    if health is not None and health.get("type") not in limits.HEALTH_CHECK_TYPES:
        yield Problem(
            f"spec.healthCheck.type is {health.get('type')!r}; GKE supports only {', '.join(limits.HEALTH_CHECK_TYPES)}.",
            "set spec.healthCheck.type to HTTP (the protocol nginx serves).",
            subject="spec.healthCheck.type",
        )


@resource_rule("backendconfig-health-check-path", policy.BACKENDCONFIG_LIMITS, KINDS, "spec.healthCheck.requestPath starts with '/'.", COMPUTE)
def health_check_path(manifest: Manifest) -> Iterator[Problem]:
    health = health_check_or_none(manifest)
    path = health.get("requestPath") if health is not None else "/"
    if not isinstance(path, str) or not path.startswith("/"):
        yield Problem(
            f"spec.healthCheck.requestPath is {path!r}; it must be a path starting with '/'.",
            "point it at the health endpoint, e.g. /healthz.",
            subject="spec.healthCheck.requestPath",
        )


@resource_rule(
    "backendconfig-health-check-port",
    policy.BACKENDCONFIG_LIMITS,
    KINDS,
    "spec.healthCheck.port is set to a port number (with NEG, the container port).",
    COMPUTE,
)
def health_check_port(manifest: Manifest) -> Iterator[Problem]:
    health = health_check_or_none(manifest)
    if health is None:
        return
    if health.get("port") is None:
        yield Problem(
            "spec.healthCheck.port is not set; with NEG it must be the container port that serves the health path.",
            "set spec.healthCheck.port to the serving container port.",
            subject="spec.healthCheck.port",
        )
    yield from problems(out_of_range("spec.healthCheck.port", health.get("port"), limits.PORT))


@resource_rule(
    "backendconfig-health-check-range", policy.BACKENDCONFIG_LIMITS, KINDS, "Health-check interval, timeout and thresholds inside Compute's ranges.", COMPUTE
)
def health_check_range(manifest: Manifest) -> Iterator[Problem]:
    health = health_check_or_none(manifest)
    if health is None:
        return
    for field, bounds in (
        ("checkIntervalSec", limits.HEALTH_CHECK_INTERVAL_SEC),
        ("timeoutSec", limits.HEALTH_CHECK_TIMEOUT_SEC),
        ("healthyThreshold", limits.HEALTH_CHECK_THRESHOLD),
        ("unhealthyThreshold", limits.HEALTH_CHECK_THRESHOLD),
    ):
        yield from problems(out_of_range(f"spec.healthCheck.{field}", health.get(field), bounds))


@resource_rule(
    "backendconfig-health-check-timeout",
    policy.BACKENDCONFIG_LIMITS,
    KINDS,
    "spec.healthCheck.timeoutSec is at most checkIntervalSec.",
    "Compute HealthCheck.timeoutSec",
)
def health_check_timeout(manifest: Manifest) -> Iterator[Problem]:
    health = health_check_or_none(manifest)
    if health is None:
        return
    interval, timeout = as_number(health.get("checkIntervalSec")), as_number(health.get("timeoutSec"))
    if interval is not None and timeout is not None and timeout > interval:
        yield Problem(
            f"spec.healthCheck.timeoutSec {format_number(timeout)} is longer than checkIntervalSec {format_number(interval)}; "
            "the Compute API rejects it at sync time.",
            "make timeoutSec less than or equal to checkIntervalSec.",
            subject="spec.healthCheck.timeoutSec",
        )


@resource_rule(
    "backendconfig-logging-sample-rate",
    policy.BACKENDCONFIG_LIMITS,
    KINDS,
    "spec.logging.sampleRate within 0.0..1.0.",
    f"{VALIDATION}; Compute BackendServiceLogConfig.sampleRate",
)
def logging_sample_rate(manifest: Manifest) -> Iterator[Problem]:
    rate = field_at(manifest, "spec", "logging", "sampleRate")
    number = as_number(rate)
    if rate is not None and (number is None or not 0.0 <= number <= 1.0):
        yield Problem(f"spec.logging.sampleRate is {rate!r}, outside 0.0..1.0.", "set it between 0.0 and 1.0.", subject="spec.logging.sampleRate")


@resource_rule("backendconfig-iap-cdn", policy.BACKENDCONFIG_LIMITS, KINDS, "IAP and CDN are not both enabled.", VALIDATION)
def iap_with_cdn(manifest: Manifest) -> Iterator[Problem]:
    if field_at(manifest, "spec", "iap", "enabled") is True and field_at(manifest, "spec", "cdn", "enabled") is True:
        yield Problem("enables both IAP and CDN, which GKE rejects.", "enable at most one of spec.iap and spec.cdn.")


@resource_rule(
    "backendconfig-unreset-blocks-stated",
    policy.BACKENDCONFIG_STATED,
    KINDS,
    "securityPolicy and logging are stated (GKE never resets them when absent).",
    "ingress-gce pkg/backends/features/securitypolicy.go, logging.go; the BackendConfig CRD",
)
def unreset_blocks_stated(manifest: Manifest) -> Iterator[Problem]:
    spec = spec_or_none(manifest)
    if spec is None:
        return
    for block in limits.UNRESET_BACKEND_CONFIG_BLOCKS:
        if spec.get(block) is None:
            yield Problem(
                f"does not state spec.{block}; GKE leaves whatever the backend service has when the block is absent "
                "(a Cloud Armor policy stays attached, request logs stay as they were at creation).",
                'state it: securityPolicy {name: "<policy>"} or {name: ""} to detach; logging {enable: true, sampleRate: 1.0}.',
                subject=f"spec.{block}",
            )
