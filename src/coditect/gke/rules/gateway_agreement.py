"""Two front doors, one Service: while an Ingress (BackendConfig on the Service) and a Gateway (GCPBackendPolicy and
HealthCheckPolicy) serve the same Service, each load balancer has its own backend service and health check, so each
backend value must be the same on both, defaults counted (GKE's guide runs them side by side, then moves DNS:
https://cloud.google.com/kubernetes-engine/docs/how-to/migrate-ingress-gateway). A translation such as
ingress2gateway's (kubernetes-sigs/ingress2gateway pkg/i2gw/providers/gce) drops most of these values silently."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .. import gateway_limits as gw
from .. import policies as policy
from ..manifest import (
    BACKEND_CONFIG,
    INGRESS,
    SERVICE,
    Manifest,
    as_number,
    backend_config_refs,
    field_at,
    format_number,
    mapping_at,
    port_key,
    reference,
)
from ..model import Context, Problem
from ..registry import stack_rule
from ..rules.gateway import route_backend_services, service_port_of
from ..rules.gateway_backend import policies_for
from ..stack import Key, StackView

SOURCE = (
    "https://cloud.google.com/kubernetes-engine/docs/how-to/migrate-ingress-gateway; ingress-gce@acbcf5d pkg/translator/healthchecks.go "
    "(Ingress defaults); gke-gateway-api@fc40d606 config/crd (Gateway defaults)"
)


@dataclass(frozen=True)
class Value:
    """One side's value as the load balancer gets it: what is compared and how it is shown."""

    key: Any
    shown: str
    given: bool = True  # set in the manifest, not the load balancer's default


def stated(value: Any, default: Any, unit: str = "") -> Value:
    """A value as set, or the default the load balancer uses when it is omitted."""
    number = as_number(value)
    if value is None:
        shown_default = format_number(float(default)) if as_number(default) is not None else str(default)
        return Value(as_number(default) if as_number(default) is not None else default, f"{shown_default}{unit} (not set: the default)", given=False)
    return Value(number if number is not None else value, f"{format_number(number) if number is not None else value!s}{unit}")


def _as_text(key: Any) -> str:
    """A compared value as the fix names it: a number as its digits, anything else (a hostile string) as given."""
    return format_number(key) if isinstance(key, float) else str(key)


@dataclass(frozen=True)
class Pair:
    label: str  # what the value is, in words
    ingress: Value
    gateway: Value
    gateway_field: str  # where it is set on the Gateway side
    fix_value: str  # what to set there for the Ingress's behaviour
    # A Gateway-side field a resource rule already demands (gateway-backend-limits): when it is missing, that rule's
    # finding is the one line for it.
    demanded: bool = False


def _logging_pairs(bc: Mapping[str, Any], bp: Mapping[str, Any]) -> list[Pair]:
    ingress_on, gateway_on = field_at(bc, "logging", "enable"), field_at(bp, "logging", "enabled")
    if ingress_on is None:  # a BackendConfig without logging leaves whatever the backend service has: nothing to compare
        return []
    gateway = Value(bool(gateway_on), str(gateway_on).lower() if gateway_on is not None else "false (not set: logging off)", given=gateway_on is not None)
    pairs = [
        Pair(
            "request logging (BackendConfig logging.enable vs GCPBackendPolicy logging.enabled)",
            Value(ingress_on, str(ingress_on).lower()),
            gateway,
            "spec.default.logging.enabled",
            str(ingress_on).lower(),
            demanded=True,
        )
    ]
    if ingress_on and gateway_on:
        fraction = as_number(field_at(bc, "logging", "sampleRate"))
        ingress_rate = round((1.0 if fraction is None else fraction) * gw.SAMPLE_RATE_SCALE)
        rate = as_number(field_at(bp, "logging", "sampleRate"))
        gateway_rate = gw.SAMPLE_RATE_SCALE if rate is None else rate
        pairs.append(
            Pair(
                "log sample rate (BackendConfig fraction 0.0..1.0 vs GCPBackendPolicy millionths)",
                Value(float(ingress_rate), f"{format_number(fraction if fraction is not None else 1.0)} (= {ingress_rate} millionths)"),
                Value(float(gateway_rate), f"{format_number(gateway_rate)} millionths"),
                "spec.default.logging.sampleRate",
                str(ingress_rate),
            )
        )
    return pairs


