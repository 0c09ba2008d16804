"""Stack rules for Socket.IO sessions: what the BackendConfig must agree on with the pods behind its
Service, and with the sessions the stack promises to keep alive."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import limits
from .. import policies as policy
from ..manifest import (
    BACKEND_CONFIG,
    HPA,
    SERVICE,
    WORKLOAD_KINDS,
    Manifest,
    as_list,
    as_number,
    containers,
    field_at,
    format_number,
    mapping_at,
    namespace_of,
    pod_spec,
    port_key,
    reference,
)
from ..model import Context, Problem
from ..registry import stack_rule
from ..rules.references import referenced_backend_configs
from ..stack import StackView

KINDS = (BACKEND_CONFIG, SERVICE, HPA, *sorted(WORKLOAD_KINDS))
# Kubernetes' default terminationGracePeriodSeconds (PodSpec API reference).
DEFAULT_GRACE_PERIOD_SEC = 30.0


def backends_with_pods(stack: StackView) -> Iterator[tuple[Manifest, Manifest, list[Manifest]]]:
    """(Service, its declared BackendConfig, the workloads the Service selects)."""
    for service, _, backend_config in referenced_backend_configs(stack):
        if backend_config is not None:
            yield service, backend_config, stack.selected_workloads(service)


@stack_rule(
    "backendconfig-affinity-replicas",
    policy.WEBSOCKET_SESSIONS,
    KINDS,
    "Sticky sessions (CLIENT_IP or GENERATED_COOKIE) wherever more than one pod can serve.",
    "https://socket.io/docs/v4/using-multiple-nodes/: Engine.IO polling needs every request of a session on one pod",
)
def affinity_with_replicas(stack: StackView, _context: Context) -> Iterator[Problem]:
    for _, backend_config, workloads in backends_with_pods(stack):
        if (field_at(backend_config, "spec", "sessionAffinity", "affinityType") or "NONE") != "NONE":
            continue
        for workload in workloads:
            replicas, how = stack.most_replicas(workload)
            if replicas > 1:
                count = "several" if replicas == float("inf") else format_number(replicas)
                yield Problem(
                    f"has session affinity NONE while {reference(workload)} {how} {count} replicas: "
                    "Socket.IO polling requests of one session land on different pods and get HTTP 400.",
                    "set spec.sessionAffinity.affinityType to CLIENT_IP or GENERATED_COOKIE.",
                    resource=reference(backend_config),
                    subject="spec.sessionAffinity.affinityType",
                )


@stack_rule(
    "backendconfig-websocket-timeout",
    policy.WEBSOCKET_SESSIONS,
    (BACKEND_CONFIG, SERVICE),
    "The timeout of a BackendConfig behind an Ingress covers the minimum WebSocket session.",
    "Google Cloud external Application Load Balancer docs: the backend service timeout is the WebSocket lifetime",
)
def websocket_timeout(stack: StackView, context: Context) -> Iterator[Problem]:
    if context.min_session_sec is None:
        return
    for service, backend_config, _ in backends_with_pods(stack):
        timeout = as_number(field_at(backend_config, "spec", "timeoutSec"))
        used = (namespace_of(service), str(field_at(service, "metadata", "name"))) in stack.ingress_users
        if used and timeout is not None and timeout < context.min_session_sec:
            yield Problem(
                f"spec.timeoutSec {format_number(timeout)} s is shorter than the minimum WebSocket session of {context.min_session_sec} s; "
                "on the external Application Load Balancer it is the maximum lifetime of every WebSocket, idle or not.",
                f"raise spec.timeoutSec to at least {context.min_session_sec}, or lower the configured minimum session length.",
                resource=reference(backend_config),
                subject="spec.timeoutSec",
            )


def _readiness_disagreement(health: Mapping[str, Any], container: Mapping[str, Any]) -> tuple[Any, str | None] | None:
    """(probe path, probe port) when the container serves the health-check port but probes elsewhere."""
    probe = field_at(container, "readinessProbe", "httpGet")
    if not isinstance(probe, Mapping):
        return None
    ports = {port_key(field_at(p, "name")): port_key(field_at(p, "containerPort")) for p in as_list(container.get("ports"))}
    probe_port = ports.get(port_key(probe.get("port")), port_key(probe.get("port")))
    if port_key(health.get("port")) not in set(ports.values()):
        return None
    if probe.get("path") != health.get("requestPath") or probe_port != port_key(health.get("port")):
        return probe.get("path"), probe_port
    return None


@stack_rule(
    "health-check-matches-readiness",
    policy.WEBSOCKET_SESSIONS,
    KINDS,
    "The load balancer's health check probes the path and port of the pods' readiness probe.",
    "ingress-gce pkg/healthchecks (the readiness probe is copied once, at creation only)",
)
def health_check_matches_readiness(stack: StackView, _context: Context) -> Iterator[Problem]:
    for _, backend_config, workloads in backends_with_pods(stack):
        health = mapping_at(backend_config, "spec", "healthCheck")
        if not health:
            continue
        for workload in workloads:
            for container in containers(workload):
                disagreement = _readiness_disagreement(health, container)
                if disagreement is not None:
                    probe_path, probe_port = disagreement
                    yield Problem(
                        f"health check {health.get('requestPath')!r} on port {port_key(health.get('port'))} disagrees with the readiness probe "
                        f"{probe_path!r} on port {probe_port} of container {container.get('name')!r} in {reference(workload)}: "
                        "pods can be Ready in Kubernetes yet UNHEALTHY at the load balancer (or the reverse).",
                        "derive both from one health path and port.",
                        resource=reference(backend_config),
                        subject="spec.healthCheck",
                    )


@stack_rule(
    "grace-period-covers-draining",
    policy.WEBSOCKET_SESSIONS,
    KINDS,
    "Pods outlive connection draining: terminationGracePeriodSeconds >= drainingTimeoutSec.",
    "Kubernetes pod termination docs; Compute BackendService.connectionDraining",
)
def grace_period_covers_draining(stack: StackView, _context: Context) -> Iterator[Problem]:
    for _, backend_config, workloads in backends_with_pods(stack):
        draining = as_number(field_at(backend_config, "spec", "connectionDraining", "drainingTimeoutSec"))
        if draining is None:
            continue
        for workload in workloads:
            grace = as_number(pod_spec(workload).get("terminationGracePeriodSeconds"))
            effective = DEFAULT_GRACE_PERIOD_SEC if grace is None else grace
            if effective < draining:
                yield Problem(
                    f"terminationGracePeriodSeconds {format_number(effective)} is shorter than {reference(backend_config)}'s drainingTimeoutSec {format_number(draining)}: "
                    "Kubernetes kills pods while the load balancer still drains their connections.",
                    f"set terminationGracePeriodSeconds to at least {format_number(draining)} (plus the preStop delay).",
                    resource=reference(workload),
                    subject="spec.template.spec.terminationGracePeriodSeconds",
                )


def pre_stop_seconds(container: Mapping[str, Any]) -> float | None:
    """The delay a container's preStop hook gives before SIGTERM: ``exec: [sleep, N]`` or the
    ``sleep: {seconds: N}`` action; None when it has no such hook."""
    hook = field_at(container, "lifecycle", "preStop")
    command = as_list(field_at(hook, "exec", "command"))
    if len(command) == 2 and command[0] in {"sleep", "/bin/sleep"}:
        try:
            return float(command[1])
        except (TypeError, ValueError):
            return None
    return as_number(field_at(hook, "sleep", "seconds"))


def _serving_containers(service: Manifest, workload: Manifest) -> list[Mapping[str, Any]]:
    targets = {port_key(p.get("targetPort", p.get("port"))) for p in as_list(field_at(service, "spec", "ports")) if isinstance(p, Mapping)}
    return [
        c
        for c in containers(workload)
        if any({port_key(field_at(p, "containerPort")), port_key(field_at(p, "name"))} & targets for p in as_list(c.get("ports")))
    ]


@stack_rule(
    "prestop-covers-draining",
    policy.WEBSOCKET_SESSIONS,
    KINDS,
    "Serving containers get SIGTERM only after the load balancer's connection draining: preStop >= drainingTimeoutSec.",
    "Kubernetes pod termination (preStop runs before SIGTERM); Compute BackendService.connectionDraining",
)
def pre_stop_covers_draining(stack: StackView, _context: Context) -> Iterator[Problem]:
    for service, backend_config, workloads in backends_with_pods(stack):
        draining = as_number(field_at(backend_config, "spec", "connectionDraining", "drainingTimeoutSec"))
        low, high = limits.DRAINING_TIMEOUT_SEC
        if not draining or not low <= draining <= high:  # an out-of-range value is backendconfig-draining-range's finding
            continue
        for workload in workloads:
            for container in _serving_containers(service, workload):
                delay = pre_stop_seconds(container)
                if delay is None or delay < draining:
                    shown = "no preStop delay" if delay is None else f"a preStop delay of {format_number(delay)} s"
                    yield Problem(
                        f"container {container.get('name')!r} of {reference(workload)} has {shown}, so it gets SIGTERM while "
                        f"{reference(backend_config)} still drains its connections for up to {format_number(draining)} s: "
                        "its WebSockets are cut before draining ends.",
                        f"sleep at least {format_number(draining)} s in preStop (and keep terminationGracePeriodSeconds longer).",
                        resource=reference(workload),
                        subject=str(container.get("name")),
                    )
