"""The failures the command line expects, each with its exit code, and how their messages are bounded.

Kept import-light: the error boundary in ``ops/__main__.py`` imports this before anything heavy.
"""

from __future__ import annotations

# Exit codes of every `python -m ops` command (README, "Exit codes").
EXIT_OK = 0
EXIT_FAILED = 1  # a check failed, or the command refused to go ahead
EXIT_USAGE = 2  # bad arguments, stack file, settings or policy config: nothing was run
EXIT_WRITE = 3  # an output file could not be written: nothing was changed
EXIT_BUG = 4  # a bug in ops: the traceback is printed, with a request to report it
EXIT_INTERRUPTED = 130

# A message line longer than this is cut: a value of megabytes is never echoed in full.
MAX_LINE = 400
MAX_LINES = 200


class UsageError(Exception):
    """Bad stack name, unreadable stack file or invalid settings: exit code 2."""


class StackFileError(UsageError):
    """A stack name, stack file or project file that cannot be used; the message says where and why."""


class WriteError(Exception):
    """Output files that cannot be written (exit code 3); raised before any of them was changed."""


def clip(text: str, limit: int = MAX_LINE) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text)} characters in all]"


def clip_lines(message: str) -> str:
    """Every line of `message` clipped, and at most MAX_LINES of them."""
    lines = message.splitlines() or [""]
    kept = [clip(line) for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        kept.append(f"… [{len(lines) - MAX_LINES} more lines]")
    return "\n".join(kept)
