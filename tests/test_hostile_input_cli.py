"""Hostile and careless input on the command line (issue 11, classes 1, 5, 6, 7): an empty project or a program
that declares nothing is never a pass, bad names and values are one clipped line, outputs are replaced whole or
not at all, and only a bug shows a traceback. The program runs are few and use dev and staging."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ops.__main__ import main
from ops.errors import EXIT_BUG, EXIT_FAILED, EXIT_USAGE, EXIT_WRITE
from tests.conftest import copy_project
from tests.hostile_input_helpers import CliResult, cli_runner


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    return cli_runner(capsys)


# --- the command line: classes 1, 5, 6, 7 -------------------------------------------------------------


def test_empty_project_is_a_usage_error_not_a_pass(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    result = cli("--project", str(tmp_path), "check")
    assert result.code == EXIT_USAGE and "no stack file" in result.err and "nothing to check" in result.err
    assert cli("--project", str(tmp_path), "render", "--all").code == EXIT_USAGE
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    assert cli("--project", str(tmp_path), "check").code == EXIT_USAGE
    assert cli("--project", str(tmp_path / "missing"), "check").code == EXIT_USAGE


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        ("import sys\nsys.exit(0)\n", "called sys.exit(0) before it finished"),
        ("", "did not declare any resource"),
        (
            "import pulumi_kubernetes as k8s\nk8s.core.v1.ConfigMap('c', metadata={'name': 'c', 'namespace': 'x'})\n",
            "did not declare coditect:index:AppNamespace, coditect:index:CombinedDeployment",
        ),
    ],
)
def test_a_program_that_declares_nothing_fails_check_and_render(tmp_path: Path, cli: Callable[..., CliResult], program: str, expected: str) -> None:
    root = copy_project(tmp_path)
    (root / "__main__.py").write_text(program + (root / "__main__.py").read_text() if "exit" in program else program)
    result = cli("--project", str(root), "check", "dev")
    assert result.code == EXIT_FAILED and expected in result.out
    out = tmp_path / "out"
    result = cli("--project", str(root), "render", "dev", "--out", str(out))
    assert result.code == EXIT_FAILED and expected in result.out and not out.exists()


def test_unknown_and_escaping_stack_names_are_usage_errors(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = copy_project(tmp_path)
    assert cli("--project", str(root), "check", "nope").code == EXIT_USAGE
    (root / "Pulumi....yaml").write_text((root / "Pulumi.dev.yaml").read_text())  # the stack `..`
    for args in (("render", ".."), ("check", ".."), ("render", "../etc"), ("diff", "..", "dev"), ("promote", "dev", "..")):
        result = cli("--project", str(root), *args)
        assert result.code == EXIT_USAGE and "is not a valid stack name" in result.err, args
    assert not (root / "kubernetes.yaml").exists() and not (root / "gcp.yaml").exists()


def test_leftovers_of_stacks_that_no_longer_exist_are_flagged(tmp_path: Path, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    import ops.project_check as project_check

    root = copy_project(tmp_path)
    (root / "rendered" / "qa").mkdir()
    (root / "Pulumi....yaml").write_text("config: {}\n")
    assert project_check.project_leftovers(root) == [
        "Pulumi....yaml: '..' is not a valid stack name; rename the file",
        "rendered/qa/ belongs to no stack (no Pulumi.qa.yaml); delete it (git rm -r rendered/qa) or restore the stack file",
    ]
    monkeypatch.setattr(project_check, "require_stacks", lambda root: [])  # the leftovers alone fail the check
    result = cli("--project", str(root), "check")
    assert result.code == EXIT_FAILED and "FAILED: rendered/qa/ belongs to no stack" in result.out


def test_a_huge_value_is_never_echoed_in_full(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = copy_project(tmp_path)
    dev = root / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("coditect:environment: dev", "coditect:environment: " + "d" * 900_000))
    result = cli("--project", str(root), "render", "dev", "--out", str(tmp_path / "out"))
    assert result.code == EXIT_USAGE and "ddd" in result.err and len(result.err) < 5000
    dev.write_bytes(b"config:\n  coditect:namespace: " + b"x" * 10_000_000 + b"\n")
    result = cli("--project", str(root), "check", "dev")
    assert result.code == EXIT_FAILED and "larger than" in result.out and len(result.out) < 1000


def test_out_that_is_a_file_or_read_only_is_one_line(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = cli("render", "dev", "--out", str(a_file))
    assert result.code == EXIT_USAGE and "is a file, not a directory" in result.err and result.err.count("\n") == 1
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    result = cli("render", "dev", "--out", str(read_only))
    assert result.code == EXIT_WRITE and "is read-only. Nothing was written" in result.err and result.err.count("\n") == 1
    assert list(read_only.iterdir()) == []


def test_render_replaces_both_files_or_neither(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    out = tmp_path / "out" / "dev"
    out.mkdir(parents=True)
    (out / "kubernetes.yaml").write_text("old kubernetes\n")
    (out / "gcp.yaml").write_text("old gcp\n")
    (out / "gcp.yaml").chmod(0o444)
    result = cli("render", "dev", "--out", str(out.parent))
    assert result.code == EXIT_WRITE and "gcp.yaml is read-only" in result.err
    assert (out / "kubernetes.yaml").read_text() == "old kubernetes\n" and (out / "gcp.yaml").read_text() == "old gcp\n"


def test_a_bad_enforcement_level_is_one_line(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = copy_project(tmp_path)
    (root / "policy" / "config" / "dev.json").write_text('{"all": {"enforcementLevel": "strict"}}')
    for args in (("check", "dev"), ("render", "dev", "--out", str(tmp_path / "out"))):
        result = cli("--project", str(root), *args)
        failure = result.out + result.err
        assert result.code in (EXIT_FAILED, EXIT_USAGE) and "enforcementLevel 'strict' is not one of" in failure and "dev.json" in failure


def test_a_golden_file_that_is_a_directory_is_reported(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = copy_project(tmp_path)
    golden = root / "rendered" / "dev" / "gcp.yaml"
    golden.unlink()
    golden.mkdir()
    result = cli("--project", str(root), "check", "dev")
    assert result.code == EXIT_FAILED and "gcp.yaml is not a file" in result.out


def test_a_bug_shows_its_traceback_and_asks_for_a_report(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import ops.project_check as project_check

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(project_check, "check_all", broken)
    assert main(["check"]) == EXIT_BUG
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: simulated bug" in err and "this is a bug in `python -m ops check`" in err
