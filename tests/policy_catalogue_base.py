"""The valid baseline every catalogue case starts from, and the helpers that declare and break it.

The baseline (Namespace, Deployment, BackendConfig, Service, Ingress) is written as plain manifests,
as people copy them from YAML; a case is the baseline plus one mutation built from the helpers here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

NS = "coditect-app"
DIGEST = "us-docker.pkg.dev/coditect/app/nginx@sha256:" + "0" * 64
Manifests = dict[str, dict[str, Any]]


def baseline() -> Manifests:
    labels = {"app": "web"}
    container = {
        "name": "nginx",
        "image": DIGEST,
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "60"]}}},
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }

    def backend() -> dict[str, Any]:
        return {"service": {"name": "web", "port": {"name": "http"}}}

    return {
        "namespace": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        "deployment": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"terminationGracePeriodSeconds": 120, "containers": [container]}},
            },
        },
        "backend_config": {
            "apiVersion": "cloud.google.com/v1",
            "kind": "BackendConfig",
            "metadata": {"name": "web-bc", "namespace": NS},
            "spec": {
                "timeoutSec": 86400,
                "connectionDraining": {"drainingTimeoutSec": 60},
                "sessionAffinity": {"affinityType": "CLIENT_IP"},
                "healthCheck": {"type": "HTTP", "requestPath": "/healthz", "port": 8080, "checkIntervalSec": 15, "timeoutSec": 5},
                "securityPolicy": {"name": ""},
                "logging": {"enable": True, "sampleRate": 1.0},
            },
        },
        "service": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "web",
                "namespace": NS,
                "annotations": {"cloud.google.com/neg": '{"ingress": true}', "cloud.google.com/backend-config": '{"default": "web-bc"}'},
            },
            "spec": {"type": "ClusterIP", "selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        },
        "ingress": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "web", "namespace": NS, "annotations": {"kubernetes.io/ingress.class": "gce"}},
            "spec": {
                "defaultBackend": backend(),
                "rules": [{"host": "coditect.ai", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend()}]}}],
            },
        },
    }


# Google Cloud resources the rules judge, declared raw from the spec of their manifest-shaped view
# (single-word keys, so the Python inputs and the wire names agree; minTlsVersion is translated).
GCP_KINDS: dict[str, Callable[..., object]] = {
    "SecurityPolicy": gcp.compute.SecurityPolicy,
    "SslPolicy": lambda key, minTlsVersion, **spec: gcp.compute.SSLPolicy(key, min_tls_version=minTlsVersion, **spec),
}


def gcp_object(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "compute.googleapis.com/v1", "kind": kind, "metadata": {"name": spec["name"]}, "spec": spec}


def declare(manifests: Manifests) -> None:
    """Declare manifests as raw pulumi_kubernetes resources, outside any component."""
    classes = {
        "Namespace": k8s.core.v1.Namespace,
        "Deployment": k8s.apps.v1.Deployment,
        "Service": k8s.core.v1.Service,
        "Ingress": k8s.networking.v1.Ingress,
        "HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
        "PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
        "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
    }
    for key, m in manifests.items():
        if m["kind"] in GCP_KINDS:
            GCP_KINDS[m["kind"]](key, **m["spec"])
        elif m["kind"] == "ServiceAccount":
            k8s.core.v1.ServiceAccount(key, metadata=m["metadata"], automount_service_account_token=m.get("automountServiceAccountToken"))
        elif m["kind"] == "Secret":
            k8s.core.v1.Secret(key, metadata=m["metadata"], type=m.get("type"))
        elif m["kind"] == "RoleBinding":
            k8s.rbac.v1.RoleBinding(key, metadata=m["metadata"], role_ref=m["roleRef"], subjects=m["subjects"])
        elif m["kind"] not in classes and m["kind"] != "Namespace":  # GKE custom resources
            k8s.apiextensions.CustomResource(key, api_version=m["apiVersion"], kind=m["kind"], metadata=m["metadata"], spec=m["spec"])
        elif m["kind"] == "Namespace":
            k8s.core.v1.Namespace(key, metadata=m["metadata"])
        else:
            classes[m["kind"]](key, metadata=m["metadata"], spec=m["spec"])


@dataclass(frozen=True)
class Case:
    name: str
    rule: str  # the one gke rule id that must fire (mandatory)
    fragment: str  # part of the violation message
    breaks: Callable[[Manifests], None]
    stack: str = "dev"
    also: frozenset[str] = frozenset()  # other rules the same break rightly fires (one wrong value, two rules)
    schema: str | None = None  # part of the CRD schema/CEL refusal when the API server rejects the break as well

    def manifests(self) -> Manifests:
        manifests = copy.deepcopy(baseline())
        self.breaks(manifests)
        return manifests


def set_at(path: str, value: Any) -> Callable[[Manifests], None]:
    """A mutation that sets manifests[key][a][b]... (dotted path; integers index lists)."""
    key, *steps = path.split(".")

    def apply(manifests: Manifests) -> None:
        node: Any = manifests[key]
        for step in steps[:-1]:
            node = node[int(step)] if step.isdigit() else node.setdefault(step, {})
        last = steps[-1]
        if value is DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return apply


DELETE = object()


def all_of(*mutations: Callable[[Manifests], object]) -> Callable[[Manifests], None]:
    def apply(manifests: Manifests) -> None:
        for mutate in mutations:
            mutate(manifests)

    return apply


def add(key: str, manifest: dict[str, Any]) -> Callable[[Manifests], None]:
    return lambda manifests: manifests.__setitem__(key, manifest)
