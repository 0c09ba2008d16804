"""The probe Job: its pod carries the IDE pods' labels, service account and runtime class (from the
rendered Deployment that runs user code), so the same NetworkPolicies select it and it lands where
the IDE pods land; it is restricted-compliant, bounded in time and resources, and serves nothing.

Why the pod cannot take the IDE's traffic although the Service selects it: it declares no container
port, and the Service's targetPort is a port name, which resolves on no pod without that port (the
endpoints controllers skip such pods). build_job refuses a stack whose selecting Service uses a
number, which would make the probe pod an endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from coditect.gke.limits import RUNS_USER_CODE_LABEL
from ops.errors import UsageError
from ops.probe.script import SCRIPT
from ops.probe.table import Probe

Manifest = Mapping[str, Any]
PROBE_LABEL = "coditect.ai/probe"  # the run's name, on the Job and its pod: how the pod is found
CONTAINER = "probe"
DEFAULT_IMAGE = "python:3.13-alpine"
NOBODY = 65534  # when the IDE pods name no user
RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}}
# Copied from the IDE pod template when set: who the pod is, where it may run, what it may reach.
COPIED = ("serviceAccountName", "automountServiceAccountToken", "runtimeClassName", "nodeSelector", "tolerations", "enableServiceLinks", "dnsPolicy")


def _meta(manifest: Manifest) -> Mapping[str, Any]:
    return manifest.get("metadata") or {}


def user_code_deployment(manifests: Iterable[Manifest]) -> Manifest:
    """The one Deployment whose pods run user code (pod template labelled coditect.ai/runs-user-code: "true")."""
    found = [
        m
        for m in manifests
        if m.get("kind") == "Deployment"
        and ((m.get("spec") or {}).get("template", {}).get("metadata", {}).get("labels") or {}).get(RUNS_USER_CODE_LABEL) == "true"
    ]
    if len(found) != 1:
        raise UsageError(f'the stack declares {len(found)} Deployments labelled {RUNS_USER_CODE_LABEL}: "true"; the probe imitates exactly one')
    return found[0]


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _refuse_numeric_target_ports(manifests: Iterable[Manifest], namespace: str, labels: Mapping[str, str]) -> None:
    for service in manifests:
        if service.get("kind") != "Service" or _meta(service).get("namespace") != namespace:
            continue
        if not _selects((service.get("spec") or {}).get("selector") or {}, labels):
            continue
        numeric = [p for p in service["spec"].get("ports") or [] if not isinstance(p.get("targetPort", p.get("port")), str)]
        if numeric:
            raise UsageError(
                f"Service {namespace}/{_meta(service).get('name')} selects the IDE pods with a numeric targetPort "
                f"({numeric[0].get('targetPort', numeric[0].get('port'))}): the probe pod would receive its traffic. "
                "Name the container port and target it by name"
            )


def build_job(
    manifests: Iterable[Manifest],
    table: Iterable[Probe],
    name: str,
    image: str = DEFAULT_IMAGE,
    probe_timeout: float = 3.0,
    deadline: int = 120,
    ttl: int = 300,
) -> dict[str, Any]:
    manifests = list(manifests)
    deployment = user_code_deployment(manifests)
    namespace = str(_meta(deployment).get("namespace"))
    template = deployment["spec"]["template"]
    ide_spec: Mapping[str, Any] = template.get("spec") or {}
    labels = {**(template.get("metadata", {}).get("labels") or {}), PROBE_LABEL: name}
    _refuse_numeric_target_ports(manifests, namespace, labels)
    ide_security = ide_spec.get("securityContext") or {}
    user = int(ide_security.get("runAsUser") or NOBODY)
    seccomp = {"type": "RuntimeDefault"}
    pod_spec: dict[str, Any] = {
        **{key: ide_spec[key] for key in COPIED if key in ide_spec},
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "runAsUser": user, "runAsGroup": int(ide_security.get("runAsGroup") or user), "seccompProfile": seccomp},
        "containers": [
            {
                "name": CONTAINER,
                "image": image,
                "command": ["python3", "-I", "-B", "-c", SCRIPT, json.dumps([p.as_dict() for p in table]), f"{probe_timeout:g}"],
                "env": [{"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}],
                "resources": RESOURCES,
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "privileged": False,
                    "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": seccomp,
                },
            }
        ],
    }
    job_labels = {"app.kubernetes.io/name": "coditect-probe", "app.kubernetes.io/part-of": "coditect", PROBE_LABEL: name}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": job_labels},
        "spec": {
            "backoffLimit": 0,  # one run: a retry would only repeat the same answers later
            "activeDeadlineSeconds": deadline,
            "ttlSecondsAfterFinished": ttl,  # the cluster removes it even if this command is killed before it deletes it
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }
