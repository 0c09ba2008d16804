"""Every `python -m ops` command, one module each (pip's model). A command module holds `HELP` (its one
line in `--help`), optionally `DESCRIPTION`, `EXITS` (what each exit code of ops/errors.py's table means
for it; the boundary's codes apply to every command), `add_arguments(parser)` and `run(args) -> int`.
A module imports only what building the parser needs; `run` imports the rest, so `--help` and a bad
argument cost no SDK or client import."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from types import ModuleType

from ops.commands import check, cluster, diff, docs, history, inspect, migrate, probe, promote, render, rollback, target, verify
from ops.errors import BOUNDARY_CODES, EXIT_CODES

# In the order `--help` lists them: offline, release, live, delivery, local cluster, documents.
COMMANDS: tuple[ModuleType, ...] = (render, check, verify, promote, diff, history, rollback, migrate, inspect, probe, target, cluster, docs)


def name(command: ModuleType) -> str:
    return command.__name__.rsplit(".", 1)[-1]


def exits(command: ModuleType) -> dict[int, str]:
    """Every code the command can end with -> what it means there: its own, then the boundary's."""
    own: Mapping[int, str] = command.EXITS
    generic = {code.code: code.meaning for code in EXIT_CODES}
    return {code: own.get(code, generic[code]) for code in sorted({*own, *BOUNDARY_CODES})}


def exits_text(command: ModuleType) -> str:
    return "Exit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in exits(command).items()) + "."


def register(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for command in COMMANDS:
        parser = subcommands.add_parser(name(command), help=command.HELP, description=getattr(command, "DESCRIPTION", command.HELP), epilog=exits_text(command))
        command.add_arguments(parser)
        parser.set_defaults(run=command.run)
