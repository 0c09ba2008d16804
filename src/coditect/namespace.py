"""The application's Namespace, with Pod Security Admission set to the restricted profile."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from coditect.base import PART_OF, child_opts, manifest, type_token
from coditect.plan import declare

# Pod Security Admission: reject pods that are not hardened, instead of only warning.
POD_SECURITY_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


class AppNamespace(pulumi.ComponentResource):
    """A Namespace that every other component is declared in (pass this object, not its name)."""

    name: str
    resource: k8s.core.v1.Namespace

    def __init__(self, resource_name: str, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("AppNamespace"), resource_name, None, opts)
        self.name = name
        metadata = k8s.meta.v1.ObjectMetaArgs(name=name, labels={**POD_SECURITY_LABELS, **PART_OF})
        self.manifest = manifest("v1", "Namespace", metadata)

        def create() -> None:
            self.resource = k8s.core.v1.Namespace(resource_name, metadata=metadata, opts=child_opts(self))
            self.register_outputs({"name": self.resource.metadata.name})

        declare(f"Namespace {name}", [self.manifest], create)
