"""One inspection (render once, read live, judge), polled under --wait, with the exit codes of
ops/errors.py: EXIT_OK converged, EXIT_FAILED drift or failure (or an API unreachable), EXIT_NO_ACCESS
no access (the denied RBAC verb and resource, or IAM permission, named)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TextIO

from ops.errors import EXIT_FAILED, EXIT_NO_ACCESS, EXIT_OK, UsageError
from ops.inspect import preconditions, report
from ops.inspect.checks import all_checks
from ops.inspect.container import cluster_of
from ops.inspect.desired import Desired, StackTarget, render_desired
from ops.inspect.diagnosis import diagnose
from ops.inspect.model import AccessDenied, Check, CredentialsRefused, Layer, Malformed, Unreachable
from ops.inspect.options import DEFAULT_INTERVAL, Options  # noqa: F401 - Options: the command's arguments, importable without the clients
from ops.kubeconfig import preflight


class Inspector:
    """Reads through both official clients; one per command (or hook), reused across polls."""

    def __init__(self, desired: Desired, target: StackTarget, kubeconfig: str | None, gcp_endpoint: str | None, timeout: float,
                 *, compute_endpoint: str | None = None, container_endpoint: str | None = None) -> None:
        from ops.inspect.compute import ComputeReader
        from ops.inspect.container import ClusterReader
        from ops.inspect.kube import KubeReader

        self.desired, self.target = desired, target
        self.kube = KubeReader(target.context, kubeconfig, timeout)
        # Private Service Connect gives each Google API its own endpoint
        # (https://cloud.google.com/vpc/docs/configure-private-service-connect-apis): one per API, else the shared one.
        self.compute = ComputeReader(target.project, compute_endpoint or gcp_endpoint, timeout)
        self.container = ClusterReader(container_endpoint or gcp_endpoint, timeout)

    def inspect(self, stack: str, layers: Collection[Layer] = tuple(Layer)) -> report.Inspection:
        from ops.inspect.live import read_live

        started = time.perf_counter()
        declaration = self.target.cluster if Layer.CLUSTER in layers else None
        cluster = self._cluster_checks(declaration) if declaration else []  # first: every layer above stands on it
        checks = [c for c in all_checks(self.desired, read_live(self.desired, self.kube, self.compute)) if c.layer in layers]
        diagnoses = diagnose(checks)
        if declaration:
            checks, diagnoses = cluster + checks, preconditions.diagnoses(cluster, declaration, cluster_of(self.target.context)) + diagnoses
        return report.Inspection(stack, self.target.context, self.target.project, checks, diagnoses, seconds=time.perf_counter() - started)

    def _cluster_checks(self, declaration: preconditions.ClusterDeclaration) -> list[Check]:
        ref = cluster_of(self.target.context)
        return list(preconditions.cluster_checks(declaration, ref, self.container.get(ref) if ref else None))

    def close(self) -> None:
        self.kube.close()


def poll(inspect: Callable[[], report.Inspection], wait: float, interval: float, on_poll: Callable[[report.Inspection, float], object],
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> report.Inspection:
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


def run(options: Options, out: TextIO, err: TextIO, sleep: Callable[[float], None] = time.sleep) -> int:
    options.validate()
    preflight(options.kubeconfig, options.context, options.stack, options.root)  # before the seconds of rendering
    desired, target = render_desired(options.stack, options.root)
    target = StackTarget(options.context or target.context, options.project or target.project, target.cluster)
    if not target.project:
        raise UsageError(f"no Google Cloud project: set gcp:project in Pulumi.{options.stack}.yaml or pass --project")
    inspector = Inspector(desired, target, options.kubeconfig, options.gcp_endpoint, options.timeout,
                          compute_endpoint=options.compute_endpoint, container_endpoint=options.container_endpoint)
    try:
        inspection = poll(lambda: inspector.inspect(options.stack), options.wait, options.interval,
                          lambda i, elapsed: err.write(report.progress(i, elapsed) + "\n"), sleep)
    except AccessDenied as denied:
        err.write(f"no access: {denied.api} denied a read; grant {denied.permission}\n  ({denied.detail})\n")
        return EXIT_NO_ACCESS
    except Unreachable as down:
        err.write(f"error: {down}\n")
        return EXIT_FAILED
    except (Malformed, CredentialsRefused) as bad:
        err.write(f"error: {bad}\n")
        return EXIT_FAILED
    finally:
        inspector.close()
    out.write((report.as_json(inspection) if options.json else report.text(inspection)) + "\n")
    return EXIT_OK if inspection.converged else EXIT_FAILED
