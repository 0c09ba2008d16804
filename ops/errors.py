"""The failures the command line expects, the one table of exit codes every command returns, and how
messages are bounded.

Kept import-light: the error boundary in ``ops/__main__.py`` imports this before anything heavy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Exit codes of every `python -m ops` command; docs/operations.md's table is generated from EXIT_CODES.
EXIT_OK = 0
EXIT_FAILED = 1  # a check failed, or the command refused to go ahead
EXIT_USAGE = 2  # bad arguments, stack file, settings or policy config: nothing was run
EXIT_WRITE = 3  # an output file could not be written: nothing was changed
EXIT_BUG = 4  # a bug in ops: the traceback is printed, with a request to report it
EXIT_NO_ACCESS = 5  # RBAC or IAM denied a read or a write: the missing verb and resource, or permission, is named
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process ended by Ctrl-C


@dataclass(frozen=True)
class ExitCode:
    code: int
    name: str  # the constant above that holds it
    meaning: str
    boundary: bool = False  # any command can end so: the error boundary returns it, whatever the command


def exit_table(codes: Sequence[ExitCode]) -> tuple[ExitCode, ...]:
    """The codes in ascending order, or ValueError when two share a value or a name: one code, one meaning."""
    for attribute in ("code", "name"):
        values = [getattr(code, attribute) for code in codes]
        shared = sorted({value for value in values if values.count(value) > 1}, key=str)
        if shared:
            raise ValueError(f"exit codes share a {attribute}: {', '.join(map(str, shared))}. Fix: give each meaning its own {attribute}")
    return tuple(sorted(codes, key=lambda code: code.code))


EXIT_CODES = exit_table(
    [
        ExitCode(EXIT_OK, "EXIT_OK", "done: every check passed, nothing to do, or `--dry-run` printed what it would write"),
        ExitCode(
            EXIT_FAILED, "EXIT_FAILED", "a check failed (its report says which) or the command refused to go ahead (a `refused:` line on stderr says why)"
        ),
        ExitCode(
            EXIT_USAGE,
            "EXIT_USAGE",
            "bad arguments, stack file, settings or policy config, or a missing prerequisite the message names: nothing was run",
            boundary=True,
        ),
        ExitCode(EXIT_WRITE, "EXIT_WRITE", "an output file could not be written, or the file system refused a path: nothing was changed", boundary=True),
        ExitCode(EXIT_BUG, "EXIT_BUG", "a bug in ops: the traceback is printed, please report it", boundary=True),
        ExitCode(EXIT_NO_ACCESS, "EXIT_NO_ACCESS", "no access: the RBAC verb and resource, or the IAM permission, that was denied is named"),
        ExitCode(
            EXIT_INTERRUPTED, "EXIT_INTERRUPTED", "interrupted (Ctrl-C): files are written all together or not at all, so none is half-written", boundary=True
        ),
    ]
)
BOUNDARY_CODES = tuple(code.code for code in EXIT_CODES if code.boundary)

# A message line longer than this is cut: a value of megabytes is never echoed in full.
MAX_LINE = 400
MAX_LINES = 200
SHOWN_CHARS = 60  # a value quoted inside a sentence


class UsageError(Exception):
    """Bad stack name, unreadable stack file or invalid settings: EXIT_USAGE."""


class StackFileError(UsageError):
    """A stack name, stack file or project file that cannot be used; the message says where and why."""


class WriteError(Exception):
    """Output files that cannot be written (EXIT_WRITE); raised before any of them was changed."""


class Refused(Exception):
    """The command will not go ahead (EXIT_FAILED, or `exit_code`): why, and the stack's problems when it does not render.
    The error boundary writes it on stderr (`refusal_text`), so stdout holds only a command's output: a refusal never
    lands in `ops diff ... > plan.txt` or in a --json answer."""

    def __init__(self, reason: str, problems: Sequence[str] = (), exit_code: int = EXIT_FAILED) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems = tuple(problems)
        self.exit_code = exit_code  # EXIT_NO_ACCESS when a denied read is why (migrate --next)

    def __str__(self) -> str:
        return "\n".join([self.reason, *(f"  - {problem}" for problem in self.problems)])


def refusal_text(refusal: Refused) -> str:
    """The refusal as the error boundary writes it on stderr: `refused: ` and the reason, then each problem on its own line."""
    return f"refused: {refusal}"


def clip(text: str, limit: int = MAX_LINE) -> str:
    """`text` cut to `limit` characters, saying how much was left out: the one value-clipping helper of ops."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text)} characters in all]"


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """The repr of `value` (quoted, control characters escaped), clipped: an error never echoes megabytes back."""
    return clip(repr(value), limit)


def clip_lines(message: str, max_lines: int = MAX_LINES) -> str:
    """Every line of `message` clipped, and at most `max_lines` of them."""
    lines = message.splitlines() or [""]
    kept = [clip(line) for line in lines[:max_lines]]
    if len(lines) > max_lines:
        kept.append(f"… [{len(lines) - max_lines} more lines]")
    return "\n".join(kept)
