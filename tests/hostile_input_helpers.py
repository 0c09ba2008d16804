"""Shared by the hostile-input tests (tests/test_hostile_input*.py, issue 11): the command line run in-process with
its output captured (never a traceback), a snapshot of a project's files, and the stack-file reader's refusal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ops import stack_files
from ops.__main__ import main
from ops.errors import StackFileError

FAST = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
NEW_DIGEST = "sha256:" + "a" * 64


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def cli_runner(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """`ops ARGS...` run in-process: its exit code and output, asserting it printed no traceback."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err, captured.err
        return CliResult(code, captured.out, captured.err)

    return run


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def refusal(text: str | bytes) -> str:
    """The reader's refusal of `text` as a stack file (the test fails when it is accepted)."""
    with pytest.raises(StackFileError) as refused:
        if isinstance(text, bytes):
            stack_files.parse(stack_files.decode(text, "Pulumi.x.yaml"), "Pulumi.x.yaml")
        else:
            stack_files.parse(text, "Pulumi.x.yaml")
    return str(refused.value)
