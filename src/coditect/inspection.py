"""The last object of the stack, and the one that carries the after-up inspection hook.

The engine runs a resource's after-create/after-update hook before it reports that resource's step
done (pulumi/pulumi pkg/resource/deploy/step.go, CreateStep.Apply and UpdateStep.Apply), so a hook on
the BackendConfig, which the Service and the Ingress depend on, would wait for a translation that
cannot start until it returns. This ConfigMap depends on everything the inspection reads, so its
hook runs once, after they are applied. Its data is a digest of the BackendConfig's and the Ingress's
specs: it changes whenever either does, so the hook fires on every `up` that changes what GKE must
apply, and on no other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from coditect.backend_config import BackendConfig
from coditect.base import PART_OF, child_opts, manifest, type_token
from coditect.ingress import WebsocketIngress
from coditect.namespace import AppNamespace
from coditect.plan import declare
from coditect.service import NegService

DIGEST_KEY = "specs.sha256"


def spec_digest(backend_config_spec: Mapping[str, Any], ingress_spec: Mapping[str, Any]) -> str:
    """sha256 of both specs as canonical JSON (sorted keys): equal specs, equal digest."""
    text = json.dumps({"backendConfig": backend_config_spec, "ingress": ingress_spec}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class InspectionMarker(pulumi.ComponentResource):
    """A ConfigMap `<ingress name>-inspection` declared after the BackendConfig, the Service and the
    Ingress; `hooks` (the inspection) is bound to it and to nothing that others depend on."""

    name: str
    digest: str
    resource: k8s.core.v1.ConfigMap

    def __init__(
        self,
        resource_name: str,
        namespace: AppNamespace,
        backend_config: BackendConfig,
        service: NegService,
        ingress: WebsocketIngress,
        hooks: pulumi.ResourceHookBinding | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("InspectionMarker"), resource_name, None, opts)
        self.name = f"{ingress.name}-inspection"
        # The declared specs: exactly what the BackendConfig and the Ingress are given as inputs.
        self.digest = spec_digest(backend_config.spec, ingress.manifest["spec"])
        metadata = k8s.meta.v1.ObjectMetaArgs(name=self.name, namespace=namespace.name, labels=dict(PART_OF))
        data = {DIGEST_KEY: self.digest}
        self.manifest = manifest("v1", "ConfigMap", metadata, data=data)

        def create() -> None:
            self.resource = k8s.core.v1.ConfigMap(
                resource_name, metadata=metadata, data=data, opts=child_opts(self, [namespace, backend_config, service, ingress], hooks=hooks)
            )
            self.register_outputs({"name": self.resource.metadata.name})

        declare(f"ConfigMap {namespace.name}/{self.name}", [self.manifest], create)
