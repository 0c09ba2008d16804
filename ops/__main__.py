"""Operator commands: `python -m ops render|check|verify|promote|diff`.

Exit codes: 0 all good, 1 a check failed or the command refused, 2 bad arguments, stack file,
settings or policy config, 3 a file could not be written (nothing was changed), 4 a bug in ops
(traceback printed), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from ops import commands, terminal
from ops.errors import EXIT_BUG, EXIT_INTERRUPTED, EXIT_USAGE, EXIT_WRITE, UsageError, WriteError, clip, clip_lines

CHECKOUT = Path(__file__).resolve().parent.parent  # the default --project: this program's own directory


def _project(args: argparse.Namespace) -> Path:
    """--project as a directory, or UsageError."""
    root = Path(_path_argument(args.project, "--project")).resolve()
    if not root.is_dir():
        raise UsageError(f"--project {clip(str(root), 200)} is not a directory. Fix: pass the directory holding Pulumi.yaml")
    return root


def _path_argument(value: str, flag: str) -> str:
    if "\0" in value:
        raise UsageError(f"{flag} contains a NUL character, which no path can hold")
    return value


def _render(args: argparse.Namespace) -> int:
    from ops.program import available_stacks, require_stacks
    from ops.render import DEFAULT_OUT, render

    root = _project(args)
    if not args.all and args.stack is None:
        raise UsageError("render needs a STACK (or --all); stacks: " + (", ".join(available_stacks(root)) or "none"))
    stacks = require_stacks(root) if args.all else [args.stack]
    out_dir = Path(_path_argument(args.out, "--out")) if args.out else root / DEFAULT_OUT.name
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {clip(str(out_dir), 200)} is a file, not a directory. Fix: pass a directory (it is created when missing)")
    worst_exit_code = 0
    for stack in stacks:
        worst_exit_code = max(worst_exit_code, render(stack, out_dir, sys.stdout, root))
    return worst_exit_code


def _check(args: argparse.Namespace) -> int:
    from ops.render import check_all

    return check_all(sys.stdout, args.stacks or None, _project(args), preview=args.preview)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    parser.add_argument("--project", default=str(CHECKOUT), help="the Pulumi project directory (default: this checkout)")
    subcommands = parser.add_subparsers(dest="command", required=True)

    render = subcommands.add_parser("render", help="render a stack's Kubernetes and GCP resources to files, checked")
    render.add_argument("stack", nargs="?", help="dev, staging or prod (a Pulumi.<stack>.yaml)")
    render.add_argument("--all", action="store_true", help="render every stack (refreshes the golden files)")
    render.add_argument("--out", help="output directory (default: rendered/)")
    render.set_defaults(run=_render)

    check = subcommands.add_parser("check", help="render every stack in memory and run every check (CI / pre-commit)")
    check.add_argument("stacks", nargs="*", help="only these stacks (default: all)")
    check.add_argument("--preview", action="store_true",
                       help="run the program as `pulumi preview` does (cloud-computed outputs unknown); golden files are not compared")
    check.set_defaults(run=_check)

    commands.register(subcommands)
    return parser


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
    except SystemExit as parser_exit:  # --help, or bad arguments (2)
        return parser_exit.code if isinstance(parser_exit.code, int) else EXIT_USAGE
    try:
        return int(args.run(args))
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
        return _failed(f"this is a bug in `python -m ops {args.command}`, not a problem with your input. Please report it with the "
                       "command line and the traceback above.", EXIT_BUG)


def _failed(message: str, exit_code: int) -> int:
    sys.stderr.write(f"error: {clip_lines(message)}\n")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
