"""Stack rules: every name GKE resolves at translation time points at an object the stack declares
(ingress-gce pkg/translator/translator.go: every backend is translated first, one error blocks the whole Ingress). The incident was one of these: an Ingress naming a Service that did not exist."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .. import limits
from .. import policies as policy
from ..manifest import (
    BACKEND_CONFIG,
    FRONTEND_CONFIG,
    HPA,
    INGRESS,
    MANAGED_CERTIFICATE,
    PDB,
    SERVICE,
    WORKLOAD_KINDS,
    Manifest,
    annotations_of,
    as_list,
    as_number,
    backend_config_refs,
    containers,
    field_at,
    kind_of,
    name_of,
    namespace_of,
    neg_enabled,
    pod_labels,
    port_key,
    reference,
    selects,
    service_ports,
)
from ..model import Context, Problem
from ..registry import stack_rule
from ..stack import StackView

TRANSLATOR = "ingress-gce pkg/translator/translator.go; kubernetes/ingress-gce#646"
WORKLOADS = tuple(sorted(WORKLOAD_KINDS))


def _find_service_port(service: Manifest, backend_port: Any) -> Mapping[str, Any] | None:
    number, name = field_at(backend_port, "number"), field_at(backend_port, "name")
    for port in service_ports(service):
        if (name is not None and port.get("name") == name) or (number is not None and as_number(port.get("port")) == as_number(number)):
            return port
    return None


def _serves(target: Any, workloads: Iterable[Manifest]) -> bool:
    """Some container of the workloads declares `target` (a targetPort number or name)."""
    key = port_key(target)
    return any(
        key in {port_key(field_at(port, "containerPort")), port_key(field_at(port, "name"))}
        for workload in workloads
        for container in containers(workload)
        for port in as_list(container.get("ports"))
    )


@stack_rule(
    "ingress-backend-service-exists",
    policy.INGRESS_BACKENDS_EXIST,
    (INGRESS, SERVICE),
    "Every Ingress backend names a Service declared in the Ingress's namespace.",
    TRANSLATOR,
)
def backend_service_exists(stack: StackView, _context: Context) -> Iterator[Problem]:
    for ingress, place, service_ref in stack.ingress_routes:
        namespace, name = namespace_of(ingress), str(service_ref.get("name"))
        if (namespace, name) in stack.services:
            continue
        elsewhere = sorted(ns for (ns, other) in stack.services if other == name)
        hint = (
            f" A Service of that name exists in namespace {', '.join(elsewhere)}, but an Ingress can only use Services of its own namespace."
            if elsewhere
            else ""
        )
        yield Problem(
            f"{place} routes to Service {name!r}, which is not declared in namespace {namespace!r}.{hint} "
            "GKE fails the whole Ingress ('Translation failed: could not find service'), so no BackendConfig "
            "(affinity, timeout) reaches the load balancer.",
            f"route to a Service declared in namespace {namespace!r} (or declare Service {name!r} there).",
            resource=reference(ingress),
            subject=place,
        )


@stack_rule(
    "ingress-backend-port-exists", policy.INGRESS_BACKENDS_EXIST, (INGRESS, SERVICE), "Every Ingress backend uses a port the Service declares.", TRANSLATOR
)
def backend_port_exists(stack: StackView, _context: Context) -> Iterator[Problem]:
    for ingress, place, service_ref in stack.ingress_routes:
        service = stack.services.get((namespace_of(ingress), str(service_ref.get("name"))))
        if service is not None and _find_service_port(service, service_ref.get("port")) is None:
            yield Problem(
                f"{place} uses port {dict(service_ref.get('port') or {})!r} of Service {name_of(service)!r}, which has no such port "
                f"(ports: {[dict(p) for p in service_ports(service)]}); GKE fails the whole Ingress.",
                "use the Service's port number or name (not its targetPort).",
                resource=reference(ingress),
                subject=place,
            )


@stack_rule("ingress-service-neg", policy.INGRESS_SERVICES_READY, (INGRESS, SERVICE), "A ClusterIP Service behind the Ingress has NEG enabled.", TRANSLATOR)
def service_neg(stack: StackView, _context: Context) -> Iterator[Problem]:
    for key, users in sorted(stack.ingress_users.items()):
        service = stack.services[key]
        service_type = field_at(service, "spec", "type")
        if not neg_enabled(service) and service_type not in {"NodePort", "LoadBalancer"}:
            yield Problem(
                f"is used by {users[0]} but has no {limits.NEG_ANNOTATION} '{{\"ingress\": true}}' and is of type "
                f"{service_type or 'ClusterIP'}; GKE fails to translate the Ingress.",
                f"annotate it with {limits.NEG_ANNOTATION}: '{{\"ingress\": true}}' (container-native load balancing).",
                resource=reference(service),
                subject=limits.NEG_ANNOTATION,
            )


@stack_rule(
    "ingress-service-backend-config",
    policy.INGRESS_SERVICES_READY,
    (INGRESS, SERVICE),
    "A Service behind the Ingress carries a backend-config annotation.",
    "ingress-gce pkg/backendconfig/backendconfig.go",
)
def service_backend_config(stack: StackView, _context: Context) -> Iterator[Problem]:
    for key, users in sorted(stack.ingress_users.items()):
        service = stack.services[key]
        # A present but malformed annotation is the resource rule's finding.
        if not {limits.BACKEND_CONFIG_ANNOTATION, limits.BETA_BACKEND_CONFIG_ANNOTATION} & set(annotations_of(service)):
            yield Problem(
                f"is used by {users[0]} but has no {limits.BACKEND_CONFIG_ANNOTATION}; the load balancer keeps a 30 s "
                "timeout and no session affinity, so Socket.IO sessions break.",
                f'annotate it with {limits.BACKEND_CONFIG_ANNOTATION}: \'{{"default": "<BackendConfig>"}}\'.',
                resource=reference(service),
                subject=limits.BACKEND_CONFIG_ANNOTATION,
            )


def referenced_backend_configs(stack: StackView) -> Iterator[tuple[Manifest, str, Manifest | None]]:
    """(Service, BackendConfig name, the BackendConfig or None) for every name a Service's annotation gives."""
    for (namespace, _), service in sorted(stack.services.items()):
        ports, default = backend_config_refs(service)
        for name in sorted({*ports.values(), *([default] if default else [])}):
            yield service, name, stack.backend_configs.get((namespace, name))


