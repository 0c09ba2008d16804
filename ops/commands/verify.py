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
    parser.add_argument(
        "--resolve",
        metavar="HOST:IP",
        help="connect to IP for the URL's HOST (Host, SNI and the certificate check stay HOST's), like curl --resolve: "
        "proves a new front door before DNS points at it; a pass is recorded for `ops migrate` (.cache/migrate/STACK.json)",
    )
    parser.add_argument("--stack", help="with --resolve: the stack the pass is recorded for (default: the one whose coditect:hosts lists HOST)")


def run(args: argparse.Namespace) -> int:
    from ops.verify import Options, VerifyUsageError, parse_count, parse_header, parse_seconds, verify
    from ops.verify.options import parse_resolve

    if args.resolve is not None and args.browser:
        raise UsageError(
            "--resolve cannot be combined with --browser: Chromium would resolve HOST itself. Fix: run verify with --resolve, and --browser once DNS points at the new address"
        )
    if args.stack is not None and args.resolve is None:
        raise UsageError(
            "--stack names the stack a --resolve pass is recorded for; without --resolve nothing is recorded. Fix: add --resolve HOST:IP, or drop --stack"
        )
    if args.stack is not None and args.insecure:
        raise UsageError(
            "--insecure skips the certificate check, so its pass is no proof of the front door and --stack records nothing. Fix: drop --insecure (or --stack)"
        )
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
            resolve=parse_resolve(args.resolve) if args.resolve is not None else None,
        )
        options.validate()
    except VerifyUsageError as error:
        raise UsageError(str(error)) from None
    stack = _proof_stack(args, options.resolve[0]) if options.resolve is not None else None
    report = verify(options)
    sys.stdout.write((report.as_json() if args.json else report.text()) + "\n")
    if options.resolve is not None:
        _record(args, stack, options.url, options.resolve, report.ok and not options.insecure, options.insecure)
    return _browser(args, options.timeout, report.ok) if args.browser else EXIT_OK if report.ok else EXIT_FAILED


def _proof_stack(args: argparse.Namespace, host: str) -> str | None:
    """The stack a --resolve pass is for, checked before the run: --stack, or the one stack listing HOST."""
    from ops.commands.paths import project_root
    from ops.migrate.proof import stack_for_host

    return stack_for_host(project_root(args), host, args.stack)


def _record(args: argparse.Namespace, stack: str | None, url: str, resolve: tuple[str, str], passed: bool, insecure: bool = False) -> None:
    """A pass through --resolve kept as the migration's proof; a failure, a pass without the certificate checked
    (--insecure: the Gateway's certificate is part of what the proof proves), or a pass while the stack file has
    uncommitted changes (the proof's digest would be of settings not deployed) is never recorded (said so)."""
    import time

    from ops.commands.paths import project_root
    from ops.migrate.proof import Proof, record_proof
    from ops.migrate.settings import read_settings, uncommitted

    host, ip = resolve
    if insecure:
        sys.stdout.write(f"--insecure: the certificate through {ip} was not checked: no proof recorded\n")
    elif stack is None:
        sys.stdout.write(f"no stack file lists {host} in coditect:hosts: no proof recorded (pass --stack STACK to record one)\n")
    elif not passed:
        sys.stdout.write(f"verify through {ip} failed: no proof recorded for {stack}\n")
    elif (unproven := uncommitted(stack, project_root(args))) is not None:
        sys.stdout.write(f"{unproven}: no proof recorded for {stack} (commit the stack file as deployed, or discard the edit, then verify again)\n")
    else:
        root = project_root(args)
        digest = read_settings(stack, root).digest
        path = record_proof(root, Proof(stack, host, ip, url, time.time(), "pass", digest))
        sys.stdout.write(f"recorded the pass through {ip} for {stack} in {path} (`python -m ops migrate {stack} --to gateway` reads it)\n")


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
