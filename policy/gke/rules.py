"""GKE rules over Kubernetes manifests (plain camelCase mappings, as `kubectl` would read them).

Every function returns a list of ``Finding``s and never raises on bad input: a manifest that is
missing a field is itself a finding. Functions accept any ``Mapping``/``Sequence`` so that the
policy pack can hand in the engine's read-only proxies unchanged.

Resource rules look at one object; ``stack`` looks at all of them and finds what only
cross-references reveal (the incident: an Ingress naming a Service that does not exist).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gke import limits
from gke.findings import Finding, Level, resource_id

Manifest = Mapping[str, Any]

# Kinds, by the (apiVersion-independent) kind name used in manifests.
DEPLOYMENT = "Deployment"
SERVICE = "Service"
INGRESS = "Ingress"
BACKEND_CONFIG = "BackendConfig"
HPA = "HorizontalPodAutoscaler"
PDB = "PodDisruptionBudget"
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"})


# --- small helpers ---------------------------------------------------------------------------


def dig(value: Any, *path: str | int) -> Any:
    """value[path[0]][path[1]]..., or None where any step is missing or of the wrong shape."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, Sequence) or isinstance(value, str) or step >= len(value):
                return None
        elif not isinstance(value, Mapping):
            return None
        value = value[step] if isinstance(step, int) else value.get(step)
    return value