def _armor_pair(bc: Mapping[str, Any], bp: Mapping[str, Any]) -> list[Pair]:
    if field_at(bc, "securityPolicy") is None:  # not reconciled by GKE when absent: nothing to compare
        return []
    ingress_name = field_at(bc, "securityPolicy", "name") or ""
    gateway_name = bp.get("securityPolicy") or ""
    show: Callable[[str], str] = lambda name: repr(name) if name else "none"  # noqa: E731
    return [
        Pair(
            "Cloud Armor policy",
            Value(ingress_name, show(ingress_name)),
            Value(gateway_name, show(gateway_name)),
            "spec.default.securityPolicy",
            ingress_name or '""',
        )
    ]


def backend_pairs(bc: Mapping[str, Any], bp: Mapping[str, Any]) -> list[Pair]:
    """BackendConfig spec vs GCPBackendPolicy spec.default."""
    ingress_affinity = stated(field_at(bc, "sessionAffinity", "affinityType"), gw.DEFAULT_AFFINITY)
    gateway_affinity = stated(field_at(bp, "sessionAffinity", "type"), gw.DEFAULT_AFFINITY)
    timeout = (stated(bc.get("timeoutSec"), gw.DEFAULT_BACKEND_TIMEOUT_SEC, " s"), stated(bp.get("timeoutSec"), gw.DEFAULT_BACKEND_TIMEOUT_SEC, " s"))
    draining = (
        stated(field_at(bc, "connectionDraining", "drainingTimeoutSec"), gw.DEFAULT_DRAINING_TIMEOUT_SEC, " s"),
        stated(field_at(bp, "connectionDraining", "drainingTimeoutSec"), gw.DEFAULT_DRAINING_TIMEOUT_SEC, " s"),
    )
    pairs = [
        Pair("backend timeout (the WebSocket lifetime)", *timeout, "spec.default.timeoutSec", timeout[0].shown.split(" ")[0], demanded=True),
        Pair("session affinity", ingress_affinity, gateway_affinity, "spec.default.sessionAffinity.type", str(ingress_affinity.key)),
        Pair("connection draining", *draining, "spec.default.connectionDraining.drainingTimeoutSec", draining[0].shown.split(" ")[0]),
    ]
    if ingress_affinity.key == gateway_affinity.key == gw.COOKIE_AFFINITY:  # the TTL means nothing for other types
        ttl = (stated(field_at(bc, "sessionAffinity", "affinityCookieTtlSec"), 0, " s"), stated(field_at(bp, "sessionAffinity", "cookieTtlSec"), 0, " s"))
        pairs.append(Pair("affinity cookie TTL", *ttl, "spec.default.sessionAffinity.cookieTtlSec", ttl[0].shown.split(" ")[0]))
    return pairs + _armor_pair(bc, bp) + _logging_pairs(bc, bp)


def _gateway_port(block: Mapping[str, Any]) -> Value:
    spec, port = block.get("portSpecification"), as_number(block.get("port"))
    if spec == "USE_NAMED_PORT":
        return Value(("name", block.get("portName")), f"named port {block.get('portName')!r}")
    if port is not None and spec in (None, "USE_FIXED_PORT"):
        return Value(port, format_number(port))
    return Value("serving", "the serving port (not set)", given=spec == "USE_SERVING_PORT")


