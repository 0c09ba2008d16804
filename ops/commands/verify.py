"""`python -m ops verify URL`: a live Socket.IO endpoint proved: handshake, affinity, WebSocket upgrade, long connections."""

from __future__ import annotations

import argparse
import sys

from ops.errors import EXIT_FAILED, EXIT_OK, UsageError

HELP = "prove a live Socket.IO endpoint: handshake, affinity, WebSocket upgrade, long connections"
DESCRIPTION = "URL is the Socket.IO endpoint, e.g. https://coditect.ai/theia/socket.io/"
EXITS = {
    EXIT_OK: "every check passed (and, with --browser, the browser connected too)",
    EXIT_FAILED: "a check failed; --browser without Chromium, or the browser and verify disagreeing",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ops.verify import DEFAULT_POLLS, POD_HEADER
    from ops.verify.options import MAX_HOLD_S, MAX_POLLS, MAX_TIMEOUT_S

    parser.add_argument("url", metavar="URL", help="the Socket.IO endpoint, http(s)://host/path/to/socket.io/")
    parser.add_argument(
        "--polls",
        default=str(DEFAULT_POLLS),
        help=f"polling rounds of 3 sid-carrying requests, 1..{MAX_POLLS} (default {DEFAULT_POLLS}: missing affinity over 2 pods slips through with p=2^-30)",
    )
    parser.add_argument(
        "--hold", default="0", help=f"keep the upgraded WebSocket open this many seconds, 0..{MAX_HOLD_S:g} (set it above the LB timeout to prove)"
    )
    parser.add_argument("--header", action="append", default=[], help="'Name: value' sent with every request (Origin, auth cookies); repeatable")
    parser.add_argument("--namespace", default="/", help="Socket.IO namespace to connect (default /)")
    parser.add_argument("--source-address", help="local IP to send from (affinity by client IP)")
    parser.add_argument(
        "--timeout",
        default="10",
        help=f"total seconds for each network step: one HTTP exchange or WebSocket open or awaited message, connect to last byte (default 10, at most {MAX_TIMEOUT_S:g})",
    )
    parser.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    parser.add_argument("--pod-header", default=POD_HEADER, help=f"response header naming the pod that answered (default {POD_HEADER})")
    parser.add_argument("--json", action="store_true", help="print one machine-readable report")
    parser.add_argument("--browser", action="store_true", help="also run the real socket.io-client in headless Chromium and report what it saw")


def run(args: argparse.Namespace) -> int:
    from ops.verify import Options, VerifyUsageError, parse_count, parse_header, parse_seconds, verify

    try:  # numbers arrive as text: Options refuses what is not finite or out of range in one line, not argparse's usage dump
        options = Options(
            url=args.url,
            polls=parse_count("--polls", args.polls),
            hold=parse_seconds("--hold", args.hold),
            headers=[parse_header(h) for h in args.header],
            namespace=args.namespace,
            source_address=args.source_address,
            timeout=parse_seconds("--timeout", args.timeout),
            insecure=args.insecure,
            pod_header=args.pod_header,
        )
        options.validate()
    except VerifyUsageError as error:
        raise UsageError(str(error)) from None
    report = verify(options)
    sys.stdout.write((report.as_json() if args.json else report.text()) + "\n")
    return _browser(args, options.timeout, report.ok) if args.browser else EXIT_OK if report.ok else EXIT_FAILED


def _browser(args: argparse.Namespace, timeout: float, verify_ok: bool) -> int:
    from ops.verify.browser import BrowserUnavailable, run_browser

    try:
        seen = run_browser(args.url, timeout=timeout)
    except BrowserUnavailable as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_FAILED
    sys.stdout.write((seen.as_json() if args.json else seen.text()) + "\n")
    if seen.ok != verify_ok:
        sys.stdout.write(f"browser and verify disagree: verify {'passes' if verify_ok else 'fails'}, the browser {'connects' if seen.ok else 'does not'}\n")
    return EXIT_OK if seen.ok and verify_ok else EXIT_FAILED
