"""`python -m ops check [STACK...]`: every stack rendered in memory, every check run (CI, pre-commit)."""

from __future__ import annotations

import argparse
import sys

from ops.commands.paths import project_dir
from ops.errors import EXIT_FAILED, EXIT_OK

HELP = "render every stack in memory and run every check (CI / pre-commit)"
DESCRIPTION = (
    "The GKE policy pack (with policy/config/STACK.json, as the CLI gets it), strict schemas, Google's API types, and "
    "the committed golden files (rendered/STACK/, policy/config/STACK.json) against a fresh render. Writes nothing."
)
EXITS = {
    EXIT_OK: "every stack passes every check and its golden files are current",
    EXIT_FAILED: "a check failed, a golden file is stale or unreadable, or a rendered/<x>/ belongs to no stack",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stacks", nargs="*", metavar="STACK", help="only these stacks (default: all, and leftovers of removed stacks)")
    parser.add_argument(
        "--preview", action="store_true", help="run the program as `pulumi preview` does (cloud-computed outputs unknown); golden files are not compared"
    )
    parser.add_argument("--json", action="store_true", help="print one machine-readable report: per stack, status, problems (rule, resource, fix)")


def run(args: argparse.Namespace) -> int:
    from ops.project_check import check_all

    return check_all(sys.stdout, args.stacks or None, project_dir(args), preview=args.preview, as_json=args.json)
