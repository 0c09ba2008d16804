"""`python -m ops probe STACK --peer HOST:PORT`: a short-lived Job run as an IDE pod, proving what it can reach."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ops.commands.live import add_cluster_arguments, kubeconfig_first
from ops.commands.paths import project_root
from ops.errors import EXIT_FAILED, EXIT_NO_ACCESS, EXIT_OK

HELP = "run a short-lived Job as an IDE pod and prove what it can reach (metadata, kubelet, cluster: no; DNS, registry: yes)"
DESCRIPTION = "Creates a Job in the IDE's namespace whose pod carries the IDE pods' labels, service account and runtime class, reads its log and deletes it."
EXITS = {
    EXIT_OK: "every probe as expected",
    EXIT_FAILED: "a probe not as expected, no result, or the cluster unreachable",
    EXIT_NO_ACCESS: "no access: the RBAC verb and resource denied is named (jobs create/get/delete, pods list, pods/log get in the namespace)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ops.probe.job import DEFAULT_IMAGE
    from ops.probe.table import DEFAULT_REGISTRY

    parser.add_argument("stack", metavar="STACK", help="the stack whose IDE pods the probe stands in for")
    parser.add_argument("--peer", required=True, metavar="HOST:PORT", help="a pod in another namespace the IDE must not reach, e.g. 10.48.3.17:8080")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY, metavar="URL", help=f"an https URL the IDE must reach (default {DEFAULT_REGISTRY})")
    add_cluster_arguments(parser)
    parser.add_argument("--image", default=DEFAULT_IMAGE, help=f"an image with python3 (default {DEFAULT_IMAGE}; pin a mirrored copy by digest)")
    parser.add_argument("--deadline", type=int, default=120, metavar="S", help="the Job's activeDeadlineSeconds, 10..3600 (default 120)")
    parser.add_argument("--probe-timeout", type=float, default=3.0, metavar="S", help="seconds each probe waits (default 3)")
    parser.add_argument("--json", action="store_true", help="print one machine-readable report")


def _options(args: argparse.Namespace) -> Any:
    from ops.probe.options import Options

    return Options(
        stack=args.stack,
        root=project_root(args),
        peer=args.peer,
        registry=args.registry,
        context=args.context,
        kubeconfig=args.kubeconfig,
        image=args.image,
        deadline=args.deadline,
        probe_timeout=args.probe_timeout,
        json=args.json,
    )


def _arguments_checked(args: argparse.Namespace) -> None:
    from ops.probe.table import parse_peer, parse_registry

    _options(args).validate()
    parse_peer(args.peer)
    parse_registry(args.registry)


def run(args: argparse.Namespace) -> int:
    kubeconfig_first(args, lambda: _arguments_checked(args))
    from ops.probe.run import run as probe

    return probe(_options(args), sys.stdout, sys.stderr)