@stack_rule(
    "service-backend-config-exists",
    policy.BACKENDCONFIG_REFERENCES,
    (SERVICE, BACKEND_CONFIG),
    "A Service's backend-config annotation names a BackendConfig in its namespace.",
    "ingress-gce pkg/backendconfig/backendconfig.go",
)
def backend_config_exists(stack: StackView, _context: Context) -> Iterator[Problem]:
    for service, name, backend_config in referenced_backend_configs(stack):
        if backend_config is not None:
            continue
        namespace = namespace_of(service)
        elsewhere = sorted(ns for (ns, other) in stack.backend_configs if other == name)
        hint = f" (one exists in namespace {', '.join(elsewhere)}, but it must be in the Service's namespace)" if elsewhere else ""
        yield Problem(
            f"annotation {limits.BACKEND_CONFIG_ANNOTATION} names BackendConfig {name!r}, which is not declared in namespace {namespace!r}{hint}; "
            "GKE fails the Ingress ('no BackendConfig for service port exists').",
            f"declare BackendConfig {name!r} in namespace {namespace!r} or fix the name in the annotation.",
            resource=reference(service),
            subject=limits.BACKEND_CONFIG_ANNOTATION,
        )


@stack_rule(
    "service-selector-matches",
    policy.SERVICE_ENDPOINTS,
    (SERVICE, *WORKLOADS),
    "A Service's selector matches the pods of a declared workload.",
    "Kubernetes Service docs; ingress-gce pkg/neg",
)
def selector_matches(stack: StackView, _context: Context) -> Iterator[Problem]:
    for (namespace, _), service in sorted(stack.services.items()):
        selector = field_at(service, "spec", "selector")
        if isinstance(selector, Mapping) and selector and not stack.selected_workloads(service):
            yield Problem(
                f"selector {dict(selector)!r} matches the pod labels of no Deployment in namespace {namespace!r}: the Service has no endpoints.",
                "make the selector equal to the Deployment's pod template labels.",
                resource=reference(service),
                subject="spec.selector",
            )


@stack_rule(
    "service-target-port",
    policy.SERVICE_ENDPOINTS,
    (SERVICE, *WORKLOADS),
    "Every Service port targets a port a selected container declares.",
    "Kubernetes Service docs; ingress-gce pkg/neg",
)
def target_port(stack: StackView, _context: Context) -> Iterator[Problem]:
    for _, service in sorted(stack.services.items()):
        targets = stack.selected_workloads(service)
        for port in service_ports(service) if targets else []:
            target = port.get("targetPort", port.get("port"))
            if not _serves(target, targets):
                yield Problem(
                    f"port {port.get('name') or port.get('port')!r} targets {target!r}, which no container of "
                    f"{', '.join(name_of(t) for t in targets)} declares; GKE's NEG gets no endpoints.",
                    "set targetPort to the serving container port's name.",
                    resource=reference(service),
                    subject="spec.ports",
                )


def _frontend_config(stack: StackView, ingress: Manifest) -> tuple[str | None, Manifest | None]:
    name = annotations_of(ingress).get(limits.FRONTEND_CONFIG_ANNOTATION)
    if not name:
        return None, None
    return str(name), stack.index(FRONTEND_CONFIG).get((namespace_of(ingress), str(name)))


