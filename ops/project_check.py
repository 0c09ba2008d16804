"""The library behind `ops check`: every stack of a project checked in memory, its golden files
(rendered/<stack>/ and policy/config/<stack>.json) compared with a fresh render, and the leftovers of
stacks that no longer exist flagged. Printed as text, or as one JSON report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from ops.errors import EXIT_FAILED, EXIT_OK, UsageError, clip, clip_lines
from ops.program import ROOT, available_stacks, require_stacks, stack_file_names, stack_path
from ops.render import DEFAULT_OUT, freeze_loaded_objects, print_verdict, shown_path, stale
from ops.stack_check import check_stack, problem_record

DIFF_LINES = 400  # lines of a stale file's diff that are printed


def project_leftovers(root: Path) -> list[str]:
    """What the project holds for a stack that does not exist: a rendered/<stack>/ without its stack
    file, or a stack file whose name is not a valid stack name."""
    stacks = set(available_stacks(root))
    problems = [
        f"Pulumi.{name}.yaml: {clip(repr(name), 60)} is not a valid stack name; rename the file" for name in stack_file_names(root) if name not in stacks
    ]
    golden_dir = root / DEFAULT_OUT.name
    if golden_dir.is_dir():
        problems += [
            f"{DEFAULT_OUT.name}/{clip(entry.name, 60)}/ belongs to no stack (no Pulumi.{clip(entry.name, 60)}.yaml); "
            f"delete it (git rm -r {DEFAULT_OUT.name}/{clip(entry.name, 60)}) or restore the stack file"
            for entry in sorted(golden_dir.iterdir())
            if entry.is_dir() and entry.name not in stacks
        ]
    return problems


def _stale_record(stack: str, path: Path, diff: str) -> dict[str, Any]:
    return {
        **problem_record(
            "golden-file", shown_path(path), "the committed file does not match the program's render", f"python -m ops render {stack}, then commit"
        ),
        "diff": clip_diff(diff),
    }


def check_all(out: TextIO, stacks: list[str] | None = None, root: Path = ROOT, preview: bool = False, as_json: bool = False) -> int:
    """Every stack: program, rules, schemas, Google API types, and golden files (root/rendered) up to
    date; with `preview`, the program as `pulumi preview` runs it, without the golden files. Checking
    every stack also flags leftovers of stacks that no longer exist. UsageError (EXIT_USAGE) when a
    named stack does not exist, or the project has none. With `as_json`, one JSON document instead of text."""
    if stacks:
        for stack in stacks:
            stack_path(stack, root)  # an unknown stack is a bad argument, not a failed check
    golden_dir = root / DEFAULT_OUT.name
    leftovers: list[str] = []
    if not stacks:
        stacks = require_stacks(root)
        leftovers = project_leftovers(root)
    text = None if as_json else out
    for leftover in leftovers:
        _write(text, f"FAILED: {leftover}\n")
    records = [_checked(stack, root, golden_dir, preview, text) for stack in stacks]
    failed = bool(leftovers) or any(record["status"] != "ok" for record in records)
    if as_json:
        out.write(
            json.dumps(
                {
                    "command": "check",
                    "ok": not failed,
                    "preview": preview,
                    "problems": [problem_record("project", None, leftover) for leftover in leftovers],
                    "stacks": records,
                },
                indent=2,
            )
            + "\n"
        )
    return EXIT_FAILED if failed else EXIT_OK


def _checked(stack: str, root: Path, golden_dir: Path, preview: bool, text: TextIO | None) -> dict[str, Any]:
    """One stack's record, printed as text as it is found when `text` is a stream."""
    try:
        report = check_stack(stack, root, preview=preview)
    except UsageError as error:
        _write(text, f"{stack}: FAILED: {clip_lines(str(error))}\n")
        return {"stack": stack, "status": "failed", "problems": [problem_record("usage", f"Pulumi.{stack}.yaml", str(error))]}
    if text is not None:
        print_verdict(report, text)
    freeze_loaded_objects()
    record = report.record()
    if report.run is not None and not preview:
        for path, diff in stale(report, golden_dir).items():
            record["status"] = "failed"
            record["problems"].append(_stale_record(stack, path, diff))
            _write(text, f"{stack}: rendered files are stale; refresh with `python -m ops render {stack}` and commit:\n{clip_diff(diff)}")
    return record


def _write(out: TextIO | None, text: str) -> None:
    if out is not None:
        out.write(text)


def clip_diff(diff: str, max_lines: int = DIFF_LINES) -> str:
    """A stale file's diff, bounded: long lines cut, at most `max_lines` lines."""
    return clip_lines(diff.rstrip("\n"), max_lines) + "\n"
