"""`python -m ops migrate STACK --to gateway|ingress [--next]`: the front-door migration as steps the tool checks."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ops.commands.live import add_cluster_arguments
from ops.commands.paths import project_root
from ops.errors import EXIT_FAILED, EXIT_NO_ACCESS, EXIT_OK, EXIT_WRITE

HELP = "plan the move from the Ingress to the Gateway front door (or back), step by step; --next writes the next frontDoors change"
DESCRIPTION = (
    "Prints every step (ingress-only, certificate, side-by-side, verified, dns-cutover, ingress-removed), which one the stack is at "
    "from its stack file and the live state, the exact next command and each step's rollback (docs/migration.md). With --next, "
    "writes the next coditect:frontDoors change into Pulumi.STACK.yaml, refusing to remove a front door before the checks hold. Never deploys."
)
EXITS = {
    EXIT_OK: "the plan was printed, the next change was written, nothing to do, or --dry-run printed it",
    EXIT_FAILED: "refused (--next before the checks hold: the output names each), or a live read failed so a step cannot be judged",
    EXIT_NO_ACCESS: "no access: the RBAC verb and resource, or the IAM permission, that was denied is named",
    EXIT_WRITE: "the stack file or the proof file could not be written, or another command holds the stack file: nothing was changed",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", metavar="STACK", help="the stack to migrate, e.g. staging")
    parser.add_argument("--to", required=True, choices=("gateway", "ingress"), help="the front door to end at (ingress: the way back)")
    parser.add_argument(
        "--next", dest="apply_next", action="store_true", help="write the next frontDoors change into Pulumi.STACK.yaml (or refuse, saying why)"
    )
    parser.add_argument("--dry-run", action="store_true", help="with --next: print the change, write nothing")
    parser.add_argument(
        "--now",
        metavar="TIME",
        help="a what-if plan: judge the waits at this time (seconds since the epoch or ISO 8601 with offset; default: the clock); writes nothing and does not go with --next",
    )
    parser.add_argument("--dns-ttl", default="300", metavar="S", help="the TTL of the hosts' DNS records, waited out after a cutover (default 300)")
    add_cluster_arguments(parser)
    parser.add_argument(
        "--certificate-endpoint", help="Certificate Manager API endpoint (default https://certificatemanager.googleapis.com; http://127.0.0.1:PORT: a stand-in)"
    )
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S", help="seconds to wait for any single API answer or DNS lookup (default 5)")


def live_observer(args: argparse.Namespace) -> Any:
    """The real observer for the stack's settings (the cluster of its context unless --context says otherwise)."""
    from ops.migrate.observe import LiveObserver

    def make(settings: Any) -> LiveObserver:
        return LiveObserver(
            namespace=settings.namespace,
            gateway_name=settings.gateway_name,
            routes=settings.routes,
            ingress_name=settings.ingress_name,
            certificate_name=settings.certificate_name,
            project=settings.project,
            context=args.context or settings.context,
            kubeconfig=args.kubeconfig,
            certificate_endpoint=args.certificate_endpoint,
            timeout=args.timeout,
        )

    return make


def run(args: argparse.Namespace) -> int:
    import math

    from livestate.errors import Unusable
    from ops.errors import UsageError
    from ops.migrate.run import migrate, parse_now, parse_ttl

    now, ttl = parse_now(args.now), parse_ttl(args.dns_ttl)
    if not math.isfinite(args.timeout) or not 0 < args.timeout <= 600:
        raise UsageError(f"--timeout must be a finite number of seconds above 0, at most 600, not {args.timeout}")
    if args.dry_run and not args.apply_next:
        raise UsageError("--dry-run goes with --next (without it nothing is written anyway)")
    try:
        return migrate(
            args.stack,
            args.to,
            sys.stdout,
            live_observer(args),
            root=project_root(args),
            apply_next=args.apply_next,
            dry_run=args.dry_run,
            now=now,
            dns_ttl=ttl,
        )
    except Unusable as error:  # a kubeconfig or credential file that cannot be used: a usage error naming the file
        raise UsageError(str(error)) from None
