"""Sub-commands that live in their own modules (verify, promote, diff, inspect)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ops.errors import UsageError


def _verify(args: argparse.Namespace) -> int:
    from ops.verify import Options, VerifyUsageError, parse_count, parse_header, parse_seconds, verify

    try:  # numbers arrive as text: Options refuses what is not finite or out of range in one line, not argparse's usage dump
        options = Options(
            url=args.url, polls=parse_count("--polls", args.polls), hold=parse_seconds("--hold", args.hold),
            headers=[parse_header(h) for h in args.header], namespace=args.namespace, source_address=args.source_address,
            timeout=parse_seconds("--timeout", args.timeout), insecure=args.insecure, pod_header=args.pod_header,
        )
        options.validate()
    except VerifyUsageError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    report = verify(options)
    sys.stdout.write((report.as_json() if args.json else report.text()) + "\n")
    return _browser(args, options.timeout, report.ok) if args.browser else 0 if report.ok else 1


def _browser(args: argparse.Namespace, timeout: float, verify_ok: bool) -> int:
    from ops.verify.browser import BrowserUnavailable, run_browser

    try:
        seen = run_browser(args.url, timeout=timeout)
    except BrowserUnavailable as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    sys.stdout.write((seen.as_json() if args.json else seen.text()) + "\n")
    if seen.ok != verify_ok:
        sys.stdout.write(f"browser and verify disagree: verify {'passes' if verify_ok else 'fails'}, the browser {'connects' if seen.ok else 'does not'}\n")
    return 0 if seen.ok and verify_ok else 1


def _promote(args: argparse.Namespace) -> int:
    from ops.promote import promote

    return promote(args.source, args.target, sys.stdout, dry_run=args.dry_run, skip_stage=args.skip_stage,
                   root=Path(args.project).resolve())


def _diff(args: argparse.Namespace) -> int:
    from ops.stack_diff import diff

    return diff(args.stack_a, args.stack_b, sys.stdout, full=args.full, strict=args.strict, root=Path(args.project).resolve())


def _history(args: argparse.Namespace) -> int:
    from ops.history import history

    return history(args.stack, sys.stdout, as_json=args.json, root=Path(args.project).resolve())


def _rollback(args: argparse.Namespace) -> int:
    from ops.rollback import rollback

    return rollback(args.stack, sys.stdout, to=args.to, dry_run=args.dry_run, root=Path(args.project).resolve())


def _kubeconfig_first(args: argparse.Namespace, arguments_checked: Callable[[], object]) -> None:
    """Refuse a missing or unusable kubeconfig (naming the gcloud command that writes one) before
    importing the command, whose client libraries take seconds to load. A bad argument is still said
    first, as run() orders them: `arguments_checked` (the import and the check) runs only on a refusal.
    run() checks the kubeconfig again; the parse is reused (ops/kubeconfig.py parses unchanged bytes once)."""
    from ops.kubeconfig import preflight

    try:
        preflight(args.kubeconfig, args.context, args.stack, Path(args.project).resolve())
    except UsageError:
        arguments_checked()
        raise


def _inspect_options(args: argparse.Namespace) -> Any:
    from ops.inspect.options import Options

    return Options(stack=args.stack, root=Path(args.project).resolve(), context=args.context, kubeconfig=args.kubeconfig,
                   project=args.gcp_project, gcp_endpoint=args.gcp_endpoint, compute_endpoint=args.compute_endpoint,
                   container_endpoint=args.container_endpoint, wait=args.wait, interval=args.interval,
                   json=args.json, timeout=args.timeout)


def _inspect(args: argparse.Namespace) -> int:
    _kubeconfig_first(args, lambda: _inspect_options(args).validate())
    from ops.inspect.run import run

    return run(_inspect_options(args), sys.stdout, sys.stderr)


def _probe_options(args: argparse.Namespace) -> Any:
    from ops.probe.options import Options

    return Options(stack=args.stack, root=Path(args.project).resolve(), peer=args.peer, registry=args.registry, context=args.context,
                   kubeconfig=args.kubeconfig, image=args.image, deadline=args.deadline, probe_timeout=args.probe_timeout, json=args.json)


def _probe_arguments_checked(args: argparse.Namespace) -> None:
    from ops.probe.table import parse_peer, parse_registry

    _probe_options(args).validate()
    parse_peer(args.peer)
    parse_registry(args.registry)


def _probe(args: argparse.Namespace) -> int:
    _kubeconfig_first(args, lambda: _probe_arguments_checked(args))
    from ops.probe.run import run

    return run(_probe_options(args), sys.stdout, sys.stderr)


def _target(args: argparse.Namespace) -> int:
    from ops.deploy_target import run

    return run(args.stack, Path(args.project).resolve(), sys.stdout, args.github_output)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ops.verify import DEFAULT_POLLS, POD_HEADER
    from ops.verify.options import MAX_HOLD_S, MAX_POLLS, MAX_TIMEOUT_S

    verify = commands.add_parser(
        "verify", help="prove a live Socket.IO endpoint: handshake, affinity, WebSocket upgrade, long connections",
        description="URL is the Socket.IO endpoint, e.g. https://coditect.ai/theia/socket.io/",
    )
    verify.add_argument("url")
    verify.add_argument("--polls", default=str(DEFAULT_POLLS),
                        help=f"polling rounds of 3 sid-carrying requests, 1..{MAX_POLLS} (default {DEFAULT_POLLS}: missing affinity over 2 pods slips through with p=2^-30)")
    verify.add_argument("--hold", default="0", help=f"keep the upgraded WebSocket open this many seconds, 0..{MAX_HOLD_S:g} (set it above the LB timeout to prove)")
    verify.add_argument("--header", action="append", default=[], help="'Name: value' sent with every request (Origin, auth cookies); repeatable")
    verify.add_argument("--namespace", default="/", help="Socket.IO namespace to connect (default /)")
    verify.add_argument("--source-address", help="local IP to send from (affinity by client IP)")
    verify.add_argument("--timeout", default="10",
                        help=f"total seconds for each network step: one HTTP exchange or WebSocket open or awaited message, connect to last byte (default 10, at most {MAX_TIMEOUT_S:g})")
    verify.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    verify.add_argument("--pod-header", default=POD_HEADER, help=f"response header naming the pod that answered (default {POD_HEADER})")
    verify.add_argument("--json", action="store_true", help="print one machine-readable report")
    verify.add_argument("--browser", action="store_true", help="also run the real socket.io-client in headless Chromium and report what it saw")
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

    history = commands.add_parser(
        "history", help="every release (version, image digests) the stack file has held, from git, newest first",
        description="Reads the git history of Pulumi.STACK.yaml; the release the file holds now is marked with *.",
    )
    history.add_argument("stack", metavar="STACK")
    history.add_argument("--json", action="store_true", help="print one machine-readable list")
    history.set_defaults(run=_history)

    rollback = commands.add_parser(
        "rollback", help="write an earlier release back into the stack file (as promote does), showing the rendered diff",
        description="Changes only coditect:release in Pulumi.STACK.yaml (comments and layout kept) and rendered/STACK/. Never deploys. "
                    "Refuses a release the history does not hold, uncommitted changes to the stack file, and images not pinned by digest.",
    )
    rollback.add_argument("stack", metavar="STACK")
    rollback.add_argument("--to", metavar="VERSION", help="the release to go back to: a version or a commit from `ops history` (default: the one before the current)")
    rollback.add_argument("--dry-run", action="store_true", help="print the diffs, write nothing")
    rollback.set_defaults(run=_rollback)

    inspect = commands.add_parser(
        "inspect", help="read the live cluster and load balancer (read-only) and prove they do what the stack declares",
        description="Exit codes: 0 converged, 1 drift or failure, 2 bad arguments, 3 no access (the missing RBAC verb/resource or IAM permission is named).",
    )
    inspect.add_argument("stack", metavar="STACK")
    inspect.add_argument("--context", help="kubeconfig context (default: the stack's coditect:cluster.context)")
    inspect.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    inspect.add_argument("--project", dest="gcp_project", help="Google Cloud project (default: the stack's gcp:project)")
    inspect.add_argument("--gcp-endpoint", help="one endpoint serving both the Compute and the Kubernetes Engine API, as a stand-in at "
                         "http://127.0.0.1:PORT (anonymous) does; --compute-endpoint and --container-endpoint take precedence over it")
    inspect.add_argument("--compute-endpoint", help="Compute Engine API endpoint, e.g. a Private Service Connect endpoint "
                         "(default: --gcp-endpoint, else https://compute.googleapis.com)")
    inspect.add_argument("--container-endpoint", help="Kubernetes Engine API endpoint, e.g. a Private Service Connect endpoint "
                         "(default: --gcp-endpoint, else https://container.googleapis.com)")
    inspect.add_argument("--wait", type=float, default=0.0, metavar="S", help="poll until every layer converges or S seconds pass")
    inspect.add_argument("--interval", type=float, default=10.0, metavar="S", help="seconds between polls under --wait (default 10)")
    inspect.add_argument("--timeout", type=float, default=5.0, metavar="S", help="seconds to wait for any single API answer (default 5)")
    inspect.add_argument("--json", action="store_true", help="print one machine-readable report")
    inspect.set_defaults(run=_inspect)

    from ops.probe.job import DEFAULT_IMAGE
    from ops.probe.table import DEFAULT_REGISTRY

    probe = commands.add_parser(
        "probe", help="run a short-lived Job as an IDE pod and prove what it can reach (metadata, kubelet, cluster: no; DNS, registry: yes)",
        description="Creates a Job in the IDE's namespace whose pod carries the IDE pods' labels, service account and runtime class, reads "
                    "its log and deletes it. Exit codes: 0 every probe as expected, 1 any probe not, 2 bad arguments, 3 no access "
                    "(RBAC: jobs create/get/delete, pods list, pods/log get in the namespace).",
    )
    probe.add_argument("stack", metavar="STACK")
    probe.add_argument("--peer", required=True, metavar="HOST:PORT", help="a pod in another namespace the IDE must not reach, e.g. 10.48.3.17:8080")
    probe.add_argument("--registry", default=DEFAULT_REGISTRY, metavar="URL", help=f"an https URL the IDE must reach (default {DEFAULT_REGISTRY})")
    probe.add_argument("--context", help="kubeconfig context (default: the stack's coditect:cluster.context)")
    probe.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    probe.add_argument("--image", default=DEFAULT_IMAGE, help=f"an image with python3 (default {DEFAULT_IMAGE}; pin a mirrored copy by digest)")
    probe.add_argument("--deadline", type=int, default=120, metavar="S", help="the Job's activeDeadlineSeconds, 10..3600 (default 120)")
    probe.add_argument("--probe-timeout", type=float, default=3.0, metavar="S", help="seconds each probe waits (default 3)")
    probe.add_argument("--json", action="store_true", help="print one machine-readable report")
    probe.set_defaults(run=_probe)

    target = commands.add_parser(
        "target", help="where a stack deploys (project, location, cluster, context, verify URL), from its stack file alone",
        description="Prints key=value lines; the delivery workflow reads them to fetch credentials for the stack's own cluster.",
    )
    target.add_argument("stack", metavar="STACK")
    target.add_argument("--github-output", action="store_true", help="also append the lines to $GITHUB_OUTPUT (inside GitHub Actions)")
    target.set_defaults(run=_target)

    from ops import cluster

    cluster.register(commands)
