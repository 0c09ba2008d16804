"""A Pulumi resource hook that makes `pulumi up` prove what GKE did with the Ingress and the
BackendConfig: after they are created or changed (the hook is bound to the InspectionMarker, which
depends on both; components/inspection.py) it runs `ops inspect`'s checks of Ingress translation
and of the BackendConfig on the backend service, polling until they converge or a deadline passes.
Then, per mode, a warning or a failure names what GKE has not applied. Hooks never run in preview.

The Kubernetes and Compute clients are imported when the hook runs, not when the program loads; the
Container API client (cluster layer) never on this path: it is not in the deploy lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, Literal

import pulumi

Mode = Literal["off", "warn", "fail"]
DEFAULT_DEADLINE_SEC = 600.0  # GKE's sync of a changed Ingress or BackendConfig usually lands within minutes
DEFAULT_INTERVAL_SEC = 15.0
REQUEST_TIMEOUT_SEC = 10.0  # any single API answer


class BackendConfigNotApplied(Exception):
    """The hook's failure in mode "fail": `pulumi up` reports this message on the resource."""


def _inspect_until(desired_manifests: Iterable[Mapping[str, Any]], stack: str, context: str, project: str, deadline: float, interval: float,
                   kubeconfig: str | None, gcp_endpoint: str | None, request_timeout: float = REQUEST_TIMEOUT_SEC) -> str | None:
    """None when translation and the BackendConfig have converged; otherwise what is wrong (blocking)."""
    from ops.errors import UsageError
    from ops.inspect.desired import StackTarget, desired_from_manifests
    from ops.inspect.model import AccessDenied, Layer, Unreachable
    from ops.inspect.run import Inspector, poll

    try:
        desired = desired_from_manifests(desired_manifests)
        inspector = Inspector(desired, StackTarget(context, project), kubeconfig, gcp_endpoint, timeout=request_timeout)
    except UsageError as error:
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


def inspection_callback(
    mode: Mode,
    stack: str,
    context: str,
    project: str,
    desired_manifests: Callable[[], Iterable[Mapping[str, Any]]],
    deadline: float = DEFAULT_DEADLINE_SEC,
    interval: float = DEFAULT_INTERVAL_SEC,
    kubeconfig: str | None = None,
    gcp_endpoint: str | None = None,
    warn: Callable[[str], None] = pulumi.log.warn,
) -> Callable[[pulumi.ResourceHookArgs], Coroutine[Any, Any, None]] | None:
    """The hook's function, or None when `mode` is off. `desired_manifests` is called when the hook
    runs (every component exists by then): the manifests of the program's Kubernetes objects."""
    if mode == "off":
        return None

    async def after_apply(args: pulumi.ResourceHookArgs) -> None:
        # The inspection blocks (HTTP reads, sleeps between polls): off the program's event loop.
        problem = await asyncio.to_thread(_inspect_until, list(desired_manifests()), stack, context, project, deadline, interval, kubeconfig, gcp_endpoint)
        if problem is None:
            return
        message = f"{args.name}: {problem}. Run `python -m ops inspect {stack}` for every layer."
        if mode == "fail":
            raise BackendConfigNotApplied(message)
        warn(message)

    return after_apply


def inspection_hook(name: str, mode: Mode, stack: str, context: str, project: str, desired_manifests: Callable[[], Iterable[Mapping[str, Any]]],
                    **options: Any) -> pulumi.ResourceHook | None:
    """A ResourceHook for `hooks=pulumi.ResourceHookBinding(after_create=[hook], after_update=[hook])`,
    or None when mode is off. Not run in preview (on_dry_run False)."""
    callback = inspection_callback(mode, stack, context, project, desired_manifests, **options)
    if callback is None:
        return None
    return pulumi.ResourceHook(name, callback, pulumi.ResourceHookOptions(on_dry_run=False))
