"""`python -m ops render STACK|--all`: a stack's Kubernetes and Google Cloud resources to files, checked."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ops.commands.paths import path_argument, project_dir
from ops.errors import EXIT_FAILED, EXIT_OK, UsageError, clip

HELP = "render a stack's Kubernetes and GCP resources to files, checked"
DESCRIPTION = (
    "Writes rendered/STACK/{kubernetes,gcp}.yaml and policy/config/STACK.json (with --out, all three under that "
    "directory), all together or none, and prints what `pulumi up` would create and the checks' verdict."
)
EXITS = {EXIT_OK: "every stack rendered checks clean", EXIT_FAILED: "a check failed (the files of a program that ran are written, to review)"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", nargs="?", help="dev, staging or prod (a Pulumi.<stack>.yaml)")
    parser.add_argument("--all", action="store_true", help="render every stack (refreshes the golden files)")
    parser.add_argument("--out", help="output directory (default: rendered/)")
    parser.add_argument("--json", action="store_true", help="print one machine-readable report: per stack, status, problems, files written")


def run(args: argparse.Namespace) -> int:
    from ops.program import available_stacks, require_stacks
    from ops.render import DEFAULT_OUT, print_rendered, render_stack, rendered_json

    root = project_dir(args)
    if not args.all and args.stack is None:
        raise UsageError("render needs a STACK (or --all); stacks: " + (", ".join(available_stacks(root)) or "none"))
    stacks = require_stacks(root) if args.all else [args.stack]
    out_dir = Path(path_argument(args.out, "--out")) if args.out else root / DEFAULT_OUT.name
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {clip(str(out_dir), 200)} is a file, not a directory. Fix: pass a directory (it is created when missing)")
    records, ok = [], True
    for stack in stacks:
        rendered = render_stack(stack, out_dir, root)
        ok &= rendered.report.ok
        if args.json:
            records.append(rendered_json(rendered))
        else:
            print_rendered(rendered, sys.stdout)
    if args.json:
        sys.stdout.write(json.dumps({"command": "render", "ok": ok, "stacks": records}, indent=2) + "\n")
    return EXIT_OK if ok else EXIT_FAILED
