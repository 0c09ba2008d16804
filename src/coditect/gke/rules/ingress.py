"""What makes GKE ignore an Ingress, reject it, or silently not do what it says (ingress-gce pkg/controller/controller.go, pkg/translator/translator.go, pkg/annotations/ingress.go; https://cloud.google.com/kubernetes-engine/docs/concepts/ingress)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .. import limits
from .. import policies as policy
from ..manifest import INGRESS, Manifest, annotations_of, as_list, field_at, ingress_backends, spec_of
from ..model import Problem
from ..registry import resource_rule

KINDS = (INGRESS,)
IS_GCE_INGRESS = "ingress-gce pkg/utils/utils.go#L332-L353 (IsGCEIngress); kubernetes/ingress-gce#1891"
TRANSLATOR = "ingress-gce pkg/translator/translator.go#L404-L452"


@resource_rule(
    "ingress-class", policy.INGRESS_GCE_CLASS, KINDS, f"{limits.INGRESS_CLASS_ANNOTATION} is a GCE class, never spec.ingressClassName alone.", IS_GCE_INGRESS
)
def ingress_class(manifest: Manifest) -> Iterator[Problem]:
    annotation = annotations_of(manifest).get(limits.INGRESS_CLASS_ANNOTATION)
    class_name = spec_of(manifest).get("ingressClassName")
    if class_name is not None and annotation is None:
        yield Problem(
            f"sets spec.ingressClassName {class_name!r} without the {limits.INGRESS_CLASS_ANNOTATION} annotation; "
            "GKE's controller ignores such an Ingress entirely (no load balancer, no event).",
            f'remove spec.ingressClassName and set annotation {limits.INGRESS_CLASS_ANNOTATION}: "gce".',
            subject="spec.ingressClassName",
        )
    if annotation is not None and annotation not in limits.GCE_INGRESS_CLASSES:
        yield Problem(
            f"has {limits.INGRESS_CLASS_ANNOTATION} {annotation!r}, so GKE's load balancer controller does not serve it.",
            f'set {limits.INGRESS_CLASS_ANNOTATION}: "gce".',
            subject=limits.INGRESS_CLASS_ANNOTATION,
        )


@resource_rule(
    "ingress-class-name-ignored", policy.INGRESS_CLASS_HYGIENE, KINDS, "No spec.ingressClassName beside the class annotation (GKE ignores it).", IS_GCE_INGRESS
)
def class_name_ignored(manifest: Manifest) -> Iterator[Problem]:
    class_name = spec_of(manifest).get("ingressClassName")
    if class_name is not None and limits.INGRESS_CLASS_ANNOTATION in annotations_of(manifest):
        yield Problem(
            f"sets spec.ingressClassName {class_name!r}, which GKE ignores when the class annotation is present.",
            "remove spec.ingressClassName.",
            subject="spec.ingressClassName",
        )


@resource_rule(
    "ingress-class-explicit", policy.INGRESS_CLASS_HYGIENE, KINDS, "The class annotation is set, not left to the cluster's default class.", IS_GCE_INGRESS
)
def class_explicit(manifest: Manifest) -> Iterator[Problem]:
    if limits.INGRESS_CLASS_ANNOTATION not in annotations_of(manifest) and spec_of(manifest).get("ingressClassName") is None:
        yield Problem(
            f"has no {limits.INGRESS_CLASS_ANNOTATION} annotation; it depends on the cluster's default class.",
            f'set {limits.INGRESS_CLASS_ANNOTATION}: "gce".',
            subject=limits.INGRESS_CLASS_ANNOTATION,
        )


def _why_ignored(key: str) -> str:
    if key.startswith("cloud.google.com/websocket-"):
        return "GKE has no such annotation: WebSockets work without one and their lifetime is the BackendConfig's timeoutSec"
    if "backend-config" in key:
        return "GKE reads backend-config only from the Service, so this BackendConfig never reaches the load balancer"
    if key.startswith("nginx.ingress.kubernetes.io/"):
        return "it belongs to ingress-nginx; the GCE controller never reads it"
    return "it is a Service annotation; GKE never reads it on an Ingress"


@resource_rule(
    "ingress-ignored-annotation",
    policy.INGRESS_IGNORED_ANNOTATIONS,
    KINDS,
    "No annotation GKE ignores on an Ingress (backend-config, websocket-*, nginx.ingress.*).",
    "ingress-gce pkg/annotations/ingress.go; pkg/backendconfig/backendconfig.go#L57",
)
def ignored_annotations(manifest: Manifest) -> Iterator[Problem]:
    for key in sorted(annotations_of(manifest)):
        if key in limits.IGNORED_INGRESS_ANNOTATIONS or key.startswith(limits.IGNORED_INGRESS_ANNOTATION_PREFIXES):
            yield Problem(
                f"carries annotation {key}, which GKE ignores on an Ingress: {_why_ignored(key)}.",
                "remove it; put timeouts and affinity in a BackendConfig referenced from the Service's cloud.google.com/backend-config annotation.",
                subject=key,
            )


@resource_rule(
    "ingress-static-ip", policy.INGRESS_SPEC, KINDS, "At most one of the global and regional static-IP annotations.", "ingress-gce pkg/loadbalancers/l7.go"
)
def one_static_ip(manifest: Manifest) -> Iterator[Problem]:
    annotations = annotations_of(manifest)
    if limits.GLOBAL_STATIC_IP_ANNOTATION in annotations and limits.REGIONAL_STATIC_IP_ANNOTATION in annotations:
        yield Problem(
            "sets both the global and the regional static IP annotation; GKE refuses to sync.",
            "keep only kubernetes.io/ingress.global-static-ip-name.",
            subject=limits.REGIONAL_STATIC_IP_ANNOTATION,
        )


@resource_rule(
    "ingress-allow-http-without-tls",
    policy.INGRESS_SPEC,
    KINDS,
    "HTTP is only turned off where a TLS certificate serves HTTPS.",
    "ingress-gce pkg/loadbalancers/l7.go",
)
def allow_http_without_tls(manifest: Manifest) -> Iterator[Problem]:
    annotations = annotations_of(manifest)
    has_tls = (
        as_list(spec_of(manifest).get("tls")) or annotations.get(limits.MANAGED_CERTIFICATES_ANNOTATION) or annotations.get(limits.PRE_SHARED_CERT_ANNOTATION)
    )
    if str(annotations.get(limits.ALLOW_HTTP_ANNOTATION, "")).lower() == "false" and not has_tls:
        yield Problem(
            "disables HTTP without any TLS certificate: the load balancer serves nothing.",
            "configure TLS (managed certificate or spec.tls) or keep allow-http true.",
            subject=limits.ALLOW_HTTP_ANNOTATION,
        )


@resource_rule("ingress-default-backend", policy.INGRESS_DEFAULT_BACKEND, KINDS, "spec.defaultBackend is set.", TRANSLATOR)
def default_backend(manifest: Manifest) -> Iterator[Problem]:
    if spec_of(manifest).get("defaultBackend") is None:
        yield Problem(
            "has no spec.defaultBackend; unmatched requests then depend on kube-system/default-http-backend, "
            "and if that is missing GKE fails the whole Ingress.",
            "set spec.defaultBackend to the application Service.",
            subject="spec.defaultBackend",
        )


@resource_rule("ingress-rule-http", policy.INGRESS_SPEC, KINDS, "Every rule has an http block.", TRANSLATOR)
def rule_has_http(manifest: Manifest) -> Iterator[Problem]:
    for i, rule in enumerate(as_list(spec_of(manifest).get("rules"))):
        if not isinstance(field_at(rule, "http"), Mapping):
            yield Problem(f"spec.rules[{i}] has no http block; GKE skips it silently.", "give every rule http.paths.", subject=f"spec.rules[{i}]")


@resource_rule("ingress-duplicate-host", policy.INGRESS_SPEC, KINDS, "One rule per host (GKE keeps only the last).", "ingress-gce pkg/utils/gceurlmap.go")
def duplicate_host(manifest: Manifest) -> Iterator[Problem]:
    hosts: dict[str, int] = {}
    for i, rule in enumerate(as_list(spec_of(manifest).get("rules"))):
        host = field_at(rule, "host") or ""
        if host in hosts:
            yield Problem(
                f"spec.rules[{i}] repeats host {host or '(any)'!r} of spec.rules[{hosts[host]}]; GKE keeps only the last one.",
                "merge the paths of both rules into one rule per host.",
                subject=f"spec.rules[{i}].host",
            )
        hosts.setdefault(host, i)


@resource_rule("ingress-path-type", policy.INGRESS_SPEC, KINDS, "Every path has a pathType GKE translates and a plain path.", TRANSLATOR)
def path_type(manifest: Manifest) -> Iterator[Problem]:
    for i, rule in enumerate(as_list(spec_of(manifest).get("rules"))):
        for j, path in enumerate(as_list(field_at(rule, "http", "paths"))):
            kind, value = field_at(path, "pathType"), field_at(path, "path")
            where = f"spec.rules[{i}].http.paths[{j}]"
            if kind not in limits.PATH_TYPES:
                yield Problem(f"{where} has pathType {kind!r}.", "use Prefix, Exact or ImplementationSpecific.", subject=where)
            elif kind in {"Exact", "Prefix"} and (not value or "*" in str(value)):
                yield Problem(
                    f"{where} path {value!r} is empty or has '*' with pathType {kind}.", "use a plain path such as / with pathType Prefix.", subject=where
                )


@resource_rule("ingress-backend-service", policy.INGRESS_SPEC, KINDS, "Every backend is a service backend.", TRANSLATOR)
def service_backends(manifest: Manifest) -> Iterator[Problem]:
    for place, backend in ingress_backends(manifest):
        if backend is None or not isinstance(backend.get("service"), Mapping):
            yield Problem(
                f"{place} is not a service backend; GKE accepts only service backends.", "route to a Service (backend.service.name and port).", subject=place
            )