def _list(value: Any) -> list[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def _num(value: Any) -> float | None:
    """Numbers arrive as int, float (protobuf Struct) or not at all."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def name_of(manifest: Manifest) -> str:
    return str(dig(manifest, "metadata", "name") or "<unnamed>")


def namespace_of(manifest: Manifest) -> str:
    return str(dig(manifest, "metadata", "namespace") or "default")


def kind_of(manifest: Manifest) -> str:
    return str(manifest.get("kind") or "")


def rid(manifest: Manifest) -> str:
    namespaced = kind_of(manifest) not in {"Namespace"}
    return resource_id(kind_of(manifest), name_of(manifest), namespace_of(manifest) if namespaced else None)


def annotations_of(manifest: Manifest) -> Mapping[str, Any]:
    value = dig(manifest, "metadata", "annotations")
    return value if isinstance(value, Mapping) else {}


def _range(
    out: list[Finding],
    where: str,
    rule: str,
    field: str,
    value: Any,
    bounds: tuple[int, int],
    fix_hint: str,
) -> None:
    """Report `field` when it is not a number inside `bounds` (absent values are the caller's)."""
    if value is None:
        return
    number = _num(value)
    low, high = bounds
    if number is None or number != int(number) or not low <= number <= high:
        out.append(
            Finding(
                where,
                rule,
                f"{field} is {value!r}, outside GKE's allowed range {low}..{high}.",
                f"set {field} to a whole number from {low} to {high}{fix_hint}.",
            )
        )


def parse_json_annotation(value: Any) -> Any:
    """The decoded JSON of an annotation value, or None when it is not JSON."""
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


# --- BackendConfig ---------------------------------------------------------------------------


def backend_config(manifest: Manifest, min_session_sec: int | None = None) -> list[Finding]:
    """Ranges GLBC validates and those the Compute API rejects later at sync time (gke-facts §2).

    ``min_session_sec``: when the BackendConfig serves WebSockets, the shortest session that must
    survive; ``timeoutSec`` is the hard lifetime of every socket on the external ALB.
    """
    out: list[Finding] = []
    where = rid(manifest)
    spec = manifest.get("spec")
    if not isinstance(spec, Mapping):
        return [Finding(where, "backendconfig-spec", "has no spec.", "declare spec.timeoutSec, spec.sessionAffinity, spec.connectionDraining and spec.healthCheck.")]

    timeout = spec.get("timeoutSec")
    if timeout is None:
        out.append(
            Finding(
                where,
                "backendconfig-timeout-explicit",
                f"does not set spec.timeoutSec, so the backend service keeps Compute's default of {limits.DEFAULT_BACKEND_TIMEOUT_SEC} s "
                "(every WebSocket is cut after 30 s), and removing it later does not reset a value GKE already applied.",
                "set spec.timeoutSec explicitly (86400 for Socket.IO sessions of up to a day).",
            )
        )
    _range(out, where, "backendconfig-timeout-range", "spec.timeoutSec", timeout, limits.TIMEOUT_SEC,
           " (above 86400 Google's GFE restarts cut sockets anyway)")
    if min_session_sec is not None and _num(timeout) is not None and _num(timeout) < min_session_sec:
        out.append(
            Finding(
                where,
                "backendconfig-websocket-timeout",
                f"spec.timeoutSec {_fmt(_num(timeout))} s is shorter than the minimum WebSocket session of {min_session_sec} s; "
                "on the external Application Load Balancer it is the maximum lifetime of every WebSocket, idle or not.",
                f"raise spec.timeoutSec to at least {min_session_sec}, or lower the configured minimum session length.",
            )
        )

    draining = dig(spec, "connectionDraining", "drainingTimeoutSec")
    if draining is None:
        out.append(
            Finding(
                where,
                "backendconfig-draining-explicit",
                "does not set spec.connectionDraining.drainingTimeoutSec: pods being replaced drop their connections at once.",
                "set spec.connectionDraining.drainingTimeoutSec (0..3600).",
                Level.ADVISORY,
            )
        )
    _range(out, where, "backendconfig-draining-range", "spec.connectionDraining.drainingTimeoutSec", draining,
           limits.DRAINING_TIMEOUT_SEC, " (the Compute API rejects more than one hour at sync time)")

    affinity = spec.get("sessionAffinity")
    affinity_type = dig(affinity, "affinityType")
    if affinity_type is not None and affinity_type not in limits.AFFINITY_TYPES:
        out.append(
            Finding(
                where,
                "backendconfig-affinity-type",
                f"spec.sessionAffinity.affinityType is {affinity_type!r}; GKE accepts only {', '.join(limits.AFFINITY_TYPES)} "
                "and rejects the whole Ingress otherwise.",
                "use CLIENT_IP or GENERATED_COOKIE for Socket.IO.",
            )
        )
    ttl = dig(affinity, "affinityCookieTtlSec")
    _range(out, where, "backendconfig-cookie-ttl-range", "spec.sessionAffinity.affinityCookieTtlSec", ttl,
           limits.AFFINITY_COOKIE_TTL_SEC, "")
    if ttl is not None and affinity_type != "GENERATED_COOKIE":
        out.append(
            Finding(
                where,
                "backendconfig-cookie-ttl-unused",
                f"spec.sessionAffinity.affinityCookieTtlSec is set with affinity {affinity_type!r}; GKE applies the TTL only to GENERATED_COOKIE affinity.",
                "keep it only if you may switch to GENERATED_COOKIE; it has no effect otherwise.",
                Level.ADVISORY,
            )
        )

    health = spec.get("healthCheck")
    if not isinstance(health, Mapping):
        out.append(
            Finding(
                where,
                "backendconfig-health-check-explicit",
                "has no spec.healthCheck: GKE then probes '/' (or copies the readiness probe once, at creation only) "
                "and a redirect or auth page there marks every pod UNHEALTHY (502).",
                "set spec.healthCheck with type HTTP, requestPath (a path answering 200) and port (the container port).",
            )
        )
    else:
        out.extend(_health_check(where, health))

    sample_rate = dig(spec, "logging", "sampleRate")
    if sample_rate is not None and (_num(sample_rate) is None or not 0.0 <= _num(sample_rate) <= 1.0):
        out.append(Finding(where, "backendconfig-logging-sample-rate",
                           f"spec.logging.sampleRate is {sample_rate!r}, outside 0.0..1.0.", "set it between 0.0 and 1.0."))
    if dig(spec, "iap", "enabled") is True and dig(spec, "cdn", "enabled") is True:
        out.append(Finding(where, "backendconfig-iap-cdn", "enables both IAP and CDN, which GKE rejects.",
                           "enable at most one of spec.iap and spec.cdn."))
    return out


def _health_check(where: str, health: Mapping[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    check_type = health.get("type")
    if check_type not in limits.HEALTH_CHECK_TYPES:
        out.append(Finding(where, "backendconfig-health-check-type",
                           f"spec.healthCheck.type is {check_type!r}; GKE supports only {', '.join(limits.HEALTH_CHECK_TYPES)}.",
                           "set spec.healthCheck.type to HTTP (the protocol nginx serves)."))
    path = health.get("requestPath")
    if not isinstance(path, str) or not path.startswith("/"):
        out.append(Finding(where, "backendconfig-health-check-path",
                           f"spec.healthCheck.requestPath is {path!r}; it must be a path starting with '/'.",
                           "point it at the health endpoint, e.g. /healthz."))
    if health.get("port") is None:
        out.append(Finding(where, "backendconfig-health-check-port",
                           "spec.healthCheck.port is not set; with NEG it must be the container port that serves the health path.",
                           "set spec.healthCheck.port to the serving container port."))
    _range(out, where, "backendconfig-health-check-port", "spec.healthCheck.port", health.get("port"), limits.PORT, "")
    interval, timeout = health.get("checkIntervalSec"), health.get("timeoutSec")
    _range(out, where, "backendconfig-health-check-range", "spec.healthCheck.checkIntervalSec", interval,
           limits.HEALTH_CHECK_INTERVAL_SEC, "")
    _range(out, where, "backendconfig-health-check-range", "spec.healthCheck.timeoutSec", timeout,
           limits.HEALTH_CHECK_TIMEOUT_SEC, "")
    for field in ("healthyThreshold", "unhealthyThreshold"):
        _range(out, where, "backendconfig-health-check-range", f"spec.healthCheck.{field}", health.get(field),
               limits.HEALTH_CHECK_THRESHOLD, "")
    if _num(interval) is not None and _num(timeout) is not None and _num(timeout) > _num(interval):
        out.append(Finding(where, "backendconfig-health-check-timeout",
                           f"spec.healthCheck.timeoutSec {_fmt(_num(timeout))} is longer than checkIntervalSec {_fmt(_num(interval))}; "
                           "the Compute API rejects it at sync time.",
                           "make timeoutSec less than or equal to checkIntervalSec."))
    return out


# --- Service ---------------------------------------------------------------------------------


def service_ports(manifest: Manifest) -> list[Mapping[str, Any]]:
    return [p for p in _list(dig(manifest, "spec", "ports")) if isinstance(p, Mapping)]


def backend_config_refs(manifest: Manifest) -> tuple[dict[str, str], str | None]:
    """(port key -> BackendConfig name, default name) from the Service's backend-config annotation.

    GA key wins over the beta key, as in GLBC (pkg/annotations/service.go#L156-L163).
    """
    annotations = annotations_of(manifest)
    raw = annotations.get(limits.BACKEND_CONFIG_ANNOTATION, annotations.get(limits.BETA_BACKEND_CONFIG_ANNOTATION))
    parsed = parse_json_annotation(raw)
    if not isinstance(parsed, Mapping):
        return {}, None
    ports = parsed.get("ports")
    default = parsed.get("default")
    return (
        {str(k): str(v) for k, v in ports.items()} if isinstance(ports, Mapping) else {},
        str(default) if isinstance(default, str) and default else None,
    )


def neg_enabled(manifest: Manifest) -> bool:
    parsed = parse_json_annotation(annotations_of(manifest).get(limits.NEG_ANNOTATION))
    return isinstance(parsed, Mapping) and (parsed.get("ingress") is True or bool(parsed.get("exposed_ports")))


def service(manifest: Manifest) -> list[Finding]:
    """Annotation syntax GLBC parses (gke-facts §3, translation errors T4, T5, T7, T8)."""
    out: list[Finding] = []
    where = rid(manifest)
    annotations = annotations_of(manifest)
    if limits.NEG_ANNOTATION in annotations:
        parsed = parse_json_annotation(annotations[limits.NEG_ANNOTATION])
        if not isinstance(parsed, Mapping):
            out.append(Finding(where, "service-neg-annotation",
                               f"annotation {limits.NEG_ANNOTATION} is not valid JSON ({annotations[limits.NEG_ANNOTATION]!r}); GKE treats NEG as off.",
                               'set it to \'{"ingress": true}\'.'))
    if limits.NEG_STATUS_ANNOTATION in annotations:
        out.append(Finding(where, "service-neg-status-owned", f"declares {limits.NEG_STATUS_ANNOTATION}, which the NEG controller writes.",
                           "remove it from the manifest.", Level.ADVISORY))

    port_keys = {str(p.get("name")) for p in service_ports(manifest) if p.get("name")} | {
        _fmt(_num(p.get("port"))) for p in service_ports(manifest) if _num(p.get("port")) is not None
    }
    for key in (limits.BACKEND_CONFIG_ANNOTATION, limits.BETA_BACKEND_CONFIG_ANNOTATION):
        if key not in annotations:
            continue
        parsed = parse_json_annotation(annotations[key])
        if not isinstance(parsed, Mapping):
            out.append(Finding(where, "service-backend-config-annotation",
                               f"annotation {key} is not valid JSON ({annotations[key]!r}); GKE fails to translate every Ingress using this Service.",
                               'set it to \'{"default": "<BackendConfig name>"}\'.'))
            continue
        ports = parsed.get("ports")
        if not parsed.get("default") and not (isinstance(ports, Mapping) and ports):
            out.append(Finding(where, "service-backend-config-annotation",
                               f"annotation {key} names no BackendConfig (needs \"default\" or a non-empty \"ports\").",
                               'set it to \'{"default": "<BackendConfig name>"}\'.'))
        for port_key in ports if isinstance(ports, Mapping) else {}:
            if str(port_key) not in port_keys:
                out.append(Finding(where, "service-backend-config-port",
                                   f"annotation {key} maps port {port_key!r}, which is not a port name or number of this Service "
                                   f"(ports: {', '.join(sorted(port_keys)) or 'none'}); GKE silently applies no BackendConfig to it.",
                                   "use the Service port's name or number (not the targetPort)."))

    for key in limits.APP_PROTOCOLS_ANNOTATIONS:
        if key not in annotations:
            continue
        parsed = parse_json_annotation(annotations[key])
        if not isinstance(parsed, Mapping):
            out.append(Finding(where, "service-app-protocols", f"annotation {key} is not valid JSON; translation fails.",
                               'use a JSON map of port name to HTTP or HTTPS, e.g. \'{"http": "HTTP"}\'.'))
            continue
        for port_name, protocol in parsed.items():
            if protocol not in limits.APP_PROTOCOLS:
                out.append(Finding(where, "service-app-protocols", f"annotation {key} gives port {port_name!r} protocol {protocol!r}; "
                                   f"GKE accepts only {', '.join(sorted(limits.APP_PROTOCOLS))} and fails translation.",
                                   "use HTTP or HTTPS."))
            elif protocol == "HTTP2":
                out.append(Finding(where, "service-app-protocols-websocket",
                                   f"annotation {key} sets port {port_name!r} to HTTP2: WebSocket upgrades through the load balancer then fail with 502 (ingress-gce#855).",
                                   "use HTTP (or HTTPS) for a port that carries Socket.IO."))
    return out


# --- Ingress ---------------------------------------------------------------------------------


def ingress_backends(manifest: Manifest) -> list[tuple[str, Mapping[str, Any] | None]]:
    """(where in the spec, backend) for spec.defaultBackend and every rule path."""
    spec = manifest.get("spec") if isinstance(manifest.get("spec"), Mapping) else {}
    found: list[tuple[str, Mapping[str, Any] | None]] = []
    if spec.get("defaultBackend") is not None:
        found.append(("spec.defaultBackend", spec.get("defaultBackend")))
    for i, rule in enumerate(_list(spec.get("rules"))):
        for j, path in enumerate(_list(dig(rule, "http", "paths"))):
            backend = dig(path, "backend")
            found.append((f"spec.rules[{i}].http.paths[{j}]", backend if isinstance(backend, Mapping) else None))
    return found


def ingress(manifest: Manifest) -> list[Finding]:
    """What makes GKE ignore an Ingress, reject it, or silently not do what it says (gke-facts §4, §6, §10)."""
    out: list[Finding] = []
    where = rid(manifest)
    annotations = annotations_of(manifest)
    spec = manifest.get("spec") if isinstance(manifest.get("spec"), Mapping) else {}
    ingress_class = annotations.get(limits.INGRESS_CLASS_ANNOTATION)
    class_name = spec.get("ingressClassName")
    if class_name is not None and ingress_class is None:
        out.append(Finding(where, "ingress-class",
                           f"sets spec.ingressClassName {class_name!r} without the {limits.INGRESS_CLASS_ANNOTATION} annotation; "
                           "GKE's controller ignores such an Ingress entirely (no load balancer, no event).",
                           f"remove spec.ingressClassName and set annotation {limits.INGRESS_CLASS_ANNOTATION}: \"gce\"."))
    elif class_name is not None:
        out.append(Finding(where, "ingress-class-name-ignored",
                           f"sets spec.ingressClassName {class_name!r}, which GKE ignores when the class annotation is present.",
                           "remove spec.ingressClassName.", Level.ADVISORY))
    if ingress_class is not None and ingress_class not in limits.GCE_INGRESS_CLASSES:
        out.append(Finding(where, "ingress-class",
                           f"has {limits.INGRESS_CLASS_ANNOTATION} {ingress_class!r}, so GKE's load balancer controller does not serve it.",
                           f"set {limits.INGRESS_CLASS_ANNOTATION}: \"gce\"."))
    elif ingress_class is None and class_name is None:
        out.append(Finding(where, "ingress-class-explicit",
                           f"has no {limits.INGRESS_CLASS_ANNOTATION} annotation; it depends on the cluster's default class.",
                           f"set {limits.INGRESS_CLASS_ANNOTATION}: \"gce\".", Level.ADVISORY))

    for key in sorted(annotations):
        if key in limits.IGNORED_INGRESS_ANNOTATIONS or key.startswith(limits.IGNORED_INGRESS_ANNOTATION_PREFIXES):
            if key.startswith("cloud.google.com/websocket-"):
                why = "GKE has no such annotation: WebSockets work without one and their lifetime is the BackendConfig's timeoutSec"
            elif "backend-config" in key:
                why = "GKE reads backend-config only from the Service, so this BackendConfig never reaches the load balancer"
            elif key.startswith("nginx.ingress.kubernetes.io/"):
                why = "it belongs to ingress-nginx; the GCE controller never reads it"
            else:
                why = "it is a Service annotation; GKE never reads it on an Ingress"
            out.append(Finding(where, "ingress-ignored-annotation", f"carries annotation {key}, which GKE ignores on an Ingress: {why}.",
                               "remove it; put timeouts and affinity in a BackendConfig referenced from the Service's cloud.google.com/backend-config annotation."))

    if limits.GLOBAL_STATIC_IP_ANNOTATION in annotations and limits.REGIONAL_STATIC_IP_ANNOTATION in annotations:
        out.append(Finding(where, "ingress-static-ip", "sets both the global and the regional static IP annotation; GKE refuses to sync.",
                           "keep only kubernetes.io/ingress.global-static-ip-name."))
    if str(annotations.get(limits.ALLOW_HTTP_ANNOTATION, "")).lower() == "false" and not (
        _list(spec.get("tls")) or annotations.get(limits.MANAGED_CERTIFICATES_ANNOTATION) or annotations.get(limits.PRE_SHARED_CERT_ANNOTATION)
    ):
        out.append(Finding(where, "ingress-allow-http-without-tls", "disables HTTP without any TLS certificate: the load balancer serves nothing.",
                           "configure TLS (managed certificate or spec.tls) or keep allow-http true."))

    if spec.get("defaultBackend") is None:
        out.append(Finding(where, "ingress-default-backend",
                           "has no spec.defaultBackend; unmatched requests then depend on kube-system/default-http-backend, "
                           "and if that is missing GKE fails the whole Ingress.",
                           "set spec.defaultBackend to the application Service."))

    hosts: dict[str, int] = {}
    for i, rule in enumerate(_list(spec.get("rules"))):
        if not isinstance(dig(rule, "http"), Mapping):
            out.append(Finding(where, "ingress-rule-http", f"spec.rules[{i}] has no http block; GKE skips it silently.",
                               "give every rule http.paths."))
        host = dig(rule, "host") or ""
        if host in hosts:
            out.append(Finding(where, "ingress-duplicate-host",
                               f"spec.rules[{i}] repeats host {host or '(any)'!r} of spec.rules[{hosts[host]}]; GKE keeps only the last one.",
                               "merge the paths of both rules into one rule per host."))
        hosts.setdefault(host, i)
        for j, path in enumerate(_list(dig(rule, "http", "paths"))):
            path_type, value = dig(path, "pathType"), dig(path, "path")
            if path_type not in limits.PATH_TYPES:
                out.append(Finding(where, "ingress-path-type", f"spec.rules[{i}].http.paths[{j}] has pathType {path_type!r}.",
                                   "use Prefix, Exact or ImplementationSpecific."))
            elif path_type in {"Exact", "Prefix"} and (not value or "*" in str(value)):
                out.append(Finding(where, "ingress-path-type", f"spec.rules[{i}].http.paths[{j}] path {value!r} is empty or has '*' with pathType {path_type}.",
                                   "use a plain path such as / with pathType Prefix."))

    for place, backend in ingress_backends(manifest):
        if backend is None or not isinstance(backend.get("service"), Mapping):
            out.append(Finding(where, "ingress-backend-service", f"{place} is not a service backend; GKE accepts only service backends.",
                               "route to a Service (backend.service.name and port)."))
    return out


# --- workloads -------------------------------------------------------------------------------


def pod_spec(manifest: Manifest) -> Mapping[str, Any]:
    value = dig(manifest, "spec", "template", "spec")
    return value if isinstance(value, Mapping) else {}


def pod_labels(manifest: Manifest) -> Mapping[str, Any]:
    value = dig(manifest, "spec", "template", "metadata", "labels")
    return value if isinstance(value, Mapping) else {}


def containers(manifest: Manifest) -> list[Mapping[str, Any]]:
    return [c for c in _list(pod_spec(manifest).get("containers")) if isinstance(c, Mapping)]


def is_digest_pinned(image: Any) -> bool:
    return isinstance(image, str) and "@sha256:" in image and len(image.split("@sha256:", 1)[1]) == 64


def workload(manifest: Manifest, require_digest: bool = False) -> list[Finding]:
    """Per-container hygiene: probes, resources, a hardened security context, pinned images."""
    out: list[Finding] = []
    where = rid(manifest)
    pod = pod_spec(manifest)
    pod_security = pod.get("securityContext") if isinstance(pod.get("securityContext"), Mapping) else {}
    for container in containers(manifest):
        cname = container.get("name")
        image = container.get("image")
        if not is_digest_pinned(image):
            out.append(Finding(where, "image-digest", f"container {cname!r} image {image!r} is not pinned by digest, so a re-pushed tag changes what runs.",
                               "reference the image as repository@sha256:<64 hex digits>.",
                               Level.MANDATORY if require_digest else Level.ADVISORY))
        for probe in ("readinessProbe", "livenessProbe"):
            if not isinstance(container.get(probe), Mapping):
                out.append(Finding(where, "container-probes", f"container {cname!r} has no {probe}.",
                                   f"add an httpGet {probe} on the container's health endpoint.", Level.ADVISORY))
        for kind in ("requests", "limits"):
            res = dig(container, "resources", kind)
            if not (isinstance(res, Mapping) and res.get("cpu") is not None and res.get("memory") is not None):
                out.append(Finding(where, "container-resources", f"container {cname!r} has no cpu and memory {kind}.",
                                   f"set resources.{kind}.cpu and resources.{kind}.memory.", Level.ADVISORY))
        sc = container.get("securityContext") if isinstance(container.get("securityContext"), Mapping) else {}

        def effective(field: str) -> Any:
            return sc.get(field, pod_security.get(field))

        problems = []
        if effective("runAsNonRoot") is not True:
            problems.append("runAsNonRoot is not true")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append("allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append("readOnlyRootFilesystem is not true")
        if "ALL" not in [str(c) for c in _list(dig(sc, "capabilities", "drop"))]:
            problems.append("capabilities are not all dropped")
        seccomp = sc.get("seccompProfile", pod_security.get("seccompProfile"))
        if dig(seccomp, "type") not in {"RuntimeDefault", "Localhost"}:
            problems.append("no RuntimeDefault seccomp profile")
        if problems:
            out.append(Finding(where, "container-security-context", f"container {cname!r}: {'; '.join(problems)}.",
                               "harden the securityContext (non-root, no privilege escalation, read-only root, drop ALL, RuntimeDefault seccomp).",
                               Level.ADVISORY))
    return out


# --- the whole stack -------------------------------------------------------------------------


def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _port_key(value: Any) -> str | None:
    number = _num(value)
    if number is not None:
        return _fmt(number)
    return str(value) if value is not None else None


def _container_port_matches(target: Any, workloads: Iterable[Manifest]) -> Mapping[str, Any] | None:
    """The container that serves `target` (a targetPort number or name) in any of the workloads."""
    key = _port_key(target)
    for wl in workloads:
        for container in containers(wl):
            for port in _list(container.get("ports")):
                if key in {_port_key(dig(port, "containerPort")), _port_key(dig(port, "name"))}:
                    return container
    return None


def _find_service_port(svc: Manifest, backend_port: Any) -> Mapping[str, Any] | None:
    number, name = dig(backend_port, "number"), dig(backend_port, "name")
    for port in service_ports(svc):
        if (name is not None and port.get("name") == name) or (
            number is not None and _num(port.get("port")) == _num(number)
        ):
            return port
    return None


def stack(manifests: Sequence[Manifest], min_session_sec: int | None = None) -> list[Finding]:
    """Cross-reference rules: what GKE resolves by name at translation time (gke-facts §4.1)."""
    out: list[Finding] = []
    by_kind: dict[str, list[Manifest]] = {}
    for m in manifests:
        by_kind.setdefault(kind_of(m), []).append(m)

    def index(kind: str) -> dict[tuple[str, str], Manifest]:
        return {(namespace_of(m), name_of(m)): m for m in by_kind.get(kind, [])}

    services = index(SERVICE)
    backend_configs = index(BACKEND_CONFIG)
    workloads = [m for m in manifests if kind_of(m) in WORKLOAD_KINDS]

    def selected_workloads(svc: Manifest) -> list[Manifest]:
        selector = dig(svc, "spec", "selector")
        if not isinstance(selector, Mapping):
            return []
        return [w for w in workloads if namespace_of(w) == namespace_of(svc) and _selects(selector, pod_labels(w))]

    ingress_services: dict[tuple[str, str], list[str]] = {}
    for ing in by_kind.get(INGRESS, []):
        ns = namespace_of(ing)
        for place, backend in ingress_backends(ing):
            svc_ref = dig(backend, "service")
            if not isinstance(svc_ref, Mapping):
                continue  # reported by ingress()
            svc_name = str(svc_ref.get("name"))
            svc = services.get((ns, svc_name))
            if svc is None:
                elsewhere = sorted(n for (n, name) in services if name == svc_name)
                hint = (f" A Service of that name exists in namespace {', '.join(elsewhere)}, but an Ingress can only use Services of its own namespace."
                        if elsewhere else "")
                out.append(Finding(rid(ing), "ingress-backend-service-exists",
                                   f"{place} routes to Service {svc_name!r}, which is not declared in namespace {ns!r}.{hint} "
                                   "GKE fails the whole Ingress ('Translation failed: could not find service'), so no BackendConfig "
                                   "(affinity, timeout) reaches the load balancer.",
                                   f"route to a Service declared in namespace {ns!r} (or declare Service {svc_name!r} there)."))
                continue
            ingress_services.setdefault((ns, svc_name), []).append(rid(ing))
            if _find_service_port(svc, svc_ref.get("port")) is None:
                out.append(Finding(rid(ing), "ingress-backend-port-exists",
                                   f"{place} uses port {dict(svc_ref.get('port') or {})!r} of Service {svc_name!r}, which has no such port "
                                   f"(ports: {[dict(p) for p in service_ports(svc)]}); GKE fails the whole Ingress.",
                                   "use the Service's port number or name (not its targetPort)."))

    for (ns, svc_name), users in sorted(ingress_services.items()):
        svc = services[(ns, svc_name)]
        if not neg_enabled(svc) and dig(svc, "spec", "type") not in {"NodePort", "LoadBalancer"}:
            out.append(Finding(rid(svc), "ingress-service-neg",
                               f"is used by {users[0]} but has no {limits.NEG_ANNOTATION} '{{\"ingress\": true}}' and is of type "
                               f"{dig(svc, 'spec', 'type') or 'ClusterIP'}; GKE fails to translate the Ingress.",
                               f"annotate it with {limits.NEG_ANNOTATION}: '{{\"ingress\": true}}' (container-native load balancing)."))
        annotated = {limits.BACKEND_CONFIG_ANNOTATION, limits.BETA_BACKEND_CONFIG_ANNOTATION} & set(annotations_of(svc))
        if not annotated:  # a present but malformed annotation is service()'s finding
            out.append(Finding(rid(svc), "ingress-service-backend-config",
                               f"is used by {users[0]} but has no {limits.BACKEND_CONFIG_ANNOTATION}; the load balancer keeps a 30 s "
                               "timeout and no session affinity, so Socket.IO sessions break.",
                               f"annotate it with {limits.BACKEND_CONFIG_ANNOTATION}: '{{\"default\": \"<BackendConfig>\"}}'."))

    for (ns, svc_name), svc in sorted(services.items()):
        refs, default = backend_config_refs(svc)
        names = sorted({*refs.values(), *([default] if default else [])})
        targets = selected_workloads(svc)
        for bc_name in names:
            bc = backend_configs.get((ns, bc_name))
            if bc is None:
                elsewhere = sorted(n for (n, name) in backend_configs if name == bc_name)
                hint = f" (one exists in namespace {', '.join(elsewhere)}, but it must be in the Service's namespace)" if elsewhere else ""
                out.append(Finding(rid(svc), "service-backend-config-exists",
                                   f"annotation {limits.BACKEND_CONFIG_ANNOTATION} names BackendConfig {bc_name!r}, which is not declared in namespace {ns!r}{hint}; "
                                   "GKE fails the Ingress ('no BackendConfig for service port exists').",
                                   f"declare BackendConfig {bc_name!r} in namespace {ns!r} or fix the name in the annotation."))
                continue
            if min_session_sec is not None and (ns, svc_name) in ingress_services:
                out.extend(f for f in backend_config(bc, min_session_sec) if f.rule == "backendconfig-websocket-timeout")
            out.extend(_backend_config_vs_pods(bc, svc, targets))

        selector = dig(svc, "spec", "selector")
        if isinstance(selector, Mapping) and selector and not targets:
            out.append(Finding(rid(svc), "service-selector-matches",
                               f"selector {dict(selector)!r} matches the pod labels of no Deployment in namespace {ns!r}: the Service has no endpoints.",
                               "make the selector equal to the Deployment's pod template labels."))
        elif targets:
            for port in service_ports(svc):
                target = port.get("targetPort", port.get("port"))
                if _container_port_matches(target, targets) is None:
                    out.append(Finding(rid(svc), "service-target-port",
                                       f"port {port.get('name') or port.get('port')!r} targets {target!r}, which no container of "
                                       f"{', '.join(name_of(t) for t in targets)} declares; GKE's NEG gets no endpoints.",
                                       "set targetPort to the serving container port's name."))

    frontend_configs = index("FrontendConfig")
    certificates = index("ManagedCertificate")
    for ing in by_kind.get(INGRESS, []):
        ns, annotations = namespace_of(ing), annotations_of(ing)
        frontend_name = annotations.get(limits.FRONTEND_CONFIG_ANNOTATION)
        if frontend_name and (ns, str(frontend_name)) not in frontend_configs:
            out.append(Finding(rid(ing), "ingress-frontend-config-exists",
                               f"annotation {limits.FRONTEND_CONFIG_ANNOTATION} names FrontendConfig {frontend_name!r}, which is not declared in "
                               f"namespace {ns!r}; GKE syncs without it (no HTTPS redirect, no SSL policy) and only warns.",
                               "declare the FrontendConfig in the Ingress's namespace or fix the name."))
        frontend = frontend_configs.get((ns, str(frontend_name))) if frontend_name else None
        if frontend is not None and dig(frontend, "spec", "redirectToHttps", "enabled") is True \
                and str(annotations.get(limits.ALLOW_HTTP_ANNOTATION, "true")).lower() == "false":
            out.append(Finding(rid(ing), "frontendconfig-redirect-needs-http",
                               f"disables HTTP ({limits.ALLOW_HTTP_ANNOTATION}: \"false\") while FrontendConfig {frontend_name!r} redirects to HTTPS; "
                               "GKE attaches the redirect to the HTTP frontend, so http:// clients get nothing.",
                               f"keep {limits.ALLOW_HTTP_ANNOTATION} \"true\" with the redirect."))
        raw_certificates = annotations.get(limits.MANAGED_CERTIFICATES_ANNOTATION)
        for certificate in [c.strip() for c in str(raw_certificates or "").split(",") if c.strip()]:
            if (ns, certificate) not in certificates:
                out.append(Finding(rid(ing), "ingress-managed-certificate-exists",
                                   f"annotation {limits.MANAGED_CERTIFICATES_ANNOTATION} names ManagedCertificate {certificate!r}, which is not declared "
                                   f"in namespace {ns!r}; the certificate annotation has all-or-nothing semantics, so HTTPS does not come up.",
                                   "declare the ManagedCertificate in the Ingress's namespace or fix the name."))

    for kind, rule in ((HPA, "hpa-target-exists"), (PDB, "pdb-target-exists")):
        for obj in by_kind.get(kind, []):
            ns = namespace_of(obj)
            if kind == HPA:
                ref = dig(obj, "spec", "scaleTargetRef") or {}
                target_kind, target_name = dig(ref, "kind"), dig(ref, "name")
                ok = any(kind_of(w) == target_kind and name_of(w) == target_name and namespace_of(w) == ns for w in workloads)
                what = f"scaleTargetRef {target_kind}/{target_name}"
            else:
                selector = dig(obj, "spec", "selector", "matchLabels") or {}
                ok = any(namespace_of(w) == ns and _selects(selector, pod_labels(w)) for w in workloads)
                what = f"selector {dict(selector)!r}"
            if not ok:
                out.append(Finding(rid(obj), rule, f"{what} matches no workload declared in namespace {ns!r}; it protects or scales nothing.",
                                   "build it from the Deployment it belongs to, or remove it."))
    return out


def _backend_config_vs_pods(bc: Manifest, svc: Manifest, targets: list[Manifest]) -> list[Finding]:
    """Agreement between a BackendConfig and the pods behind its Service."""
    out: list[Finding] = []
    spec = bc.get("spec") if isinstance(bc.get("spec"), Mapping) else {}
    affinity = dig(spec, "sessionAffinity", "affinityType") or "NONE"
    for wl in targets:
        replicas = _num(dig(wl, "spec", "replicas"))
        if affinity == "NONE" and (replicas is None or replicas > 1):
            out.append(Finding(rid(bc), "backendconfig-affinity-replicas",
                               f"has session affinity NONE while {rid(wl)} runs {_fmt(replicas) if replicas else 'several'} replicas: "
                               "Socket.IO polling requests of one session land on different pods and get HTTP 400.",
                               "set spec.sessionAffinity.affinityType to CLIENT_IP or GENERATED_COOKIE."))
        health = spec.get("healthCheck") if isinstance(spec.get("healthCheck"), Mapping) else None
        if health is not None:
            for container in containers(wl):
                probe = dig(container, "readinessProbe", "httpGet")
                if not isinstance(probe, Mapping):
                    continue
                probe_port = probe.get("port")
                ports = {_port_key(dig(p, "name")): _port_key(dig(p, "containerPort")) for p in _list(container.get("ports"))}
                probe_number = ports.get(_port_key(probe_port), _port_key(probe_port))
                serves_hc_port = _port_key(health.get("port")) in set(ports.values())
                if not serves_hc_port:
                    continue
                if probe.get("path") != health.get("requestPath") or probe_number != _port_key(health.get("port")):
                    out.append(Finding(rid(bc), "health-check-matches-readiness",
                                       f"health check {health.get('requestPath')!r} on port {_port_key(health.get('port'))} disagrees with the readiness probe "
                                       f"{probe.get('path')!r} on port {probe_number} of container {container.get('name')!r} in {rid(wl)}: "
                                       "pods can be Ready in Kubernetes yet UNHEALTHY at the load balancer (or the reverse).",
                                       "derive both from one health path and port."))
        grace = _num(pod_spec(wl).get("terminationGracePeriodSeconds"))
        draining = _num(dig(spec, "connectionDraining", "drainingTimeoutSec"))
        grace_effective = 30.0 if grace is None else grace
        if draining is not None and grace_effective < draining:
            out.append(Finding(rid(wl), "grace-period-covers-draining",
                               f"terminationGracePeriodSeconds {_fmt(grace_effective)} is shorter than {rid(bc)}'s drainingTimeoutSec {_fmt(draining)}: "
                               "Kubernetes kills pods while the load balancer still drains their connections.",
                               f"set terminationGracePeriodSeconds to at least {_fmt(draining)} (plus the preStop delay)."))
    return out


def resource(manifest: Manifest, require_digest: bool = False) -> list[Finding]:
    """The one-object rules that apply to this manifest's kind (the WebSocket timeout is a
    stack rule: only a BackendConfig behind an Ingress serves WebSockets)."""
    kind = kind_of(manifest)
    if kind == BACKEND_CONFIG:
        return backend_config(manifest)
    if kind == SERVICE:
        return service(manifest)
    if kind == INGRESS:
        return ingress(manifest)
    if kind in WORKLOAD_KINDS:
        return workload(manifest, require_digest)
    return []

