"""Reading Kubernetes manifests (plain camelCase mappings, as ``kubectl`` would read them).

Every accessor tolerates any shape: rules get ``None`` or an empty value where a field is missing
or has the wrong type, and report that as a finding instead of raising. Accessors accept any
``Mapping``/``Sequence``, so the policy pack can hand in the engine's read-only proxies unchanged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import limits
from .findings import resource_id

Manifest = Mapping[str, Any]

# Kinds, by the (apiVersion-independent) kind name used in manifests.
DEPLOYMENT = "Deployment"
SERVICE = "Service"
INGRESS = "Ingress"
BACKEND_CONFIG = "BackendConfig"
FRONTEND_CONFIG = "FrontendConfig"
MANAGED_CERTIFICATE = "ManagedCertificate"
HPA = "HorizontalPodAutoscaler"
PDB = "PodDisruptionBudget"
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"})
SECURITY_POLICY = "SecurityPolicy"
SSL_POLICY = "SslPolicy"
# Objects that live outside any Kubernetes namespace: findings name them without one.
CLUSTER_SCOPED_KINDS = frozenset({"Namespace", SECURITY_POLICY, SSL_POLICY})
# Google Cloud resources the rules judge, by Pulumi type token. Their inputs (the provider's camelCase
# names, as the policy pack and the mocks see them) become the spec of a manifest-shaped view.
GCP_KINDS = {"gcp:compute/securityPolicy:SecurityPolicy": SECURITY_POLICY, "gcp:compute/sSLPolicy:SSLPolicy": SSL_POLICY}
GCP_API_VERSION = "compute.googleapis.com/v1"
# A workload's replica count when spec.replicas is absent and no autoscaler owns it (apps/v1 API:
# "Defaults to 1").
DEFAULT_REPLICAS = 1


def field_at(value: Any, *path: str | int) -> Any:
    """value[path[0]][path[1]]..., or None where any step is missing or of the wrong shape."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, Sequence) or isinstance(value, str) or step >= len(value):
                return None
            value = value[step]
        elif not isinstance(value, Mapping):
            return None
        else:
            value = value.get(step)
    return value


