"""`python -m ops promote FROM TO`: the release (version, image digests) copied from one stack file to the next."""

from __future__ import annotations

import argparse
import sys

from ops.commands.paths import project_root
from ops.errors import EXIT_FAILED, EXIT_OK, EXIT_WRITE

HELP = "copy the release (version, image digests) from one stack file to the next, showing the rendered diff"
DESCRIPTION = "Changes only coditect:release in Pulumi.TO.yaml (comments and layout kept) and rendered/TO/. Never deploys."
EXITS = {
    EXIT_OK: "promoted, nothing to do, or --dry-run printed the diffs",
    EXIT_FAILED: "refused: backwards or skipping a stage, images not pinned by digest, or a stack that does not render cleanly",
    EXIT_WRITE: "a file could not be written, or another promote or rollback holds the stack file: nothing was changed",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="FROM", help="the stack whose release is copied, e.g. staging")
    parser.add_argument("target", metavar="TO", help="the stack file that receives it, e.g. prod")
    parser.add_argument("--dry-run", action="store_true", help="print the diffs, write nothing")
    parser.add_argument("--skip-stage", action="store_true", help="allow skipping an environment (dev -> prod)")


def run(args: argparse.Namespace) -> int:
    from ops.promote import promote

    return promote(args.source, args.target, sys.stdout, dry_run=args.dry_run, skip_stage=args.skip_stage, root=project_root(args))
