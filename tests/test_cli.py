"""The shape of `python -m ops`: one module per command, `--help` listing each with one line, every
positional explained, one exit-code table every command's codes come from, and `check`/`render --json`
as one machine-readable report."""

from __future__ import annotations

import argparse
import json
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import ops.commands
from ops import commands, errors
from ops.__main__ import build_parser, main
from ops.errors import EXIT_CODES, EXIT_FAILED, EXIT_OK, ExitCode, exit_table
from tests.conftest import copy_project

# The incident as a raw resource outside the components: an Ingress routing to a Service nobody declared.
RAW_INGRESS_TO_MISSING_SERVICE = """
import pulumi_kubernetes as k8s
k8s.networking.v1.Ingress(
    "legacy-api",
    metadata={"name": "coditect-api", "namespace": "coditect-app", "annotations": {"kubernetes.io/ingress.class": "gce"}},
    spec={"defaultBackend": {"service": {"name": "coditect-api-v2", "port": {"number": 80}}}},
)
"""
HELPERS = {"paths", "live"}  # modules of ops/commands/ that serve commands and are none


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


# --- one module per command, and --help -------------------------------------------------------


def test_every_module_of_ops_commands_is_a_registered_command() -> None:
    modules = {info.name for info in pkgutil.iter_modules(ops.commands.__path__)} - HELPERS
    assert modules == {commands.name(command) for command in commands.COMMANDS} == set(subparsers(build_parser()))
    for command in commands.COMMANDS:
        assert callable(command.add_arguments) and callable(command.run), commands.name(command)


def test_help_lists_every_command_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == EXIT_OK
    listed = capsys.readouterr().out
    for command in commands.COMMANDS:
        assert command.HELP and "\n" not in command.HELP and len(command.HELP) <= 130, commands.name(command)
        first_words = " ".join(command.HELP.split()[:4])
        assert f"    {commands.name(command)} " in listed and first_words in " ".join(listed.split()), commands.name(command)


def test_every_positional_argument_has_help() -> None:
    top = build_parser()
    assert all(action.help for action in top._actions if not action.option_strings), "the COMMAND positional"
    for name, parser in subparsers(top).items():
        positionals = [action for action in parser._actions if not action.option_strings]
        assert positionals or name in ("check", "docs"), name  # check: all stacks by default; docs: every part
        for action in positionals:
            assert action.help and action.help.strip(), f"{name} {action.dest}: a positional without help"


def test_a_positional_without_help_would_be_found() -> None:
    """The walk above sees a positional without help (so it can fail)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("stack")
    assert [a.dest for a in parser._actions if not a.option_strings and not a.help] == ["stack"]


# --- one exit-code table ----------------------------------------------------------------------


def test_the_exit_code_table_refuses_a_shared_code_or_name() -> None:
    with pytest.raises(ValueError, match="exit codes share a code: 3"):
        exit_table([ExitCode(3, "EXIT_WRITE", "a write failed"), ExitCode(3, "NO_ACCESS", "no access")])
    with pytest.raises(ValueError, match="exit codes share a name: EXIT_X"):
        exit_table([ExitCode(1, "EXIT_X", "one"), ExitCode(2, "EXIT_X", "two")])
    assert [c.code for c in exit_table([ExitCode(5, "B", "b"), ExitCode(0, "A", "a")])] == [0, 5]


def test_the_exit_code_table_has_no_duplicate_values() -> None:
    codes = [code.code for code in EXIT_CODES]
    assert len(codes) == len(set(codes)) and exit_table(EXIT_CODES) == EXIT_CODES
    assert errors.EXIT_NO_ACCESS not in (errors.EXIT_WRITE, errors.EXIT_USAGE, errors.EXIT_FAILED)


def test_every_commands_documented_codes_come_from_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    known = {code.code for code in EXIT_CODES}
    for command in commands.COMMANDS:
        name = commands.name(command)
        assert set(command.EXITS) <= known, name
        assert set(commands.exits(command)) >= set(errors.BOUNDARY_CODES), name
        epilog = subparsers(build_parser())[name].epilog or ""
        assert main([name, "--help"]) == EXIT_OK
        shown = " ".join(capsys.readouterr().out.split())
        assert " ".join(epilog.split()[:6]) in shown, name  # printed (argparse rewraps it, also at hyphens)
        for code, meaning in commands.exits(command).items():
            assert f"{code} {meaning}" in epilog, (name, code)


def test_the_live_commands_return_the_tables_no_access() -> None:
    """inspect and probe have no code of their own: what they return for a denied read is the table's."""
    assert commands.exits(commands.inspect)[errors.EXIT_NO_ACCESS].startswith("no access")
    assert commands.exits(commands.probe)[errors.EXIT_NO_ACCESS].startswith("no access")
    for path in (Path(ops.commands.__file__).parent.parent / "inspect" / "run.py", Path(ops.commands.__file__).parent.parent / "probe" / "run.py"):
        text = path.read_text(encoding="utf-8")
        assert "NO_ACCESS = " not in text and "return EXIT_NO_ACCESS" in text, path


# --- the error boundary and refusals -----------------------------------------------------------


