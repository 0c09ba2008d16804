"""Generated parts of hand-written documents: the text between two marker lines is replaced by what a
generator produces, so a test can compare the committed document with a fresh generation."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class GeneratedPart:
    document: Path
    begin: str
    end: str
    generate: Callable[[], str]

    def filled(self, text: str) -> str:
        """The document's text with the generated part between the markers."""
        if self.begin not in text or self.end not in text:
            raise ValueError(f"{self.document.name} has no generated-part markers ({self.begin} ... {self.end})")
        head, rest = text.split(self.begin, 1)
        _, tail = rest.split(self.end, 1)
        return f"{head}{self.begin}\n{self.generate()}\n{self.end}{tail}"

    def main(self, prog: str, description: str | None, argv: list[str] | None = None) -> int:
        """Print the part, or with --write replace it in the document."""
        parser = argparse.ArgumentParser(prog=prog, description=description)
        parser.add_argument("--write", action="store_true", help=f"rewrite the generated part of {self.document.name}")
        args = parser.parse_args(argv)
        if not args.write:
            sys.stdout.write(self.generate() + "\n")
            return 0
        try:
            self.document.write_text(self.filled(self.document.read_text(encoding="utf-8")), encoding="utf-8")
        except (OSError, ValueError) as error:
            sys.stderr.write(f"error: {error}\n")
            return 1
        return 0
