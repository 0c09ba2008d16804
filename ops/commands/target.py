"""`python -m ops target STACK`: where a stack deploys, from its stack file alone."""

from __future__ import annotations

import argparse
import sys

from ops.commands.paths import project_root
from ops.errors import EXIT_OK

HELP = "where a stack deploys (project, location, cluster, context, verify URL), from its stack file alone"
DESCRIPTION = "Prints key=value lines; the delivery workflow reads them to fetch credentials for the stack's own cluster."
EXITS = {EXIT_OK: "the lines were printed (and appended to $GITHUB_OUTPUT with --github-output)"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", metavar="STACK", help="the stack whose deploy target is printed")
    parser.add_argument("--github-output", action="store_true", help="also append the lines to $GITHUB_OUTPUT (inside GitHub Actions)")


def run(args: argparse.Namespace) -> int:
    from ops.deploy_target import run as print_target

    return print_target(args.stack, project_root(args), sys.stdout, args.github_output)
