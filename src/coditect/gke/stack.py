"""The stack as stack rules see it: objects indexed by kind and (namespace, name), and the
references GKE resolves by name at translation time (ingress-gce pkg/translator/translator.go), computed once per evaluation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from .manifest import (
    BACKEND_CONFIG,
    DEFAULT_REPLICAS,
    HPA,
    INGRESS,
    SERVICE,
    WORKLOAD_KINDS,
    Manifest,
    as_number,
    field_at,
    ingress_backends,
    kind_of,
    name_of,
    namespace_of,
    pod_labels,
    reference,
    selects,
)

Key = tuple[str, str]  # (namespace, name)


class StackView:
    def __init__(self, manifests: Sequence[Manifest]) -> None:
        self.manifests = list(manifests)
        self.by_kind: dict[str, list[Manifest]] = {}
        for manifest in self.manifests:
            self.by_kind.setdefault(kind_of(manifest), []).append(manifest)

    def of_kind(self, kind: str) -> list[Manifest]:
        return self.by_kind.get(kind, [])

    def index(self, kind: str) -> dict[Key, Manifest]:
        return {(namespace_of(m), name_of(m)): m for m in self.of_kind(kind)}

    @cached_property
    def services(self) -> dict[Key, Manifest]:
        return self.index(SERVICE)

    @cached_property
    def backend_configs(self) -> dict[Key, Manifest]:
        return self.index(BACKEND_CONFIG)

    @cached_property
    def workloads(self) -> list[Manifest]:
        return [m for m in self.manifests if kind_of(m) in WORKLOAD_KINDS]

    def selected_workloads(self, service: Manifest) -> list[Manifest]:
        selector = field_at(service, "spec", "selector")
        if not isinstance(selector, Mapping):
            return []
        return [w for w in self.workloads if namespace_of(w) == namespace_of(service) and selects(selector, pod_labels(w))]

    @cached_property
    def ingress_routes(self) -> list[tuple[Manifest, str, Mapping[str, Any]]]:
        """(Ingress, where in its spec, backend.service) for every service backend."""
        routes = []
        for ingress in self.of_kind(INGRESS):
            for place, backend in ingress_backends(ingress):
                service_ref = field_at(backend, "service")
                if isinstance(service_ref, Mapping):
                    routes.append((ingress, place, service_ref))
        return routes

    @cached_property
    def ingress_users(self) -> dict[Key, list[str]]:
        """Declared Services behind an Ingress -> the Ingresses routing to them."""
        users: dict[Key, list[str]] = {}
        for ingress, _, service_ref in self.ingress_routes:
            key = (namespace_of(ingress), str(service_ref.get("name")))
            if key in self.services:
                users.setdefault(key, []).append(reference(ingress))
        return users

    def autoscaler_of(self, workload: Manifest) -> Manifest | None:
        for hpa in self.of_kind(HPA):
            target = field_at(hpa, "spec", "scaleTargetRef")
            if namespace_of(hpa) == namespace_of(workload) and field_at(target, "kind") == kind_of(workload) and field_at(target, "name") == name_of(workload):
                return hpa
        return None

    def most_replicas(self, workload: Manifest) -> tuple[float, str]:
        """The most pods the workload can run, and why: spec.replicas, else its autoscaler's
        maxReplicas, else Kubernetes' default of 1."""
        replicas = as_number(field_at(workload, "spec", "replicas"))
        if replicas is not None:
            return replicas, "runs"
        hpa = self.autoscaler_of(workload)
        if hpa is not None:
            maximum = as_number(field_at(hpa, "spec", "maxReplicas"))
            return (maximum if maximum is not None else float("inf")), f"is scaled by {reference(hpa)} up to"
        return float(DEFAULT_REPLICAS), "runs"