def test_the_boundary_writes_a_refusal_on_stderr_in_order_with_its_exit_code(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import ops.stack_diff

    def refusing(*_args: Any, **_kwargs: Any) -> int:
        raise errors.Refused("staging does not render:", ["first", "second " + "x" * 1000], exit_code=errors.EXIT_NO_ACCESS)

    monkeypatch.setattr(ops.stack_diff, "diff", refusing)
    code = main(["diff", "staging", "prod"])
    out, err = capsys.readouterr()
    assert code == errors.EXIT_NO_ACCESS and out == ""
    lines = err.splitlines()
    assert lines[:2] == ["refused: staging does not render:", "  - first"] and len(lines) == 3
    assert lines[2].startswith("  - second xxx") and "[cut: " in lines[2]  # bounded like every message of the boundary


def test_a_refusal_without_an_exit_code_is_exit_failed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import ops.stack_diff

    def refusing(*_args: Any, **_kwargs: Any) -> int:
        raise errors.Refused("nothing to compare")

    monkeypatch.setattr(ops.stack_diff, "diff", refusing)
    assert main(["diff", "staging", "prod"]) == EXIT_FAILED
    assert capsys.readouterr() == ("", "refused: nothing to compare\n")


def test_cluster_names_the_context_it_writes() -> None:
    from ops.cluster import CONTEXT

    assert f"context {CONTEXT}" in commands.cluster.DESCRIPTION


# --- check --json and render --json -------------------------------------------------------------


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, json.loads(captured.out)


def test_check_json_of_a_clean_stack(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _json(capsys, "check", "dev", "--json")
    assert code == EXIT_OK and report["command"] == "check" and report["ok"] is True and report["problems"] == []
    [dev] = report["stacks"]
    assert dev["stack"] == "dev" and dev["status"] == "ok" and dev["problems"] == [] and dev["objects"] > 0


def test_check_json_carries_each_problem_with_rule_resource_and_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_project(tmp_path, RAW_INGRESS_TO_MISSING_SERVICE)
    (root / "rendered" / "orphan").mkdir()
    code, report = _json(capsys, "--project", str(root), "check", "--json")
    assert code == EXIT_FAILED and report["ok"] is False
    assert [p["rule"] for p in report["problems"]] == ["project"] and "rendered/orphan/ belongs to no stack" in report["problems"][0]["problem"]
    prod = next(s for s in report["stacks"] if s["stack"] == "prod")
    assert prod["status"] == "failed"
    [found] = [p for p in prod["problems"] if p["rule"] == "ingress-backend-service-exists"]
    assert found["resource"] == "Ingress coditect-app/coditect-api" and "coditect-api-v2" in found["problem"]
    assert found["fix"] and found["level"] == "mandatory"
    # The program changed, so its golden files are stale: each named, with the command that refreshes it.
    stale = [p for p in prod["problems"] if p["rule"] == "golden-file"]
    assert stale and all(p["fix"] == "python -m ops render prod, then commit" and p["diff"] for p in stale)


def test_render_json_lists_the_files_written_and_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, report = _json(capsys, "render", "staging", "--out", str(out), "--json")
    assert code == EXIT_OK and report["command"] == "render" and report["ok"] is True
    [staging] = report["stacks"]
    assert staging["status"] == "ok" and staging["problems"] == [] and set(staging["files"]) == {"kubernetes", "gcp", "pack-config"}
    assert (out / "staging" / "kubernetes.yaml").is_file() and (out / "staging" / "policy-pack-config.json").is_file()


def test_render_json_of_a_failing_stack_carries_its_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_project(tmp_path, RAW_INGRESS_TO_MISSING_SERVICE)
    code, report = _json(capsys, "--project", str(root), "render", "prod", "--out", str(tmp_path / "out"), "--json")
    assert code == EXIT_FAILED and report["ok"] is False
    [prod] = report["stacks"]
    assert prod["status"] == "failed" and "ingress-backend-service-exists" in [p["rule"] for p in prod["problems"]]


# --- docs ---------------------------------------------------------------------------------------


def test_docs_check_passes_on_current_documents_and_names_a_stale_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ops import exit_table
    from ops.generated import GeneratedPart

    assert main(["docs", "--check"]) == EXIT_OK
    stale = tmp_path / "operations.md"
    stale.write_text(exit_table.PART.document.read_text(encoding="utf-8").replace("| 5 | `EXIT_NO_ACCESS`", "| 3 | `NO_ACCESS`"), encoding="utf-8")
    part = exit_table.PART
    import ops.__main__

    monkeypatch.setattr(ops.__main__, "generated_parts", lambda: [GeneratedPart(stale, part.begin, part.end, part.generate, part.command)])
    capsys.readouterr()
    assert main(["docs", "--check"]) == EXIT_FAILED
    assert "operations.md is stale: run `python -m ops.exit_table --write`" in capsys.readouterr().err
    assert main(["docs"]) == EXIT_OK and "| 5 | `EXIT_NO_ACCESS`" in stale.read_text(encoding="utf-8")
    assert main(["docs", "--check"]) == EXIT_OK
