"""From failing checks to causes and fixes. Every diagnosis names the resource, the field, the live
value and the desired one; the rules below recognise the failures seen in practice (the incident
first) and everything else gets the generic line."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from livestate.model import Check, Layer, Status
from livestate.oneline import fold

MISSING_SERVICE = re.compile(r'could not find service "(?P<service>[^"]+)"')
# The BackendConfig fields whose drift means "GKE has not applied the BackendConfig".
BACKEND_CONFIG_METRICS = {"session affinity", "affinity cookie TTL", "backend timeout (s)", "connection draining (s)"}


@dataclass(frozen=True)
class Diagnosis:
    cause: str
    fix: str
    resource: str
    field: str
    live: str
    desired: str

    def text(self) -> str:
        """Three lines, each field folded onto its own (livestate/oneline.py): live values, and causes that quote
        them, come from the cluster and Google Cloud; as_dict keeps them exact."""
        cause, resource, field, live, desired, fix = map(fold, (self.cause, self.resource, self.field, self.live, self.desired, self.fix))
        return f"{cause}\n    {resource} {field}: live {live}, desired {desired}\n    fix: {fix}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _of(check: Check, cause: str, fix: str) -> Diagnosis:
    return Diagnosis(cause, fix, check.resource, check.field, check.live, check.target)


def _not_applied(drift: list[Check]) -> str:
    return ", ".join(f"{c.field} {c.live} (desired {c.target})" for c in drift)


def diagnose(checks: list[Check]) -> list[Diagnosis]:
    failing = [c for c in checks if not c.ok]
    found: list[Diagnosis] = []
    used: set[int] = set()
    bc_drift = [c for c in failing if c.layer is Layer.BACKEND_CONFIG and c.metric in BACKEND_CONFIG_METRICS]
    bc_resource = bc_drift[0].resource if bc_drift else ""

    for check in failing:
        if check.metric != "translation and sync errors":
            continue
        used.add(id(check))
        missing = MISSING_SERVICE.search(check.live)
        if missing:
            consequence = (
                f", so the BackendConfig was never applied: {bc_resource} still has {_not_applied(bc_drift)}"
                if bc_drift
                else ", so GKE changed nothing on the load balancer"
            )
            found.append(
                _of(
                    check,
                    f"Ingress translation failed: Service {missing['service']} does not exist{consequence}",
                    "route the Ingress only to Services that exist: `pulumi up` of this stack replaces the live Ingress's backends "
                    "with the program's (NegService objects only); or delete the stale route",
                )
            )
            used.update(id(c) for c in bc_drift)
            used.update(id(c) for c in failing if c.metric == "backend Services")  # the same cause
        else:
            found.append(
                _of(
                    check,
                    "GKE reports an error on the Ingress; nothing after it is applied",
                    "fix what the event names (kubectl describe ingress), then run `inspect --wait`",
                )
            )

    if bc_drift and not used.issuperset(id(c) for c in bc_drift):
        first = bc_drift[0]
        found.append(
            Diagnosis(
                f"GKE has not applied the BackendConfig: {first.resource} has {_not_applied(bc_drift)}",
                "check the Ingress's events (`kubectl describe ingress`) and that the Service's cloud.google.com/backend-config "
                "names this BackendConfig; GKE re-syncs within minutes of a change, `inspect --wait 600` shows when",
                first.resource,
                ", ".join(c.field for c in bc_drift),
                ", ".join(c.live for c in bc_drift),
                ", ".join(c.target for c in bc_drift),
            )
        )
        used.update(id(c) for c in bc_drift)

    by_metric = {c.metric: c for c in failing}
    unhealthy, probe = by_metric.get("backend health"), by_metric.get("health check = readiness probe")
    if unhealthy and unhealthy.live.startswith("UNHEALTHY") and probe:
        found.append(
            _of(
                probe,
                f"{unhealthy.resource} is UNHEALTHY: its health check probes {probe.live}, but the pods' readiness probe serves {probe.target}",
                "state healthCheck.requestPath and port in the BackendConfig (the program does, from the Deployment's health endpoint); "
                "GKE keeps an existing health check's path unless the BackendConfig sets it",
            )
        )
        used.update({id(unhealthy), id(probe)})

    for check in failing:
        if id(check) in used or check.layer is Layer.CLUSTER:  # diagnosed by preconditions.diagnoses, which knows the declaration
            continue
        found.append(
            _specific(check)
            or _of(
                check,
                f"{check.metric}: {check.resource} differs from the program" + (f" ({check.hint})" if check.hint else ""),
                "`pulumi up` this stack, then `inspect --wait`; if it persists, read the Ingress's events",
            )
        )
    return found


def _specific(check: Check) -> Diagnosis | None:
    if check.metric == "Cloud Armor policy" and check.target == "none":
        return _of(
            check,
            f"Cloud Armor policy {check.live} is still attached to {check.resource} although gcp.cloudArmor.enabled is false",
            'the BackendConfig states securityPolicy.name "" (detach); wait for GKE to apply it (`inspect --wait`), and keep '
            "gcp.cloudArmor.keepDetachedPolicy true until then: Compute refuses to delete a policy still attached",
        )
    if check.metric == "backend health" and check.status is Status.DRIFT:
        return _of(
            check,
            f"{check.resource} is {check.live}",
            "read why with `gcloud compute backend-services get-health`; check those pods' logs and that the health check's "
            "path and port answer 200 from the pods",
        )
    if check.metric == "request logging":
        return _of(
            check,
            f"Load balancer request logging is {'off' if check.live in ('False', 'none') else check.live} on {check.resource}",
            "GKE changes logging only when the BackendConfig states a logging block (the program states it); the Socket.IO metric and "
            "dashboard read these logs: `pulumi up`, then `inspect --wait`",
        )
    if check.metric == "certificate" and check.status is Status.PENDING:
        return _of(
            check,
            f"{check.resource} is still provisioning",
            "DNS of every domain must point at the load balancer IP (see `load balancer IP`); Google then provisions within about 60 min",
        )
    if check.layer is Layer.LEFTOVERS:
        return _of(
            check,
            f"{check.resource} is not declared by this program but GKE or Kubernetes still acts on it",
            f"delete it once nothing needs it (kubectl delete {check.resource.split()[0].lower()} {check.resource.split()[-1].split('/')[-1]} "
            f"-n {check.resource.split()[-1].split('/')[0]})",
        )
    return None
