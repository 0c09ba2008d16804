"""Operator commands: `python -m ops render|check|verify|promote|diff`.

Exit codes: 0 all good, 1 a check failed, 2 bad arguments, stack file or settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ops import commands
from ops.errors import UsageError

CHECKOUT = Path(__file__).resolve().parent.parent  # the default --project: this program's own directory


def _render(args: argparse.Namespace) -> int:
    from ops.program import available_stacks
    from ops.render import DEFAULT_OUT, render

    root = Path(args.project).resolve()
    if not args.all and args.stack is None:
        raise UsageError("render needs a STACK (or --all); stacks: " + ", ".join(available_stacks(root)))
    stacks = available_stacks(root) if args.all else [args.stack]
    out_dir = Path(args.out) if args.out else root / DEFAULT_OUT.name
    worst_exit_code = 0
    for stack in stacks:
        worst_exit_code = max(worst_exit_code, render(stack, out_dir, sys.stdout, root))
    return worst_exit_code


def _check(args: argparse.Namespace) -> int:
    from ops.render import check_all

    return check_all(sys.stdout, args.stacks or None, Path(args.project).resolve(), preview=args.preview)


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
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as parser_exit:  # --help, or bad arguments (2)
        return int(parser_exit.code or 0)
    try:
        return int(args.run(args))
    except UsageError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
