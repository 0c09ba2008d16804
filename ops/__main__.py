"""Operator commands: `python -m ops COMMAND` (`python -m ops --help` lists them; each module of
ops/commands/ is one). The exit codes of every command are one table, ops/errors.py EXIT_CODES
(docs/operations.md, "Exit codes"); this module holds the parser and the one error boundary."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ops import commands, terminal
from ops.errors import EXIT_BUG, EXIT_CODES, EXIT_INTERRUPTED, EXIT_USAGE, EXIT_WRITE, Refused, UsageError, WriteError, clip, clip_lines, refusal_text

CHECKOUT = Path(__file__).resolve().parent.parent  # the default --project: this program's own directory


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ops",
        description="Render, check, promote and inspect the coditect GKE stacks.",
        epilog="Exit codes of every command: " + "; ".join(f"{code.code} {code.meaning}" for code in EXIT_CODES) + ".",
    )
    parser.add_argument("--project", default=str(CHECKOUT), help="the Pulumi project directory (default: this checkout)")
    subcommands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="one of these (`python -m ops COMMAND --help`: its arguments and exit codes)"
    )
    commands.register(subcommands)
    parser.set_defaults(generated_parts=generated_parts)
    return parser


def generated_parts() -> list[Any]:
    """Every generated part of docs/ and of the package (`ops docs`), imported on use: the settings model and the
    registry are not light. component_args writes src/coditect/args.py, the SocketIoApp args, from the settings model."""
    from ops import component_args, component_schema, exit_table, rule_table, runbook, settings_doc

    return [settings_doc.PART, rule_table.PART, runbook.PART, exit_table.PART, component_args.PART, component_schema.PART]


def main(argv: Sequence[str] | None = None) -> int:
    """The one error boundary of every command: an expected failure is one message (what, where, fix)
    and its exit code; only a bug shows a traceback. Everything printed passes the terminal-safe printer
    (`ops.terminal`): what came from a server, a cluster or git cannot drive the terminal."""
    with terminal.safe_streams():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as parser_exit:  # --help (0), or bad arguments (argparse's 2, which is EXIT_USAGE)
        return parser_exit.code if isinstance(parser_exit.code, int) else EXIT_USAGE
    try:
        return int(args.run(args))
    except Refused as refusal:  # the command would not go ahead: its reason on stderr, never mixed into stdout's output
        sys.stderr.write(f"{clip_lines(refusal_text(refusal))}\n")
        return refusal.exit_code
    except UsageError as error:
        return _failed(str(error), EXIT_USAGE)
    except WriteError as error:
        return _failed(str(error), EXIT_WRITE)
    except KeyboardInterrupt:
        return _failed("interrupted; files are replaced all together or not at all, so none was left half-written", EXIT_INTERRUPTED)
    except OSError as error:  # the file system refused something outside the stack files
        where = f" ({clip(str(error.filename), 200)})" if error.filename else ""
        return _failed(f"{error.strerror or error}{where}. Nothing was changed. Fix: check that path, then run the command again", EXIT_WRITE)
    except Exception:
        sys.stderr.write(traceback.format_exc())
        return _failed(
            f"this is a bug in `python -m ops {args.command}`, not a problem with your input. Please report it with the command line and the traceback above.",
            EXIT_BUG,
        )


def _failed(message: str, exit_code: int) -> int:
    sys.stderr.write(f"error: {clip_lines(message)}\n")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
