"""Sub-commands that live in their own modules (verify, promote, diff)."""

from __future__ import annotations

import argparse
import sys


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


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
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
