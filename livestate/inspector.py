"""One inspection (read live, judge, diagnose) and its polling: what `ops inspect` and the after-up
hook both run. The Compute and Container readers, and with them their clients' imports (seconds), are
made on first use, for the layers asked: the cluster layer alone never loads the Compute client, the
hook's layers never the Container client (which is not in the deploy lock)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livestate import preconditions
from livestate.checks import all_checks, leftovers
from livestate.container import cluster_of
from livestate.desired import Desired, StackTarget
from livestate.diagnosis import Diagnosis, diagnose
from livestate.model import Check, Layer, Unreachable

if TYPE_CHECKING:
    from livestate.compute import ComputeReader
    from livestate.container import ClusterReader
    from livestate.kube import KubeReader

# The Gateway's layers read the Gateway and what GKE built for it, when the program declares one; every other layer
# but the cluster reads the Ingress and what GKE built for it (Kubernetes and Compute).
GATEWAY_LAYERS = frozenset({Layer.GATEWAY_TRANSLATION, Layer.GATEWAY_POLICIES, Layer.GATEWAY_FRONT_END})
LOAD_BALANCER_LAYERS = frozenset(Layer) - {Layer.CLUSTER} - GATEWAY_LAYERS


@dataclass
class Inspection:
    stack: str
    context: str
    project: str
    checks: list[Check] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    polls: int = 1
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        return all(c.ok for c in self.checks)

    def layers(self) -> dict[Layer, bool]:
        """Per layer: converged or not (the --wait progress line)."""
        return {layer: all(c.ok for c in self.checks if c.layer is layer) for layer in Layer if any(c.layer is layer for c in self.checks)}


class Inspector:
    """Reads through the official clients; one per command (or hook), reused across polls. A reader
    (and its client's import) is made on first use."""

    def __init__(
        self,
        desired: Desired,
        target: StackTarget,
        kubeconfig: str | None,
        gcp_endpoint: str | None,
        timeout: float,
        *,
        compute_endpoint: str | None = None,
        container_endpoint: str | None = None,
    ) -> None:
        self.desired, self.target = desired, target
        self._kubeconfig, self._timeout = kubeconfig, timeout
        # Private Service Connect gives each Google API its own endpoint
        # (https://cloud.google.com/vpc/docs/configure-private-service-connect-apis): one per API, else the shared one.
        self._compute_endpoint, self._container_endpoint = compute_endpoint or gcp_endpoint, container_endpoint or gcp_endpoint
        self._readers: dict[str, Any] = {}
        self.kube  # the kubeconfig is judged (and its plugin run) when the inspector is made, not at the first poll  # noqa: B018

    @property
    def kube(self) -> KubeReader:
        if "kube" not in self._readers:
            from livestate.kube import KubeReader

            self._readers["kube"] = KubeReader(self.target.context, self._kubeconfig, self._timeout)
        reader: KubeReader = self._readers["kube"]
        return reader

    @property
    def compute(self) -> ComputeReader:
        if "compute" not in self._readers:
            from livestate.compute import ComputeReader

            self._readers["compute"] = ComputeReader(self.target.project, self._compute_endpoint, self._timeout)
        reader: ComputeReader = self._readers["compute"]
        return reader

    @property
    def container(self) -> ClusterReader:
        if "container" not in self._readers:
            from livestate.container import ClusterReader

            self._readers["container"] = ClusterReader(self._container_endpoint, self._timeout)
        reader: ClusterReader = self._readers["container"]
        return reader

    def inspect(self, stack: str, layers: Collection[Layer] = tuple(Layer)) -> Inspection:
        started = time.perf_counter()
        declaration = self.target.cluster if Layer.CLUSTER in layers else None
        cluster = self._cluster_checks(declaration) if declaration else []  # first: every layer above stands on it
        checks: list[Check] = []
        if LOAD_BALANCER_LAYERS & set(layers) and self.desired.has_ingress:
            from livestate.live import read_live

            checks = [c for c in all_checks(self.desired, read_live(self.desired, self.kube, self.compute)) if c.layer in layers]
        elif Layer.LEFTOVERS in layers:  # the Gateway alone: no Ingress to judge, but any still live is a leftover
            from livestate.live import read_leftovers

            checks = list(leftovers(self.desired, read_leftovers(self.desired, self.kube)))
        diagnoses = diagnose(checks)
        if self.desired.gateway is not None and GATEWAY_LAYERS & set(layers):
            gateway_checks, gateway_diagnoses = self._gateway_checks(layers)
            checks, diagnoses = checks + gateway_checks, diagnoses + gateway_diagnoses
        if declaration:
            checks, diagnoses = cluster + checks, preconditions.diagnoses(cluster, declaration, cluster_of(self.target.context)) + diagnoses
        return Inspection(stack, self.target.context, self.target.project, checks, diagnoses, seconds=time.perf_counter() - started)

    def _gateway_checks(self, layers: Collection[Layer]) -> tuple[list[Check], list[Diagnosis]]:
        """The Gateway front door, judged with the same verdict rule as the Ingress (every check ok)."""
        from livestate.gateway import read_gateway, read_load_balancer
        from livestate.gateway_checks import gateway_checks
        from livestate.gateway_diagnosis import diagnose_gateway

        want = self.desired.gateway
        assert want is not None
        live = read_gateway(self.kube, want.namespace, want.name, [r.name for r in want.routes], want.services)
        if live.gateway is not None:
            backends = list({service: (service, port) for r in want.routes for service, port in r.backends}.values())
            read_load_balancer(live, backends, want.address, self.compute)
        checks = [c for c in gateway_checks(want, live) if c.layer in layers]
        return checks, diagnose_gateway(want, live, checks)

    def _cluster_checks(self, declaration: preconditions.ClusterDeclaration) -> list[Check]:
        ref = cluster_of(self.target.context)
        return list(preconditions.cluster_checks(declaration, ref, self.container.get(ref) if ref else None))

    def close(self) -> None:
        if "kube" in self._readers:
            self._readers["kube"].close()


def poll(
    inspect: Callable[[], Inspection],
    wait: float,
    interval: float,
    on_poll: Callable[[Inspection, float], object],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Inspection:
    """Inspect until converged or `wait` seconds have passed; AccessDenied stops at once, Unreachable
    only when the time is up."""
    start, polls = clock(), 0
    while True:
        polls += 1
        try:
            inspection = inspect()
        except Unreachable:
            if clock() - start + interval > wait:
                raise
            sleep(interval)
            continue
        inspection.polls, inspection.seconds = polls, clock() - start if wait else inspection.seconds
        if wait:
            on_poll(inspection, clock() - start)
        if inspection.converged or clock() - start + interval > wait:
            return inspection
        sleep(interval)
