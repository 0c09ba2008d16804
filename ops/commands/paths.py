"""The project directory and path arguments, as every command reads them."""

from __future__ import annotations

import argparse
from pathlib import Path

from ops.errors import UsageError, clip


def project_root(args: argparse.Namespace) -> Path:
    """--project resolved (the commands that read one stack file, whose reader names a missing one)."""
    return Path(args.project).resolve()


def project_dir(args: argparse.Namespace) -> Path:
    """--project as an existing directory, or UsageError (the commands that walk the whole project)."""
    root = Path(path_argument(args.project, "--project")).resolve()
    if not root.is_dir():
        raise UsageError(f"--project {clip(str(root), 200)} is not a directory. Fix: pass the directory holding Pulumi.yaml")
    return root


def path_argument(value: str, flag: str) -> str:
    if "\0" in value:
        raise UsageError(f"{flag} contains a NUL character, which no path can hold")
    return value
