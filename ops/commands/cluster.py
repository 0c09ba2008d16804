"""`python -m ops cluster start|stop|status`: a real Kubernetes API server on loopback for the local stack."""

from __future__ import annotations

import argparse
from pathlib import Path

from ops.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE

HELP = "run a real Kubernetes API server on loopback for the local stack (start, stop, status)"
DESCRIPTION = (
    "etcd, kube-apiserver and kube-controller-manager from `make engine`, on 127.0.0.1 only. "
    "Writes .engine/kubeconfig (context coditect-local, as Pulumi.local.yaml's coditect:cluster.context)."
)
EXITS = {
    EXIT_OK: "done, or ready",
    EXIT_FAILED: "`start`: the API server did not become ready; `status`: none is ready",
    EXIT_USAGE: "the binaries are not built: run `make engine` first",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("start", "stop", "status"), help="start (idempotent), stop, or report readiness")


def run(args: argparse.Namespace) -> int:
    from ops.cluster import Layout, start, status, stop

    layout = Layout(Path(args.project).resolve())
    if args.action == "start":
        return start(layout)
    return stop(layout) if args.action == "stop" else status(layout)
