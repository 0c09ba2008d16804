"""`python -m ops inspect STACK`: the live cluster and load balancer read (read-only) and judged against the stack."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ops.commands.live import add_cluster_arguments, kubeconfig_first
from ops.commands.paths import project_root
from ops.errors import EXIT_FAILED, EXIT_NO_ACCESS, EXIT_OK

HELP = "read the live cluster and load balancer (read-only) and prove they do what the stack declares"
EXITS = {
    EXIT_OK: "converged",
    EXIT_FAILED: "drift, or an API unreachable, malformed or refusing the credentials",
    EXIT_NO_ACCESS: "no access: the RBAC verb and resource, or the IAM permission, that was denied is named",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", metavar="STACK", help="the stack whose declared state is compared with what is live")
    add_cluster_arguments(parser)
    parser.add_argument("--project", dest="gcp_project", help="Google Cloud project (default: the stack's gcp:project)")
    parser.add_argument(
        "--gcp-endpoint",
        help="one endpoint serving both the Compute and the Kubernetes Engine API, as a stand-in at "
        "http://127.0.0.1:PORT (anonymous) does; --compute-endpoint and --container-endpoint take precedence over it",
    )
    parser.add_argument(
        "--compute-endpoint",
        help="Compute Engine API endpoint, e.g. a Private Service Connect endpoint (default: --gcp-endpoint, else https://compute.googleapis.com)",
    )
    parser.add_argument(
        "--container-endpoint",
        help="Kubernetes Engine API endpoint, e.g. a Private Service Connect endpoint (default: --gcp-endpoint, else https://container.googleapis.com)",
    )
    parser.add_argument("--wait", type=float, default=0.0, metavar="S", help="poll until every layer converges or S seconds pass")
    parser.add_argument("--interval", type=float, default=10.0, metavar="S", help="seconds between polls under --wait (default 10)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S", help="seconds to wait for any single API answer (default 5)")
    parser.add_argument("--json", action="store_true", help="print one machine-readable report")


def _options(args: argparse.Namespace) -> Any:
    from ops.inspect.options import Options

    return Options(
        stack=args.stack,
        root=project_root(args),
        context=args.context,
        kubeconfig=args.kubeconfig,
        project=args.gcp_project,
        gcp_endpoint=args.gcp_endpoint,
        compute_endpoint=args.compute_endpoint,
        container_endpoint=args.container_endpoint,
        wait=args.wait,
        interval=args.interval,
        json=args.json,
        timeout=args.timeout,
    )


def run(args: argparse.Namespace) -> int:
    kubeconfig_first(args, lambda: _options(args).validate())
    from ops.inspect.run import run as inspect

    return inspect(_options(args), sys.stdout, sys.stderr)
