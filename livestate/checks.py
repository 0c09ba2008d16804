"""One check per metric: what the program declared (target) against what GKE and Google Cloud show.

Pure functions of (Desired, Live): no I/O, so every rule is tested on plain data and the reads stay
in live.py. Resource and field names are the APIs' own, so a diagnosis can be acted on directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from livestate.desired import Desired
from livestate.gcp_http import resource_name
from livestate.live import Live, LiveBackend
from livestate.model import Check, Layer, Status

Json = dict[str, Any]
NEG_READY = "cloud.google.com/load-balancer-neg-ready"
NONE = "none"


def _text(value: Any) -> str:
    if value is None or value == "":
        return NONE
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _compare(layer: Layer, metric: str, resource: str, field: str, target: Any, live: Any, hint: str = "") -> Check:
    target_text, live_text = _text(target), _text(live)
    status = Status.OK if target_text == live_text else (Status.MISSING if live_text == NONE and target_text != NONE else Status.DRIFT)
    return Check(layer, metric, resource, field, target_text, live_text, status, hint)


def _get(data: Mapping[str, Any] | None, path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def translation(desired: Desired, live: Live) -> Iterator[Check]:
    layer, ingress = Layer.TRANSLATION, f"Ingress {desired.namespace}/{desired.ingress}"
    if live.ingress is None:
        yield Check(layer, "Ingress exists", ingress, "metadata.name", desired.ingress, NONE, Status.MISSING, "not deployed, or deployed under another name")
        return
    # A warning since the Ingress last changed is about its current spec. An older one (events live an hour)
    # counts only while what GKE wrote back does not yet serve the declared backends.
    warnings = live.warnings or ([] if written_back(live) else live.stale_warnings)
    if warnings:
        latest = max(warnings, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
        shown = f"{latest.get('reason')}: {latest.get('message')} (x{latest.get('count') or 1})"
        yield Check(
            layer,
            "translation and sync errors",
            ingress,
            "events[type=Warning]",
            NONE,
            shown,
            Status.DRIFT,
            "GKE stops at the first translation error: nothing on the load balancer changes",
        )
    else:
        yield Check(layer, "translation and sync errors", ingress, "events[type=Warning]", NONE, NONE, Status.OK)
    dangling = [name for name, exists in live.routed.items() if not exists]
    routed = ", ".join(f"{n} (no such Service)" if n in dangling else n for n in live.routed)
    check = _compare(layer, "backend Services", ingress, "spec.rules[].http.paths[].backend.service.name", ", ".join(desired.ingress_services), routed)
    yield check if not dangling else Check(**{**check.__dict__, "status": Status.DRIFT})
    # With allow-http "false" ingress-gce deletes the HTTP pair instead of writing it
    # (k8s.io/ingress-gce pkg/loadbalancers/l7.go, GetLBAnnotations).
    expected = ["backends", "url-map"] + (["target-proxy", "forwarding-rule"] if desired.allow_http else [])
    if desired.certificates:
        expected += ["https-target-proxy", "https-forwarding-rule", "ssl-cert"]
    absent = [key for key in expected if live.annotation(key) is None]
    yield Check(
        layer,
        "load balancer written back",
        ingress,
        "metadata.annotations[ingress.kubernetes.io/*]",
        f"{len(expected)} annotations",
        f"absent: {', '.join(absent)}" if absent else f"{len(expected)} annotations",
        Status.MISSING if absent else Status.OK,
        "GKE writes them after a successful sync",
    )
    ips = [str(i.get("ip")) for i in _get(live.ingress, "status.loadBalancer.ingress") or [] if i.get("ip")]
    target_ip = _get(live.address, "address") if desired.static_ip else "an IP"
    status = Status.OK if ips and (not desired.static_ip or target_ip in ips) else (Status.MISSING if not ips else Status.DRIFT)
    yield Check(layer, "load balancer IP", ingress, "status.loadBalancer.ingress[].ip", _text(target_ip), ", ".join(ips) or NONE, status)


def url_map_services(url_map: Mapping[str, Any] | None) -> set[str]:
    """Every backend service a URL map sends requests to (default, per host, per path)."""
    if not url_map:
        return set()
    links = [url_map.get("defaultService")]
    for matcher in url_map.get("pathMatchers") or []:
        links.append(matcher.get("defaultService"))
        links += [rule.get("service") for rule in matcher.get("pathRules") or []]
    return {resource_name(str(link)) for link in links if link}


def written_back(live: Live) -> bool:
    """GKE's last sync succeeded for the current spec: its url map (read from Compute) and its backends
    annotation both name the backend service of every declared backend."""
    wanted = {b.neg for b in live.backends if b.neg}
    if not wanted or len(wanted) < len(live.backends) or live.url_map is None:
        return False
    return wanted <= url_map_services(live.url_map) and wanted <= set(live.health)


def _backends(desired: Desired, backend: LiveBackend, health: Mapping[str, str]) -> Iterator[Check]:
    layer, want = Layer.BACKENDS, backend.desired
    service = f"Service {desired.namespace}/{want.service}"
    if backend.service is None:
        yield Check(layer, "Service exists", service, "metadata.name", want.service, NONE, Status.MISSING)
        return
    yield _compare(
        layer,
        "NEG",
        service,
        f"metadata.annotations[cloud.google.com/neg-status].network_endpoint_groups[{want.port}]",
        "a NEG",
        "a NEG" if backend.neg else None,
        "written by the NEG controller once the Service is behind an Ingress",
    )
    name = backend.neg or "?"
    if backend.endpoints is not None:
        yield _endpoint_health(layer, name, backend)
    else:  # no backend service to ask: what the last sync wrote is all there is
        state = health.get(name)
        status = {"HEALTHY": Status.OK, "UNHEALTHY": Status.DRIFT, None: Status.MISSING}.get(state, Status.PENDING)
        yield Check(layer, "backend health", f"BackendService {name}", "Ingress annotation ingress.kubernetes.io/backends", "HEALTHY", _text(state), status)
    if want.pod_selector:
        gated = [p for p in backend.pods if any(g.get("conditionType") == NEG_READY for g in _get(p, "spec.readinessGates") or [])]
        ready = [p for p in gated if any(c.get("type") == NEG_READY and c.get("status") == "True" for c in _get(p, "status.conditions") or [])]
        total = len(backend.pods)
        live_text = f"{len(ready)}/{total} pods True" + (f" ({total - len(gated)} without the gate)" if len(gated) < total else "")
        ok = total > 0 and len(ready) == total
        yield Check(
            layer,
            "NEG readiness gate",
            f"Pods of {service}",
            f"status.conditions[{NEG_READY}]",
            f"{total or 'all'}/{total or 'all'} pods True",
            live_text,
            Status.OK if ok else Status.PENDING,
            "pods turn Ready only once healthy in the NEG",
        )


def _endpoint_health(layer: Layer, name: str, backend: LiveBackend) -> Check:
    """Every endpoint HEALTHY, as getHealth reports it; an unhealthy one is named by IP:port and its pod."""
    endpoints = backend.endpoints or []
    pods = {str(_get(p, "status.podIP")): str(_get(p, "metadata.name")) for p in backend.pods if _get(p, "status.podIP")}
    bad = [e for e in endpoints if e.get("healthState") != "HEALTHY"]
    field = "getHealth healthStatus[].healthState"
    if not endpoints:
        return Check(layer, "backend health", f"BackendService {name}", field, "HEALTHY", NONE, Status.MISSING, "no endpoint in any NEG")
    if not bad:
        return Check(layer, "backend health", f"BackendService {name}", field, "HEALTHY", f"HEALTHY ({len(endpoints)}/{len(endpoints)} endpoints)", Status.OK)

    def named(endpoint: Json) -> str:
        address = f"{endpoint.get('ipAddress')}:{endpoint.get('port')}"
        pod = pods.get(str(endpoint.get("ipAddress")))
        return f"{address}{f' (pod {pod})' if pod else ''} {endpoint.get('healthState') or 'UNKNOWN'}"

    live_text = f"UNHEALTHY {len(bad)}/{len(endpoints)} endpoints: " + ", ".join(named(e) for e in bad)
    return Check(
        layer,
        "backend health",
        f"BackendService {name}",
        field,
        "HEALTHY",
        live_text,
        Status.DRIFT,
        "the load balancer's health check fails on these endpoints",
    )


# BackendConfig spec path -> (BackendService field path, metric)
BACKEND_SERVICE_FIELDS = (
    ("sessionAffinity.affinityType", "sessionAffinity", "session affinity"),
    ("sessionAffinity.affinityCookieTtlSec", "affinityCookieTtlSec", "affinity cookie TTL"),
    ("timeoutSec", "timeoutSec", "backend timeout (s)"),
    ("connectionDraining.drainingTimeoutSec", "connectionDraining.drainingTimeoutSec", "connection draining (s)"),
    ("logging.enable", "logConfig.enable", "request logging"),
    ("logging.sampleRate", "logConfig.sampleRate", "log sample rate"),
)
HEALTH_CHECK_FIELDS = (
    ("healthCheck.type", "type", "health check type"),
    ("healthCheck.requestPath", "{protocol}HealthCheck.requestPath", "health check path"),
    ("healthCheck.port", "{protocol}HealthCheck.port", "health check port"),
)


def _default(spec_path: str, live: Any) -> Any:
    """Compute leaves a false/zero field out of its JSON."""
    if live is None and spec_path == "logging.enable":
        return False
    return live


def _backend_config(backend: LiveBackend) -> Iterator[Check]:
    layer, spec = Layer.BACKEND_CONFIG, backend.desired.spec
    if not backend.desired.backend_config:
        return
    if backend.backend_service is None:
        name = backend.neg or f"(the NEG of {backend.desired.service}:{backend.desired.port})"
        yield Check(layer, "backend service exists", f"BackendService {name}", "name", name, NONE, Status.MISSING)
        return
    bs, resource = backend.backend_service, f"BackendService {backend.backend_service.get('name')}"
    for spec_path, live_path, metric in BACKEND_SERVICE_FIELDS:
        if _get(spec, spec_path) is not None:
            yield _compare(layer, metric, resource, live_path, _get(spec, spec_path), _default(spec_path, _get(bs, live_path)))
    if "securityPolicy" in spec:
        live_policy = resource_name(str(bs["securityPolicy"])) if bs.get("securityPolicy") else None
        yield _compare(layer, "Cloud Armor policy", resource, "securityPolicy", _get(spec, "securityPolicy.name"), live_policy)
    hc = backend.health_check
    hc_resource = f"HealthCheck {(hc or {}).get('name', backend.neg)}"
    protocol = str((hc or {}).get("type") or "HTTP").lower()  # httpHealthCheck, httpsHealthCheck, http2HealthCheck
    for spec_path, live_path, metric in HEALTH_CHECK_FIELDS:
        if _get(spec, spec_path) is not None:
            yield _compare(
                layer, metric, hc_resource, live_path.format(protocol=protocol), _get(spec, spec_path), _get(hc, live_path.format(protocol=protocol))
            )
    want = backend.desired
    if want.readiness_path:
        live_probe = f"{_get(hc, f'{protocol}HealthCheck.requestPath') or '/'}:{_get(hc, f'{protocol}HealthCheck.port') or 'serving port'}"
        yield _compare(
            layer,
            "health check = readiness probe",
            hc_resource,
            f"{protocol}HealthCheck.requestPath:port",
            f"{want.readiness_path}:{want.readiness_port}",
            live_probe if hc else None,
            "GKE copies the readiness probe only when it creates the health check",
        )


def front_end(desired: Desired, live: Live) -> Iterator[Check]:
    layer = Layer.FRONT_END
    if desired.static_ip:
        address = live.address
        live_text = f"{address.get('status')} {address.get('address')}" if address else None
        ips = [str(i.get("ip")) for i in _get(live.ingress, "status.loadBalancer.ingress") or []]
        target = f"IN_USE {address.get('address')}" if address else "IN_USE"
        check = _compare(layer, "static IP in use", f"Address {desired.static_ip}", "status, address", target, live_text)
        if address and address.get("address") not in ips:
            check = Check(layer, check.metric, check.resource, check.field, f"IN_USE {', '.join(ips) or '(the Ingress IP)'}", check.live, Status.DRIFT)
        yield check
    if desired.ssl_policy:
        proxy = live.https_proxy
        policy = resource_name(str(proxy["sslPolicy"])) if proxy and proxy.get("sslPolicy") else None
        yield _compare(layer, "SSL policy", f"TargetHttpsProxy {live.annotation('https-target-proxy') or '(none)'}", "sslPolicy", desired.ssl_policy, policy)
    if desired.redirect_to_https:
        redirect = _get(live.http_url_map, "defaultUrlRedirect") or {}
        live_text = f"https {redirect.get('redirectResponseCode') or 'MOVED_PERMANENTLY_DEFAULT'}" if redirect.get("httpsRedirect") else None
        yield _compare(
            layer,
            "HTTP to HTTPS redirect",
            f"TargetHttpProxy {live.annotation('target-proxy') or '(none)'}",
            "urlMap -> defaultUrlRedirect.httpsRedirect",
            "https MOVED_PERMANENTLY_DEFAULT",
            live_text,
        )
    for name, domains in desired.certificates.items():
        cert = live.certificates.get(name)
        resource = f"ManagedCertificate {desired.namespace}/{name}"
        if cert is None:
            yield Check(layer, "certificate", resource, "status.certificateStatus", "Active", NONE, Status.MISSING)
            continue
        per_domain = {d.get("domain"): d.get("status") for d in _get(cert, "status.domainStatus") or []}
        state = _get(cert, "status.certificateStatus") or "(no status yet)"
        shown = ", ".join(f"{d}: {per_domain.get(d) or 'unknown'}" for d in domains)
        live_text = f"{state} ({shown})"
        ok = state == "Active" and all(per_domain.get(d) == "Active" for d in domains)
        pending = state in ("Provisioning", "(no status yet)")
        yield Check(
            layer,
            "certificate",
            resource,
            "status.certificateStatus, status.domainStatus[]",
            f"Active ({', '.join(f'{d}: Active' for d in domains)})",
            live_text,
            Status.OK if ok else Status.PENDING if pending else Status.DRIFT,
            "Google provisions it once DNS for every domain points at the load balancer IP",
        )


def leftovers(desired: Desired, live: Live) -> Iterator[Check]:
    layer, ns, found = Layer.LEFTOVERS, desired.namespace, False
    deployments = {str(_get(d, "metadata.name")) for d in live.deployments}
    kinds = (("Ingress", live.ingresses, "GKE builds a load balancer for it"), ("BackendConfig", live.backend_configs, "no declared Service uses it"))
    for kind, objects, why in kinds:
        for obj in objects:
            name = str(_get(obj, "metadata.name"))
            if not desired.declares(kind, name):
                found = True
                yield Check(layer, f"undeclared {kind}", f"{kind} {ns}/{name}", "metadata.name", NONE, name, Status.DRIFT, why)
    for hpa in live.autoscalers:
        name, target = str(_get(hpa, "metadata.name")), _get(hpa, "spec.scaleTargetRef") or {}
        if not desired.declares("HorizontalPodAutoscaler", name):
            found = True
            missing = target.get("kind") == "Deployment" and target.get("name") not in deployments
            yield Check(
                layer,
                "undeclared HorizontalPodAutoscaler",
                f"HorizontalPodAutoscaler {ns}/{name}",
                "spec.scaleTargetRef.name",
                NONE,
                f"{target.get('kind')} {target.get('name')}" + (" (does not exist)" if missing else ""),
                Status.DRIFT,
            )
    for pdb in live.disruption_budgets:
        name = str(_get(pdb, "metadata.name"))
        if not desired.declares("PodDisruptionBudget", name):
            found = True
            yield Check(layer, "undeclared PodDisruptionBudget", f"PodDisruptionBudget {ns}/{name}", "spec.selector", NONE, name, Status.DRIFT)
    if not found:
        yield Check(layer, "undeclared objects GKE acts on", f"Namespace {ns}", "Ingress, BackendConfig, HPA, PDB", NONE, NONE, Status.OK)


def all_checks(desired: Desired, live: Live) -> list[Check]:
    checks = list(translation(desired, live))
    for backend in live.backends:
        checks += _backends(desired, backend, live.health)
    for backend in live.backends:
        checks += _backend_config(backend)
    checks += front_end(desired, live)
    checks += leftovers(desired, live)
    return checks
