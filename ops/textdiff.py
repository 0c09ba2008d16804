"""The one unified text diff the operator commands print (promote, diff, stale golden renders)."""

from __future__ import annotations

import difflib


def unified_diff(before: str, after: str, before_label: str, after_label: str, context_lines: int = 3) -> str:
    """`before` -> `after` as a unified diff under the two labels; "" when the texts are equal."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            before_label,
            after_label,
            n=context_lines,
        )
    )
