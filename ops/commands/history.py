"""`python -m ops history STACK`: every release the stack file has held, from git, newest first."""

from __future__ import annotations

import argparse
import sys

from ops.commands.paths import project_root
from ops.errors import EXIT_FAILED, EXIT_OK

HELP = "every release (version, image digests) the stack file has held, from git, newest first"
DESCRIPTION = "Reads the git history of Pulumi.STACK.yaml; the release the file holds now is marked with *."
EXITS = {EXIT_OK: "the releases were listed", EXIT_FAILED: "git cannot tell the history (not a repository, no commit, a bound hit)"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", metavar="STACK", help="the stack whose Pulumi.STACK.yaml history is read")
    parser.add_argument("--json", action="store_true", help="print one machine-readable list")


def run(args: argparse.Namespace) -> int:
    from ops.history import history

    return history(args.stack, sys.stdout, as_json=args.json, root=project_root(args))
