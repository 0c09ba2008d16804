"""What the live commands (`inspect`, `probe`) share: the kubeconfig refused before the slow imports."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ops.commands.paths import project_root
from ops.errors import UsageError


def kubeconfig_first(args: argparse.Namespace, arguments_checked: Callable[[], object]) -> None:
    """Refuse a missing or unusable kubeconfig (naming the gcloud command that writes one) before
    importing the command, whose client libraries take seconds to load. A bad argument is still said
    first, as run() orders them: `arguments_checked` (the import and the check) runs only on a refusal.
    run() checks the kubeconfig again; the parse is reused (ops/kubeconfig.py parses unchanged bytes once)."""
    from ops.kubeconfig import preflight

    try:
        preflight(args.kubeconfig, args.context, args.stack, project_root(args))
    except UsageError:
        arguments_checked()
        raise


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--context", help="kubeconfig context (default: the stack's coditect:cluster.context)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