def mapping_at(value: Any, *path: str | int) -> Mapping[str, Any]:
    """The mapping at ``path``, or an empty one."""
    found = field_at(value, *path)
    return found if isinstance(found, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def as_number(value: Any) -> float | None:
    """Numbers arrive as int, float (protobuf Struct) or not at all; booleans are not numbers, nor are nan and
    inf (no GKE field takes them; YAML's .nan/.inf would otherwise crash int() in every rule comparing them)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float's range
        return None
    return number if math.isfinite(number) else None


def format_number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return str(int(value)) if value == int(value) else str(value)


def port_key(value: Any) -> str | None:
    """A port as compared across objects: numbers as their digits, names as themselves."""
    number = as_number(value)
    if number is not None:
        return format_number(number)
    return str(value) if value is not None else None


def is_kubernetes_type(resource_type: str) -> bool:
    return resource_type.startswith("kubernetes:") and not resource_type.startswith("pulumi:providers:")


def is_judged_type(resource_type: str) -> bool:
    """Whether the rules judge resources of this Pulumi type at all."""
    return is_kubernetes_type(resource_type) or resource_type in GCP_KINDS


def gcp_manifest(kind: str, props: Mapping[str, Any]) -> Manifest:
    """A Google Cloud resource's inputs as the manifest-shaped view rules read."""
    return {"apiVersion": GCP_API_VERSION, "kind": kind, "metadata": {"name": props.get("name")}, "spec": props}


def as_manifest(resource_type: str, props: Mapping[str, Any]) -> Manifest | None:
    """What the rules judge of a resource the program registers: a Kubernetes object as it is, a
    Google Cloud resource the rules know as its manifest-shaped view, anything else not at all."""
    if is_kubernetes_type(resource_type):
        return props
    kind = GCP_KINDS.get(resource_type)
    return gcp_manifest(kind, props) if kind is not None else None


def name_of(manifest: Manifest) -> str:
    return str(field_at(manifest, "metadata", "name") or "<unnamed>")


def namespace_of(manifest: Manifest) -> str:
    return str(field_at(manifest, "metadata", "namespace") or "default")


def kind_of(manifest: Manifest) -> str:
    return str(manifest.get("kind") or "")


def reference(manifest: Manifest) -> str:
    """How findings name the object: ``Kind namespace/name`` (``Kind name`` when cluster-scoped)."""
    namespaced = kind_of(manifest) not in CLUSTER_SCOPED_KINDS
    return resource_id(kind_of(manifest), name_of(manifest), namespace_of(manifest) if namespaced else None)


def annotations_of(manifest: Manifest) -> Mapping[str, Any]:
    return mapping_at(manifest, "metadata", "annotations")


def spec_of(manifest: Manifest) -> Mapping[str, Any]:
    return mapping_at(manifest, "spec")


def parse_json_annotation(value: Any) -> Any:
    """The decoded JSON of an annotation value, or None when it is not JSON."""
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


# --- Service -----------------------------------------------------------------------------------


def service_ports(manifest: Manifest) -> list[Mapping[str, Any]]:
    return [p for p in as_list(field_at(manifest, "spec", "ports")) if isinstance(p, Mapping)]


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


# --- Ingress -----------------------------------------------------------------------------------


def ingress_backends(manifest: Manifest) -> list[tuple[str, Mapping[str, Any] | None]]:
    """(where in the spec, backend) for spec.defaultBackend and every rule path."""
    spec = spec_of(manifest)
    found: list[tuple[str, Mapping[str, Any] | None]] = []
    if spec.get("defaultBackend") is not None:
        found.append(("spec.defaultBackend", spec.get("defaultBackend")))
    for i, rule in enumerate(as_list(spec.get("rules"))):
        for j, path in enumerate(as_list(field_at(rule, "http", "paths"))):
            backend = field_at(path, "backend")
            found.append((f"spec.rules[{i}].http.paths[{j}]", backend if isinstance(backend, Mapping) else None))
    return found


# --- workloads ---------------------------------------------------------------------------------


def pod_spec(manifest: Manifest) -> Mapping[str, Any]:
    return mapping_at(manifest, "spec", "template", "spec")


def pod_labels(manifest: Manifest) -> Mapping[str, Any]:
    return mapping_at(manifest, "spec", "template", "metadata", "labels")


def containers(manifest: Manifest) -> list[Mapping[str, Any]]:
    return [c for c in as_list(pod_spec(manifest).get("containers")) if isinstance(c, Mapping)]


# An image reference, per the distribution/reference grammar (docker/distribution reference/regexp.go):
# [domain[:port]/]path[:tag][@digest]; a sha256 digest is 64 lower-case hex digits (OCI image spec).
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?)/)?"
    rf"(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"  # the grammar's \w is ASCII (distribution/reference)
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
IMAGE_NAME_MAX = 255  # the name part (domain and path)


@dataclass(frozen=True)
class ImageReference:
    name: str
    tag: str | None
    digest: str | None


def parse_image(image: Any) -> ImageReference | None:
    """The parts of a valid image reference, or None for anything else."""
    if not isinstance(image, str):
        return None
    match = IMAGE_REFERENCE.fullmatch(image)  # not match: `$` also matches before a final newline
    if match is None:
        return None
    name = f"{match['domain']}/{match['path']}" if match["domain"] else match["path"]
    if len(name) > IMAGE_NAME_MAX:
        return None
    return ImageReference(name, match["tag"], match["digest"])


def is_digest_pinned(image: Any) -> bool:
    reference = parse_image(image)
    return reference is not None and reference.digest is not None


def selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """A non-empty equality selector matches these labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
