"""What the after-up hook runs (src/coditect/inspect_hook.py wraps it for Pulumi; __main__.py, the
composition root, hands it over): the translation and BackendConfig checks of the stack's manifests
against the live cluster and load balancer, polled until they converge or the deadline passes.

Import-light: the program imports this when it loads; the engine and its clients load when the hook runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

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
    """None when translation and the BackendConfig have converged; otherwise what is wrong (blocking)."""
    from livestate.desired import StackTarget, desired_from_manifests
    from livestate.errors import Unusable
    from livestate.inspector import Inspector, poll
    from livestate.model import AccessDenied, Layer, Unreachable

    try:
        desired = desired_from_manifests(desired_manifests)
        inspector = Inspector(desired, StackTarget(context, project), kubeconfig, gcp_endpoint, timeout=request_timeout)
    except Unusable as error:
        return f"cannot inspect: {error}"
    layers = (Layer.TRANSLATION, Layer.BACKEND_CONFIG)
    try:
        inspection = poll(lambda: inspector.inspect(stack, layers), deadline, interval, lambda _i, _t: None, time.sleep)
    except AccessDenied as denied:
        return f"cannot prove that GKE applied the BackendConfig: {denied.api} denied a read; grant {denied.permission}"
    except Unreachable as down:
        return f"cannot prove that GKE applied the BackendConfig: {down}"
    finally:
        inspector.close()
    if inspection.converged:
        return None
    reasons = "; ".join(d.cause for d in inspection.diagnoses)
    names = ", ".join(f"{desired.namespace}/{b.backend_config}" for b in desired.backends if b.backend_config)
    return f"GKE has not applied the BackendConfig {names} after {inspection.seconds:.0f} s ({inspection.polls} polls): {reasons}"
