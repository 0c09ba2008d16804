"""One probe run: render the stack, create the Job, wait for it (a deadline), read the pod's log,
delete the Job, report. Exit codes (ops/errors.py): EXIT_OK every probe as expected, EXIT_FAILED any
probe not (or no result), EXIT_NO_ACCESS no access (the missing RBAC verb and resource named)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from livestate.jobs import JobClient
from livestate.model import AccessDenied, CredentialsRefused, Malformed, Unreachable
from ops.errors import EXIT_FAILED, EXIT_NO_ACCESS, EXIT_OK, UsageError
from ops.kubeconfig import preflight, usage_errors
from ops.probe import report
from ops.probe.job import CONTAINER, PROBE_LABEL, build_job
from ops.probe.options import Options  # the command's arguments, importable without the client
from ops.probe.table import parse_peer, parse_registry, probe_table

GRACE = 15  # seconds the command waits beyond the Job's own activeDeadlineSeconds


def render_stack(stack: str, root: Path) -> tuple[list[dict[str, Any]], str]:
    """The stack's Kubernetes manifests (as `pulumi up` would send them) and its kubeconfig context."""
    import pulumi

    from ops.manifests import manifests_of
    from ops.program import run_program
    from ops.stack_check import settings_for

    config, secret_keys, settings = settings_for(stack, root)
    try:
        program = run_program(stack, config=config, secret_keys=secret_keys, root=root)
    except pulumi.RunError as error:
        raise UsageError(f"the program refuses stack {stack}: {error}") from None
    return manifests_of(program), settings.cluster.context


def _finished(job: dict[str, Any] | None) -> str | None:
    """ "Complete" or "Failed" (with the reason) once the Job controller says so; None while running.
    The conditions' shape was checked when the Job was read (livestate/jobs.py JOB_SHAPE)."""
    for condition in ((job or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return str(condition["type"]) + (f" ({condition['reason']})" if condition.get("reason") else "")
    return None


def _pod_state(pod: dict[str, Any]) -> str:
    # The shape was checked when the pod was read (livestate/jobs.py POD_SHAPE); a null field reads as unset.
    status = pod.get("status") or {}
    waiting: list[dict[str, Any]] = [w for s in status.get("containerStatuses") or [] if (w := (s.get("state") or {}).get("waiting"))]
    reasons = [f"{w.get('reason')}: {w.get('message') or ''}".rstrip(": ") for w in waiting]
    unscheduled = [c.get("message") for c in status.get("conditions") or [] if c.get("type") == "PodScheduled" and c.get("status") == "False"]
    return ", ".join([str(status.get("phase") or "unknown"), *reasons, *[f"not scheduled: {m}" for m in unscheduled]])


def run(
    options: Options,
    out: TextIO,
    err: TextIO,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    make_name: Callable[[], str] = lambda: f"coditect-probe-{secrets.token_hex(3)}",
) -> int:
    options.validate()
    table = probe_table(parse_peer(options.peer), parse_registry(options.registry))
    preflight(options.kubeconfig, options.context, options.stack, options.root)  # before the seconds of rendering
    manifests, context = render_stack(options.stack, options.root)
    name = make_name()
    job = build_job(manifests, table, name, options.image, options.probe_timeout, options.deadline)
    namespace = job["metadata"]["namespace"]
    with usage_errors():
        cluster = JobClient(options.context or context, options.kubeconfig)
    try:
        cluster.create(job)
        err.write(f"probe {options.stack}: Job {namespace}/{name} created; waiting up to {options.deadline + GRACE} s\n")
        try:
            state, log = _wait_and_read(cluster, namespace, name, options.deadline + GRACE, options.interval, sleep, clock)
        finally:
            cluster.delete(namespace, name)
            err.write(f"probe {options.stack}: Job {namespace}/{name} deleted\n")
    except AccessDenied as denied:
        err.write(f"no access: {denied.api} denied a request; grant {denied.permission}\n  ({denied.detail})\n")
        return EXIT_NO_ACCESS
    except Unreachable as down:
        err.write(f"error: {down}\n")
        return EXIT_FAILED
    except (Malformed, CredentialsRefused) as bad:
        err.write(f"error: {bad}\n")
        return EXIT_FAILED
    finally:
        cluster.close()
    found = report.results(table, log)
    heading = f"probe {options.stack}: Job {namespace}/{name}, {state}"
    out.write((report.as_json(found, options.stack, name) if options.json else report.text(found, heading)) + "\n")
    return EXIT_OK if report.all_as_expected(found) else EXIT_FAILED


def _wait_and_read(
    cluster: JobClient, namespace: str, name: str, wait: float, interval: float, sleep: Callable[[float], None], clock: Callable[[], float]
) -> tuple[str, str]:
    """(how the Job ended, the probe container's log) once it finishes or `wait` seconds pass."""
    start = clock()
    while (state := _finished(cluster.job(namespace, name))) is None and clock() - start + interval <= wait:
        sleep(interval)
    pods = cluster.pods(namespace, f"{PROBE_LABEL}={name}")
    if state is None:
        state = f"not finished after {wait:g} s" + (f"; pod {_pod_state(pods[0])}" if pods else "; no pod was created")
    log = cluster.log(namespace, pods[0]["metadata"]["name"], CONTAINER) if pods else ""
    return state, log
