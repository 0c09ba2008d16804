"""Shared fixtures: the real program run in-process under Pulumi mocks, once per stack and process.

Under pytest-xdist every worker is its own process with its own runs; nothing is shared between
tests but those runs, and each test gets its own copy of them.
"""

from __future__ import annotations

import copy
import gc
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ops.program import ProgramRun, read_yaml, run_program, stack_config  # noqa: E402

STACKS = ("dev", "staging", "prod")

_RUNS: dict[str, ProgramRun] = {}


def stack_run(stack: str) -> ProgramRun:
    """The program's run for a committed stack: computed once per process (it is deterministic), a
    fresh copy for every caller, so a test that edits what it gets cannot change another's."""
    if stack not in _RUNS:
        _RUNS[stack] = run_program(stack)
        # The run loaded the SDK modules the program uses, several hundred thousand objects that live
        # until the process ends; frozen, later full collections stop rescanning them (a tenth of
        # the suite's time otherwise).
        gc.freeze()
    return copy.deepcopy(_RUNS[stack])


@pytest.fixture(params=STACKS)
def any_stack(request: pytest.FixtureRequest) -> ProgramRun:
    return stack_run(request.param)


@pytest.fixture
def prod() -> ProgramRun:
    return stack_run("prod")


def stack_settings_raw(stack: str) -> dict[str, Any]:
    """A stack file's `coditect:` config as a nested dict, for tests that tweak one value."""
    config = read_yaml(ROOT / f"Pulumi.{stack}.yaml")["config"]
    return {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in config.items() if k.startswith("coditect:")}


def engine_config(raw: dict[str, Any], stack: str | None = None) -> dict[str, str]:
    """Engine config from `coditect:` settings; the other namespaces' keys (gcp:project) come from the
    stack file of `stack` (default: the stack `raw` names as its environment)."""
    stack = stack or str(raw.get("environment", "dev"))
    config = read_yaml(ROOT / f"Pulumi.{stack}.yaml").get("config", {})
    other = {k: str(v) for k, v in config.items() if not k.startswith("coditect:") and not isinstance(v, (dict, list))}
    return {**other, **{f"coditect:{k}": json.dumps(v) if isinstance(v, (dict, list)) else str(v) for k, v in raw.items()}}


@pytest.fixture
def run_with() -> Callable[..., ProgramRun]:
    """Run the real __main__.py for `stack` with its config changed by `edit(raw_settings)`."""

    def _run(stack: str, edit: Callable[[dict[str, Any]], None]) -> ProgramRun:
        raw = stack_settings_raw(stack)
        edit(raw)
        return run_program(stack, config=engine_config(raw))

    return _run


@pytest.fixture
def run_components() -> Callable[..., ProgramRun]:
    """Run an arbitrary program (a function declaring components) under mocks."""

    def _run(program: Callable[[], None], stack: str = "dev") -> ProgramRun:
        config, secrets = stack_config(stack)
        return run_program(stack, config=config, program=program, secret_keys=secrets)

    return _run


def copy_project(tmp_path: Path, extra_program: str = "", stack_edit: str = "") -> Path:
    """A copy of this project (stack files, program, golden renders, policy config) to break or
    promote in; `extra_program` is appended to __main__.py, `stack_edit` to Pulumi.prod.yaml."""
    root = tmp_path / "project"
    root.mkdir()
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, root / path.name)
    (root / "__main__.py").write_text((ROOT / "__main__.py").read_text() + extra_program)
    shutil.copytree(ROOT / "rendered", root / "rendered")
    shutil.copytree(ROOT / "policy" / "config", root / "policy" / "config")
    if stack_edit:
        with (root / "Pulumi.prod.yaml").open("a") as stack_file:
            stack_file.write(stack_edit)
    return root
