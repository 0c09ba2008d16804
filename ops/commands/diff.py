"""`python -m ops diff A B`: the rendered difference between two stacks, expected vs. to review."""

from __future__ import annotations

import argparse
import sys

from ops.commands.paths import project_root
from ops.errors import EXIT_FAILED, EXIT_OK

HELP = "the rendered difference between two stacks, expected vs. to review"
EXITS = {EXIT_OK: "the differences were printed", EXIT_FAILED: "refused (a stack does not render), or with --strict a difference other than the expected ones"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack_a", metavar="A", help="the stack compared from, e.g. staging")
    parser.add_argument("stack_b", metavar="B", help="the stack compared to, e.g. prod")
    parser.add_argument("--full", action="store_true", help="also print the unified diff of the rendered files")
    parser.add_argument("--strict", action="store_true", help="exit 1 when anything but the expected differences differs")


def run(args: argparse.Namespace) -> int:
    from ops.stack_diff import diff

    return diff(args.stack_a, args.stack_b, sys.stdout, full=args.full, strict=args.strict, root=project_root(args))
