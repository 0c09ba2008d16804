"""Sub-commands that live in their own modules (verify, promote, diff)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _verify(args: argparse.Namespace) -> int:
    from ops.verify import Options, VerifyUsageError, parse_header, verify

    try:
        options = Options(
            url=args.url, polls=args.polls, hold=args.hold, headers=[parse_header(h) for h in args.header],
            namespace=args.namespace, source_address=args.source_address, timeout=args.timeout, insecure=args.insecure,
            pod_header=args.pod_header,
        )
        options.validate()
    except VerifyUsageError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    report = verify(options)
    sys.stdout.write((report.as_json() if args.json else report.text()) + "\n")
    return 0 if report.ok else 1


def _promote(args: argparse.Namespace) -> int:
    from ops.promote import promote

    return promote(args.source, args.target, sys.stdout, dry_run=args.dry_run, skip_stage=args.skip_stage,
                   root=Path(args.project).resolve())


def _diff(args: argparse.Namespace) -> int:
    from ops.stack_diff import diff

    return diff(args.stack_a, args.stack_b, sys.stdout, full=args.full, strict=args.strict, root=Path(args.project).resolve())


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ops.verify import DEFAULT_POLLS, POD_HEADER

    verify = commands.add_parser(
        "verify", help="prove a live Socket.IO endpoint: handshake, affinity, WebSocket upgrade, long connections",
        description="URL is the Socket.IO endpoint, e.g. https://coditect.ai/theia/socket.io/",
    )
    verify.add_argument("url")
    verify.add_argument("--polls", type=int, default=DEFAULT_POLLS,
                        help=f"polling rounds of 3 sid-carrying requests (default {DEFAULT_POLLS}: missing affinity over 2 pods slips through with p=2^-30)")
    verify.add_argument("--hold", type=float, default=0.0, help="keep the upgraded WebSocket open this many seconds (set it above the LB timeout to prove)")
    verify.add_argument("--header", action="append", default=[], help="'Name: value' sent with every request (Origin, auth cookies); repeatable")
    verify.add_argument("--namespace", default="/", help="Socket.IO namespace to connect (default /)")
    verify.add_argument("--source-address", help="local IP to send from (affinity by client IP)")
    verify.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for any single answer (default 10)")
    verify.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    verify.add_argument("--pod-header", default=POD_HEADER, help=f"response header naming the pod that answered (default {POD_HEADER})")
    verify.add_argument("--json", action="store_true", help="print one machine-readable report")
    verify.set_defaults(run=_verify)

    promote = commands.add_parser(
        "promote", help="copy the release (version, image digests) from one stack file to the next, showing the rendered diff",
        description="Changes only coditect:release in Pulumi.TO.yaml (comments and layout kept) and rendered/TO/. Never deploys.",
    )
    promote.add_argument("source", metavar="FROM")
    promote.add_argument("target", metavar="TO")
    promote.add_argument("--dry-run", action="store_true", help="print the diffs, write nothing")
    promote.add_argument("--skip-stage", action="store_true", help="allow skipping an environment (dev -> prod)")
    promote.set_defaults(run=_promote)

    diff = commands.add_parser("diff", help="the rendered difference between two stacks, expected vs. to review")
    diff.add_argument("stack_a", metavar="A")
    diff.add_argument("stack_b", metavar="B")
    diff.add_argument("--full", action="store_true", help="also print the unified diff of the rendered files")
    diff.add_argument("--strict", action="store_true", help="exit 1 when anything but the expected differences differs")
    diff.set_defaults(run=_diff)
