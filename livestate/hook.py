"""What the after-up hook runs (src/coditect/inspect_hook.py wraps it for Pulumi; __main__.py, the
composition root, hands it over): the checks of each front door the stack's manifests declare, against the
live cluster and load balancer, polled until they converge or the deadline passes:
- the Ingress: its translation and the BackendConfig on its backend service;
- the Gateway: its translation (Accepted, Programmed, routes Accepted and ResolvedRefs, no SYNC warning) and its
  GKE policies on its backend service (GoogleCloudPlatform/gke-gateway-api apis/networking/v1/*_types.go).
The front ends (certificates, which may provision for an hour) do not hold `pulumi up`.

Import-light: the program imports this when it loads; the engine and its clients load when the hook runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livestate.desired import Desired
    from livestate.model import Layer

REQUEST_TIMEOUT_SEC = 10.0  # any single API answer


def inspect_until(
    desired_manifests: Iterable[Mapping[str, Any]],
    stack: str,
    context: str,
    project: str,
    deadline: float,
    interval: float,
    kubeconfig: str | None,
    gcp_endpoint: str | None,
    request_timeout: float = REQUEST_TIMEOUT_SEC,
) -> str | None:
    """None when every front door's translation and backend settings have converged; otherwise what is wrong (blocking)."""
    from livestate.desired import StackTarget, desired_from_manifests
    from livestate.errors import Unusable
    from livestate.inspector import Inspector, poll
    from livestate.model import AccessDenied, Unreachable

    try:
        desired = desired_from_manifests(desired_manifests)
        inspector = Inspector(desired, StackTarget(context, project), kubeconfig, gcp_endpoint, timeout=request_timeout)
    except Unusable as error:
        return f"cannot inspect: {error}"
    what = " and ".join(applied(desired))
    try:
        inspection = poll(lambda: inspector.inspect(stack, hook_layers(desired)), deadline, interval, lambda _i, _t: None, time.sleep)
    except AccessDenied as denied:
        return f"cannot prove that GKE applied {what}: {denied.api} denied a read; grant {denied.permission}"
    except Unreachable as down:
        return f"cannot prove that GKE applied {what}: {down}"
    finally:
        inspector.close()
    if inspection.converged:
        return None
    reasons = "; ".join(d.cause for d in inspection.diagnoses)
    return f"GKE has not applied {what} after {inspection.seconds:.0f} s ({inspection.polls} polls): {reasons}"


def hook_layers(desired: Desired) -> tuple[Layer, ...]:
    """The layers the hook waits on: per front door declared, its translation and its backend settings."""
    from livestate.model import Layer

    ingress = (Layer.TRANSLATION, Layer.BACKEND_CONFIG) if desired.has_ingress else ()
    gateway = (Layer.GATEWAY_TRANSLATION, Layer.GATEWAY_POLICIES) if desired.gateway is not None else ()
    return ingress + gateway


def applied(desired: Desired) -> list[str]:
    """What the hook proves applied, by name: the BackendConfig(s) of the Ingress, the Gateway with its policies."""
    found = []
    if desired.has_ingress:
        names = ", ".join(f"{desired.namespace}/{b.backend_config}" for b in desired.backends if b.backend_config)
        found.append(f"the BackendConfig {names}")
    if desired.gateway is not None:
        found.append(f"the Gateway {desired.gateway.namespace}/{desired.gateway.name} and its policies")
    return found
