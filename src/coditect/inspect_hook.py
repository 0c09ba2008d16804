"""A Pulumi resource hook that makes `pulumi up` prove what GKE did with each front door: after one is
created or changed (the hook is bound to the InspectionMarker, which depends on the Ingress with its
BackendConfig and on the Gateway with its routes and policies; src/coditect/inspection.py) it runs the
live-state engine's checks of each door's translation and backend settings (`inspect`,
livestate.hook.inspect_until, given by the composition root, __main__.py), polling until they converge or
a deadline passes. Then, per mode, a warning or a failure names what GKE has not applied. Hooks never run
in preview.

This module imports no engine and no client: the Kubernetes and Compute clients load when the hook
runs, the Container API client (cluster layer) never on this path: it is not in the deploy lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, Literal, Protocol

import pulumi

Mode = Literal["off", "warn", "fail"]
DEFAULT_DEADLINE_SEC = 600.0  # GKE's sync of a changed Ingress or BackendConfig usually lands within minutes
DEFAULT_INTERVAL_SEC = 15.0


class BackendConfigNotApplied(Exception):
    """The hook's failure in mode "fail": `pulumi up` reports this message on the resource."""


class Inspect(Protocol):
    """The blocking inspection (livestate.hook.inspect_until, handed over by __main__.py, the composition
    root): None when every front door has converged, else what GKE has not applied."""

    def __call__(
        self,
        desired_manifests: Iterable[Mapping[str, Any]],
        stack: str,
        context: str,
        project: str,
        deadline: float,
        interval: float,
        kubeconfig: str | None,
        gcp_endpoint: str | None,
        /,
    ) -> str | None: ...


def inspection_callback(
    mode: Mode,
    stack: str,
    context: str,
    project: str,
    desired_manifests: Callable[[], Iterable[Mapping[str, Any]]],
    inspect: Inspect,
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
        problem = await asyncio.to_thread(inspect, list(desired_manifests()), stack, context, project, deadline, interval, kubeconfig, gcp_endpoint)
        if problem is None:
            return
        message = f"{args.name}: {problem}. Run `python -m ops inspect {stack}` for every layer."
        if mode == "fail":
            raise BackendConfigNotApplied(message)
        warn(message)

    return after_apply


def inspection_hook(
    name: str,
    mode: Mode,
    stack: str,
    context: str,
    project: str,
    desired_manifests: Callable[[], Iterable[Mapping[str, Any]]],
    inspect: Inspect,
    **options: Any,
) -> pulumi.ResourceHook | None:
    """A ResourceHook for `hooks=pulumi.ResourceHookBinding(after_create=[hook], after_update=[hook])`,
    or None when mode is off. Not run in preview (on_dry_run False)."""
    callback = inspection_callback(mode, stack, context, project, desired_manifests, inspect, **options)
    if callback is None:
        return None
    return pulumi.ResourceHook(name, callback, pulumi.ResourceHookOptions(on_dry_run=False))
