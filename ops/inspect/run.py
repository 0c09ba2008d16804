"""`ops inspect`: one inspection of the live-state engine (livestate.inspector), polled under --wait, with the
exit codes of ops/errors.py: EXIT_OK converged, EXIT_FAILED drift or failure (or an API unreachable), EXIT_USAGE bad
arguments, EXIT_NO_ACCESS no access (the denied RBAC verb and resource, or IAM permission, named).

Ordered by cost: the arguments, then the kubeconfig, then the desired state (the golden render when it
is current: ops/inspect/stack.py), and only then the API clients."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from livestate.desired import StackTarget
from livestate.inspector import Inspector, poll
from livestate.model import AccessDenied, CredentialsRefused, Malformed, Unreachable
from ops.errors import EXIT_FAILED, EXIT_NO_ACCESS, EXIT_OK, UsageError
from ops.inspect import report
from ops.inspect.options import DEFAULT_INTERVAL, Options  # noqa: F401 - Options: the command's arguments, importable without the clients
from ops.inspect.stack import desired_state
from ops.kubeconfig import preflight, usage_errors
from ops.terminal import fold


def run(options: Options, out: TextIO, err: TextIO, sleep: Callable[[float], None] = time.sleep) -> int:
    options.validate()
    preflight(options.kubeconfig, options.context, options.stack, options.root)  # before the seconds of rendering
    desired, target = desired_state(options.stack, options.root)
    target = StackTarget(options.context or target.context, options.project or target.project, target.cluster)
    if not target.project:
        raise UsageError(f"no Google Cloud project: set gcp:project in Pulumi.{options.stack}.yaml or pass --project")
    with usage_errors():
        inspector = Inspector(
            desired,
            target,
            options.kubeconfig,
            options.gcp_endpoint,
            options.timeout,
            compute_endpoint=options.compute_endpoint,
            container_endpoint=options.container_endpoint,
        )
    try:
        inspection = poll(
            lambda: inspector.inspect(options.stack), options.wait, options.interval, lambda i, elapsed: err.write(report.progress(i, elapsed) + "\n"), sleep
        )
    except AccessDenied as denied:  # the detail, and the other errors' texts, quote the API's answer: one line each
        err.write(f"no access: {fold(denied.api)} denied a read; grant {fold(denied.permission)}\n  ({fold(denied.detail)})\n")
        return EXIT_NO_ACCESS
    except Unreachable as down:
        err.write(f"error: {fold(down)}\n")
        return EXIT_FAILED
    except (Malformed, CredentialsRefused) as bad:
        err.write(f"error: {fold(bad)}\n")
        return EXIT_FAILED
    finally:
        inspector.close()
    out.write((report.as_json(inspection) if options.json else report.text(inspection)) + "\n")
    return EXIT_OK if inspection.converged else EXIT_FAILED
