"""Per-container hygiene of workloads: probes, resources, a hardened security context, pinned images."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import policies as policy
from ..manifest import WORKLOAD_KINDS, Manifest, as_list, containers, field_at, is_digest_pinned, mapping_at, pod_spec
from ..model import Problem
from ..registry import resource_rule

KINDS = tuple(sorted(WORKLOAD_KINDS))
POD_SECURITY = "Kubernetes Pod Security Standards, restricted profile"


@resource_rule(
    "image-digest", policy.IMAGE_DIGEST, KINDS, "Every image is pinned by digest (repository@sha256:<64 hex>).", "Kubernetes images docs: image pull by digest"
)
def image_digest(manifest: Manifest) -> Iterator[Problem]:
    for container in containers(manifest):
        image = container.get("image")
        if not is_digest_pinned(image):
            yield Problem(
                f"container {container.get('name')!r} image {image!r} is not pinned by digest, so a re-pushed tag changes what runs.",
                "reference the image as repository@sha256:<64 hex digits>.",
                subject=str(container.get("name")),
            )


@resource_rule("container-probes", policy.CONTAINER_HARDENING, KINDS, "Every container has a readiness and a liveness probe.", "Kubernetes pod lifecycle docs")
def probes(manifest: Manifest) -> Iterator[Problem]:
    for container in containers(manifest):
        for probe in ("readinessProbe", "livenessProbe"):
            if not isinstance(container.get(probe), Mapping):
                yield Problem(
                    f"container {container.get('name')!r} has no {probe}.",
                    f"add an httpGet {probe} on the container's health endpoint.",
                    subject=str(container.get("name")),
                )


@resource_rule(
    "container-resources", policy.CONTAINER_HARDENING, KINDS, "Every container sets cpu and memory requests and limits.", "Kubernetes resource management docs"
)
def resources(manifest: Manifest) -> Iterator[Problem]:
    for container in containers(manifest):
        for kind in ("requests", "limits"):
            values = field_at(container, "resources", kind)
            if not (isinstance(values, Mapping) and values.get("cpu") is not None and values.get("memory") is not None):
                yield Problem(
                    f"container {container.get('name')!r} has no cpu and memory {kind}.",
                    f"set resources.{kind}.cpu and resources.{kind}.memory.",
                    subject=str(container.get("name")),
                )


def _security_gaps(container: Mapping[str, Any], pod_security: Mapping[str, Any]) -> list[str]:
    context = mapping_at(container, "securityContext")
    gaps = []
    if context.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is not True:
        gaps.append("runAsNonRoot is not true")
    if context.get("allowPrivilegeEscalation") is not False:
        gaps.append("allowPrivilegeEscalation is not false")
    if context.get("readOnlyRootFilesystem") is not True:
        gaps.append("readOnlyRootFilesystem is not true")
    if "ALL" not in [str(c) for c in as_list(field_at(context, "capabilities", "drop"))]:
        gaps.append("capabilities are not all dropped")
    if field_at(context.get("seccompProfile", pod_security.get("seccompProfile")), "type") not in {"RuntimeDefault", "Localhost"}:
        gaps.append("no RuntimeDefault seccomp profile")
    return gaps


@resource_rule(
    "container-security-context",
    policy.CONTAINER_HARDENING,
    KINDS,
    "Non-root, no privilege escalation, read-only root, all capabilities dropped, RuntimeDefault seccomp.",
    POD_SECURITY,
)
def security_context(manifest: Manifest) -> Iterator[Problem]:
    pod_security = mapping_at(pod_spec(manifest), "securityContext")
    for container in containers(manifest):
        gaps = _security_gaps(container, pod_security)
        if gaps:
            yield Problem(
                f"container {container.get('name')!r}: {'; '.join(gaps)}.",
                "harden the securityContext (non-root, no privilege escalation, read-only root, drop ALL, RuntimeDefault seccomp).",
                subject=str(container.get("name")),
            )