@stack_rule(
    "ingress-frontend-config-exists",
    policy.INGRESS_REFERENCES,
    (INGRESS, FRONTEND_CONFIG),
    "The FrontendConfig an Ingress names exists in its namespace.",
    "ingress-gce pkg/controller/controller.go",
)
def frontend_config_exists(stack: StackView, _context: Context) -> Iterator[Problem]:
    for ingress in stack.of_kind(INGRESS):
        name, frontend = _frontend_config(stack, ingress)
        if name is not None and frontend is None:
            yield Problem(
                f"annotation {limits.FRONTEND_CONFIG_ANNOTATION} names FrontendConfig {name!r}, which is not declared in "
                f"namespace {namespace_of(ingress)!r}; GKE syncs without it (no HTTPS redirect, no SSL policy) and only warns.",
                "declare the FrontendConfig in the Ingress's namespace or fix the name.",
                resource=reference(ingress),
                subject=limits.FRONTEND_CONFIG_ANNOTATION,
            )


@stack_rule(
    "frontendconfig-redirect-needs-http",
    policy.INGRESS_REFERENCES,
    (INGRESS, FRONTEND_CONFIG),
    "HTTP stays on while the FrontendConfig redirects to HTTPS.",
    "ingress-gce pkg/loadbalancers/l7.go",
)
def redirect_needs_http(stack: StackView, _context: Context) -> Iterator[Problem]:
    for ingress in stack.of_kind(INGRESS):
        name, frontend = _frontend_config(stack, ingress)
        http_off = str(annotations_of(ingress).get(limits.ALLOW_HTTP_ANNOTATION, "true")).lower() == "false"
        if frontend is not None and field_at(frontend, "spec", "redirectToHttps", "enabled") is True and http_off:
            yield Problem(
                f'disables HTTP ({limits.ALLOW_HTTP_ANNOTATION}: "false") while FrontendConfig {name!r} redirects to HTTPS; '
                "GKE attaches the redirect to the HTTP frontend, so http:// clients get nothing.",
                f'keep {limits.ALLOW_HTTP_ANNOTATION} "true" with the redirect.',
                resource=reference(ingress),
                subject=limits.ALLOW_HTTP_ANNOTATION,
            )


@stack_rule(
    "ingress-managed-certificate-exists",
    policy.INGRESS_REFERENCES,
    (INGRESS, MANAGED_CERTIFICATE),
    "Every ManagedCertificate an Ingress names exists in its namespace.",
    "GoogleCloudPlatform/gke-managed-certs sync.go",
)
def managed_certificates_exist(stack: StackView, _context: Context) -> Iterator[Problem]:
    certificates = stack.index(MANAGED_CERTIFICATE)
    for ingress in stack.of_kind(INGRESS):
        namespace = namespace_of(ingress)
        raw = annotations_of(ingress).get(limits.MANAGED_CERTIFICATES_ANNOTATION)
        for certificate in [c.strip() for c in str(raw or "").split(",") if c.strip()]:
            if (namespace, certificate) not in certificates:
                yield Problem(
                    f"annotation {limits.MANAGED_CERTIFICATES_ANNOTATION} names ManagedCertificate {certificate!r}, which is not declared "
                    f"in namespace {namespace!r}; the certificate annotation has all-or-nothing semantics, so HTTPS does not come up.",
                    "declare the ManagedCertificate in the Ingress's namespace or fix the name.",
                    resource=reference(ingress),
                    subject=limits.MANAGED_CERTIFICATES_ANNOTATION,
                )


ORPHAN_FIX = "build it from the Deployment it belongs to, or remove it."


@stack_rule(
    "hpa-target-exists",
    policy.AUTOSCALER_DISRUPTION_TARGETS,
    (HPA, *WORKLOADS),
    "An HPA's scaleTargetRef names a declared workload.",
    "Kubernetes HorizontalPodAutoscaler docs",
)
def hpa_target_exists(stack: StackView, _context: Context) -> Iterator[Problem]:
    for hpa in stack.of_kind(HPA):
        namespace = namespace_of(hpa)
        target = field_at(hpa, "spec", "scaleTargetRef") or {}
        target_kind, target_name = field_at(target, "kind"), field_at(target, "name")
        if not any(kind_of(w) == target_kind and name_of(w) == target_name and namespace_of(w) == namespace for w in stack.workloads):
            yield Problem(
                f"scaleTargetRef {target_kind}/{target_name} matches no workload declared in namespace {namespace!r}; it protects or scales nothing.",
                ORPHAN_FIX,
                resource=reference(hpa),
                subject="spec.scaleTargetRef",
            )


@stack_rule(
    "pdb-target-exists",
    policy.AUTOSCALER_DISRUPTION_TARGETS,
    (PDB, *WORKLOADS),
    "A PDB's selector matches the pods of a declared workload.",
    "Kubernetes PodDisruptionBudget docs",
)
def pdb_target_exists(stack: StackView, _context: Context) -> Iterator[Problem]:
    for pdb in stack.of_kind(PDB):
        namespace = namespace_of(pdb)
        selector = field_at(pdb, "spec", "selector", "matchLabels") or {}
        if not any(namespace_of(w) == namespace and selects(selector, pod_labels(w)) for w in stack.workloads):
            yield Problem(
                f"selector {dict(selector)!r} matches no workload declared in namespace {namespace!r}; it protects or scales nothing.",
                ORPHAN_FIX,
                resource=reference(pdb),
                subject="spec.selector",
            )
