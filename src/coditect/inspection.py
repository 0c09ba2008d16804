"""The last object of the stack, and the one that carries the after-up inspection hook.

The engine runs a resource's after-create/after-update hook before it reports that resource's step
done (pulumi/pulumi pkg/resource/deploy/step.go, CreateStep.Apply and UpdateStep.Apply), so a hook on
the BackendConfig, which the Service and the Ingress depend on, would wait for a translation that
cannot start until it returns. This ConfigMap depends on everything the inspection reads, so its
hook runs once, after they are applied: the Service and each front door the stack declares (the
Ingress with its BackendConfig, the Gateway with its routes and policies). Its data is a digest of
those front doors' specs: it changes whenever one does, so the hook fires on every `up` that changes
what GKE must apply, and on no other. With the Ingress alone the digest is what it always was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from coditect.backend_config import BackendConfig
from coditect.base import PART_OF, InvariantError, child_opts, manifest, type_token
from coditect.gateway import WebsocketGateway
from coditect.ingress import WebsocketIngress
from coditect.namespace import AppNamespace
from coditect.plan import declare
from coditect.service import NegService

DIGEST_KEY = "specs.sha256"


def spec_digest(
    backend_config_spec: Mapping[str, Any] | None, ingress_spec: Mapping[str, Any] | None, gateway_manifests: Sequence[Mapping[str, Any]] = ()
) -> str:
    """sha256 of the front doors' specs as canonical JSON (sorted keys): equal specs, equal digest. A door the
    stack does not declare adds no key (the Ingress's digest stays as before the Gateway existed)."""
    doors: dict[str, Any] = {}
    if ingress_spec is not None:
        doors.update(backendConfig=backend_config_spec, ingress=ingress_spec)
    if gateway_manifests:
        doors["gateway"] = [{"kind": m["kind"], "name": m["metadata"]["name"], "spec": m["spec"]} for m in gateway_manifests]
    text = json.dumps(doors, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class InspectionMarker(pulumi.ComponentResource):
    """A ConfigMap `<ingress name>-inspection` (`<gateway name>-inspection` with the Gateway alone) declared
    after the Service and every front door; `hooks` (the inspection) is bound to it and to nothing that
    others depend on."""

    name: str
    digest: str
    resource: k8s.core.v1.ConfigMap

    def __init__(
        self,
        resource_name: str,
        namespace: AppNamespace,
        backend_config: BackendConfig | None,
        service: NegService,
        ingress: WebsocketIngress | None,
        hooks: pulumi.ResourceHookBinding | None = None,
        opts: pulumi.ResourceOptions | None = None,
        gateway: WebsocketGateway | None = None,
    ) -> None:
        super().__init__(type_token("InspectionMarker"), resource_name, None, opts)
        where = f"InspectionMarker in namespace {namespace.name}"
        if ingress is not None:
            self.name = f"{ingress.name}-inspection"
        elif gateway is not None:
            self.name = f"{gateway.name}-inspection"
        else:
            raise InvariantError(f"{where}: no front door to inspect. Fix: declare it with the Ingress, the Gateway or both (frontDoors)")
        if ingress is not None and backend_config is None:
            raise InvariantError(f"{where}: the Ingress {ingress.name} has no BackendConfig to prove. Fix: pass the Ingress's BackendConfig")
        # The declared specs: exactly what the BackendConfig, the Ingress and the Gateway's objects are given as inputs.
        self.digest = spec_digest(
            backend_config.spec if backend_config is not None else None,
            ingress.manifest["spec"] if ingress is not None else None,
            gateway.manifests if gateway is not None else (),
        )
        metadata = k8s.meta.v1.ObjectMetaArgs(name=self.name, namespace=namespace.name, labels=dict(PART_OF))
        data = {DIGEST_KEY: self.digest}
        self.manifest = manifest("v1", "ConfigMap", metadata, data=data)

        # Everything the inspection reads, so the hook runs after all of it is applied.
        depended = [r for r in (namespace, backend_config, service, ingress, gateway) if r is not None]

        def create() -> None:
            self.resource = k8s.core.v1.ConfigMap(resource_name, metadata=metadata, data=data, opts=child_opts(self, depended, hooks=hooks))
            self.register_outputs({"name": self.resource.metadata.name})

        declare(f"ConfigMap {namespace.name}/{self.name}", [self.manifest], create)
