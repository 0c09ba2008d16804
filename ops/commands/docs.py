"""`python -m ops docs [--check]`: every generated part of docs/ rewritten from its source, or checked."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ops.errors import EXIT_FAILED, EXIT_OK

HELP = "regenerate every generated part of docs/ (settings, rules, runbook index, exit codes), or --check them"
DESCRIPTION = (
    "Each part is the text between two marker lines of a document, produced from its one source: the settings "
    "model's JSON schema, the rule registry, the verify and inspect layers, and the exit-code table. "
    "`make docs` runs each part's own module with --write; this runs them all at once."
)
EXITS = {
    EXIT_OK: "every part rewritten (or, with --check, current)",
    EXIT_FAILED: "--check: a part is stale (each is named, with the command that refreshes it), or a document lacks its markers",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 naming each stale part")


def run(args: argparse.Namespace) -> int:
    # The parts come from the composition root (ops/__main__.py): the exit-code table documents every command,
    # this one included, so importing it from here would close a circle through ops.commands.
    parts: list[Any] = args.generated_parts()
    mode = ["--check"] if args.check else ["--write"]
    worst = EXIT_OK
    for part in parts:
        worst = max(worst, part.main(f"python -m ops docs ({part.document.name})", None, mode))
    if not args.check:
        sys.stdout.write(f"Regenerated {', '.join(sorted({part.document.name for part in parts}))}\n")
    return EXIT_OK if worst == EXIT_OK else EXIT_FAILED