def health_pairs(bc_health: Mapping[str, Any], hp: Mapping[str, Any]) -> list[Pair]:
    """BackendConfig spec.healthCheck vs HealthCheckPolicy spec.default, each side's defaults counted."""
    config = mapping_at(hp, "config")
    kind = stated(bc_health.get("type"), "HTTP"), stated(config.get("type"), "HTTP")
    block = mapping_at(config, gw.HEALTH_CHECK_BLOCKS.get(str(kind[1].key), "httpHealthCheck"))
    path = stated(bc_health.get("requestPath"), gw.DEFAULT_HEALTH_CHECK_PATH), stated(block.get("requestPath"), gw.DEFAULT_HEALTH_CHECK_PATH)
    ingress_port = as_number(bc_health.get("port"))
    port = Value(ingress_port, format_number(ingress_port)) if ingress_port is not None else Value("serving", "the serving port (not set)")
    where = f"spec.default.config.{gw.HEALTH_CHECK_BLOCKS.get(str(kind[1].key), 'httpHealthCheck')}"
    pairs = [
        Pair("health check type", *kind, "spec.default.config.type", str(kind[0].key), demanded=True),
        Pair("health check path", *path, f"{where}.requestPath", str(path[0].key), demanded=True),
        Pair("health check port", port, _gateway_port(block), f"{where}.port", port.shown if ingress_port is not None else "USE_SERVING_PORT", demanded=True),
    ]
    for field in gw.HEALTH_CHECK_NUMBERS:
        ingress, gateway = (
            stated(bc_health.get(field), gw.INGRESS_NEG_HEALTH_CHECK_DEFAULTS[field]),
            stated(hp.get(field), gw.GATEWAY_HEALTH_CHECK_DEFAULTS[field]),
        )
        pairs.append(Pair(f"health check {field}", ingress, gateway, f"spec.default.{field}", _as_text(ingress.key), demanded=True))
    return pairs


def backend_configs_for(stack: StackView, key: Key, port_numbers: list[Any]) -> list[Manifest]:
    """The declared BackendConfigs that apply to the Service ports the Gateway uses (per-port key, else default)."""
    service = stack.services[key]
    ports, default = backend_config_refs(service)
    names: set[str] = set()
    for number in port_numbers:
        port = service_port_of(service, number)
        keys = [str(port.get("name")), str(port_key(port.get("port")))] if port is not None else []
        name = next((ports[k] for k in keys if k in ports), default)
        if name:
            names.add(name)
    return [stack.backend_configs[(key[0], name)] for name in sorted(names) if (key[0], name) in stack.backend_configs]


def _disagreements(pairs: list[Pair], ingress_side: Manifest, gateway_side: Manifest, service: Manifest) -> Iterator[Problem]:
    for pair in pairs:
        if pair.ingress.key != pair.gateway.key and (pair.gateway.given or not pair.demanded):
            yield Problem(
                f"{pair.label} differs between the two front doors of {reference(service)}: {reference(ingress_side)} gives "
                f"{pair.ingress.shown}, {reference(gateway_side)} gives {pair.gateway.shown}.",
                f"set {pair.gateway_field} to {pair.fix_value} (both front doors take it from the same setting) before traffic moves.",
                resource=reference(gateway_side),
                subject=pair.gateway_field,
            )


@stack_rule(
    "front-doors-backend-agree",
    policy.FRONT_DOORS_AGREE,
    (INGRESS, SERVICE, BACKEND_CONFIG, gw.HTTP_ROUTE, gw.GCP_BACKEND_POLICY, gw.HEALTH_CHECK_POLICY),
    "A Service behind both an Ingress and a Gateway gets the same timeout, affinity, draining, health check, Cloud Armor and logging from each.",
    SOURCE,
)
def front_doors_agree(stack: StackView, _context: Context) -> Iterator[Problem]:
    for key, uses in sorted(route_backend_services(stack).items()):
        if key not in stack.ingress_users:
            continue
        service = stack.services[key]
        backend_policies = policies_for(stack, gw.GCP_BACKEND_POLICY, *key)
        health_policies = policies_for(stack, gw.HEALTH_CHECK_POLICY, *key)
        for backend_config in backend_configs_for(stack, key, [ref.get("port") for _, ref in uses]):
            bc = mapping_at(backend_config, "spec")
            if len(backend_policies) == 1:  # none or several: gateway-backend-policies says so
                bp = mapping_at(backend_policies[0], "spec", "default")
                yield from _disagreements(backend_pairs(bc, bp), backend_config, backend_policies[0], service)
            if len(health_policies) == 1:
                hp = mapping_at(health_policies[0], "spec", "default")
                yield from _disagreements(health_pairs(mapping_at(bc, "healthCheck"), hp), backend_config, health_policies[0], service)
