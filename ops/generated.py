"""Generated parts of hand-written documents: the text between two marker lines is replaced by what a
generator produces, so a test can compare the committed document with a fresh generation.

Every generated part of README.md and docs/ is one ``GeneratedPart``; ``make docs`` runs each part's
``command`` with ``--write``, and tests/test_docs.py fails on a stale part, naming that command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class GeneratedPart:
    document: Path
    begin: str
    end: str
    generate: Callable[[], str]
    command: str = ""  # what refreshes the part, e.g. `python -m ops.rule_table --write`

    def filled(self, text: str) -> str:
        """The document's text with the generated part between the markers."""
        if self.begin not in text or self.end not in text:
            raise ValueError(f"{self.document.name} has no generated-part markers ({self.begin} ... {self.end})")
        head, rest = text.split(self.begin, 1)
        _, tail = rest.split(self.end, 1)
        return f"{head}{self.begin}\n{self.generate()}\n{self.end}{tail}"

    def is_current(self) -> bool:
        """Whether the committed document already holds what the generator produces."""
        text = self.document.read_text(encoding="utf-8")
        return self.filled(text) == text

    def main(self, prog: str, description: str | None, argv: list[str] | None = None) -> int:
        """Print the part; with --write replace it in the document; with --check exit 1 when it is stale."""
        parser = argparse.ArgumentParser(prog=prog, description=description)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--write", action="store_true", help=f"rewrite the generated part of {self.document.name}")
        mode.add_argument("--check", action="store_true", help=f"exit 1 when the generated part of {self.document.name} is stale")
        args = parser.parse_args(argv)
        if not (args.write or args.check):
            sys.stdout.write(self.generate() + "\n")
            return 0
        try:
            return self._check() if args.check else self._write()
        except (OSError, ValueError) as error:
            sys.stderr.write(f"error: {error}\n")
            return 1

    def _check(self) -> int:
        if self.is_current():
            return 0
        shown = self.document.relative_to(ROOT) if self.document.is_relative_to(ROOT) else self.document
        sys.stderr.write(f"{shown} is stale: run `{self.command or 'make docs'}`\n")
        return 1

    def _write(self) -> int:
        self.document.write_text(self.filled(self.document.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
