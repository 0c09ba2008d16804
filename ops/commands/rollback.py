"""`python -m ops rollback STACK [--to VERSION]`: an earlier release written back into the stack file."""

from __future__ import annotations

import argparse
import sys

from ops.commands.paths import project_root
from ops.errors import EXIT_FAILED, EXIT_OK, EXIT_WRITE

HELP = "write an earlier release back into the stack file (as promote does), showing the rendered diff"
DESCRIPTION = (
    "Changes only coditect:release in Pulumi.STACK.yaml (comments and layout kept) and rendered/STACK/. Never deploys. "
    "Refuses a release the history does not hold, uncommitted changes to the stack file, and images not pinned by digest."
)
EXITS = {
    EXIT_OK: "rolled back, nothing to do, or --dry-run printed the diffs",
    EXIT_FAILED: "refused: a release the history does not hold, uncommitted changes, images not pinned by digest, or git cannot tell",
    EXIT_WRITE: "a file could not be written, or another promote or rollback holds the stack file: nothing was changed",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", metavar="STACK", help="the stack whose release is rolled back")
    parser.add_argument(
        "--to", metavar="VERSION", help="the release to go back to: a version or a commit from `ops history` (default: the one before the current)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the diffs, write nothing")


def run(args: argparse.Namespace) -> int:
    from ops.rollback import rollback

    return rollback(args.stack, sys.stdout, to=args.to, dry_run=args.dry_run, root=project_root(args))
