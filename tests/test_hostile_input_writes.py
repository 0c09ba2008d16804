"""One all-or-nothing writer (issue 11, class 5): every file or none, an interrupted write leaves the old files;
`ops promote` reads with the same reader and writes the stack file and the golden render together, changing
only the release scalars."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops import stack_files
from ops.atomic import write_files
from ops.errors import EXIT_USAGE, EXIT_WRITE, WriteError
from tests.conftest import copy_project
from tests.hostile_input_helpers import NEW_DIGEST, CliResult, cli_runner, snapshot


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    return cli_runner(capsys)


# --- class 5: one all-or-nothing writer ---------------------------------------------------------------


@settings(max_examples=40, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(1, 5), blocked=st.integers(0, 5), how=st.sampled_from(["read-only", "directory", "parent-is-file", "none"]))
def test_the_writer_writes_every_file_or_none(tmp_path_factory: pytest.TempPathFactory, count: int, blocked: int, how: str) -> None:
    root = tmp_path_factory.mktemp("atomic")
    targets = [root / f"d{i % 2}" / f"f{i}.yaml" for i in range(count)]
    for target in targets:
        target.parent.mkdir(exist_ok=True)
        target.write_text("old\n")
    victim = targets[blocked % count]
    if how == "read-only":
        victim.chmod(0o444)
    elif how == "directory":
        victim.unlink()
        victim.mkdir()
    elif how == "parent-is-file":
        victim = root / "d0" / "f0.yaml" / "inner.yaml"
        targets.append(victim)
    before = snapshot(root)
    files: dict[Path, str | bytes] = {target: f"new {target.name}\r\n" for target in targets}
    if how == "none":
        write_files(files)
        assert all(target.read_bytes() == f"new {target.name}\r\n".encode() for target in targets)
    else:
        with pytest.raises(WriteError, match="Nothing was written"):
            write_files(files)
        assert snapshot(root) == before
    assert not [p for p in root.rglob("*.tmp")]


def test_an_interrupted_write_leaves_the_old_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    targets = [tmp_path / "kubernetes.yaml", tmp_path / "gcp.yaml"]
    for target in targets:
        target.write_text("old\n")
    real_replace = os.replace
    calls: list[Path] = []

    def interrupted(source: Any, destination: Any) -> None:
        calls.append(Path(destination))
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_replace(source, destination)

    monkeypatch.setattr("ops.atomic.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_files(dict.fromkeys(targets, "new\n"))
    monkeypatch.undo()
    assert [target.read_text() for target in targets] == ["old\n", "old\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gcp.yaml", "kubernetes.yaml"]


# --- promote: read by the same reader, written by the same writer -------------------------------------


def new_release(root: Path) -> None:
    """Give dev a release staging does not run yet."""
    dev = root / "Pulumi.dev.yaml"
    text = dev.read_text()
    document = stack_files.parse(text, dev.name)
    release = document["config"]["coditect:release"]
    text = text.replace(f"version: {release['version']}", "version: 1.6.0")
    dev.write_text(text.replace(release["images"]["nginx"], release["images"]["nginx"].split("@")[0] + "@" + NEW_DIGEST))


@pytest.fixture
def promotable(tmp_path: Path) -> Path:
    root = copy_project(tmp_path)
    new_release(root)
    return root


@pytest.mark.parametrize(
    ("edit", "code", "expected"),
    [
        (lambda text: text + "  coditect:namespace: again\n", EXIT_USAGE, "duplicate key"),
        (lambda text: text + "  coditect:x: [unclosed\n", EXIT_USAGE, "is not valid YAML"),
        (lambda text: "", EXIT_USAGE, "Pulumi.staging.yaml"),
        (lambda text: "config: 5\n", EXIT_USAGE, "'config' must be a mapping"),
        (
            lambda text: text.replace("coditect:release:", "coditect:release: &r") + "".join(f"  coditect:copy{i}: *r\n" for i in range(70)),
            EXIT_USAGE,
            "aliases",
        ),
    ],
)
def test_promote_refuses_a_target_the_reader_refuses_and_changes_nothing(
    promotable: Path, cli: Callable[..., CliResult], edit: Callable[[str], str], code: int, expected: str
) -> None:
    staging = promotable / "Pulumi.staging.yaml"
    staging.write_text(edit(staging.read_text()))
    before = snapshot(promotable)
    result = cli("--project", str(promotable), "promote", "dev", "staging")
    assert result.code == code and expected in result.err
    assert snapshot(promotable) == before


@pytest.mark.parametrize("blocked", ["Pulumi.staging.yaml", "rendered/staging/gcp.yaml", "rendered/staging/kubernetes.yaml"])
def test_promote_writes_stack_file_and_golden_render_together(promotable: Path, cli: Callable[..., CliResult], blocked: str) -> None:
    (promotable / blocked).chmod(0o444)
    before = snapshot(promotable)
    result = cli("--project", str(promotable), "promote", "dev", "staging")
    assert result.code == EXIT_WRITE and "is read-only. Nothing was written" in result.err
    assert snapshot(promotable) == before


def test_promote_with_a_golden_file_that_is_a_directory_changes_nothing(promotable: Path, cli: Callable[..., CliResult]) -> None:
    golden = promotable / "rendered" / "staging" / "gcp.yaml"
    golden.unlink()
    golden.mkdir()
    before = snapshot(promotable)
    result = cli("--project", str(promotable), "promote", "dev", "staging")
    assert result.code == EXIT_WRITE and "gcp.yaml is a directory" in result.err
    assert snapshot(promotable) == before


def test_promote_keeps_crlf_and_compact_lists_and_rewrites_only_the_release(promotable: Path, cli: Callable[..., CliResult]) -> None:
    staging = promotable / "Pulumi.staging.yaml"
    text = staging.read_text().replace("  coditect:hosts:\n    - staging.coditect.ai\n", "  coditect:hosts:\n  - staging.coditect.ai\n")
    assert "\n  - staging.coditect.ai\n" in text
    staging.write_bytes(text.replace("\n", "\r\n").encode())
    before = staging.read_bytes()
    result = cli("--project", str(promotable), "promote", "dev", "staging")
    assert result.code == 0, result.out + result.err
    after = staging.read_bytes()
    assert after.count(b"\r\n") == before.count(b"\r\n") == after.count(b"\n")
    changed = [(old, new) for old, new in zip(before.split(b"\r\n"), after.split(b"\r\n"), strict=True) if old != new]
    assert len(changed) == 2 and all(b"version:" in new or NEW_DIGEST.encode() in new for _, new in changed)
    assert b"\r\n  coditect:hosts:\r\n  - staging.coditect.ai\r\n" in after


@settings(max_examples=40, deadline=2000)
@given(version=st.text(st.characters(blacklist_categories=["Cs"]), min_size=0, max_size=30), style=st.sampled_from(["", "'", '"']), crlf=st.booleans())
def test_the_release_edit_touches_only_release_scalars(version: str, style: str, crlf: bool) -> None:
    """Whatever the new value, the edited file reads back as the old one with only the release changed."""
    from ops.release import with_release

    text = (
        f"# head\nconfig:\n  coditect:hosts: [a.example, b.example]\n  coditect:release:\n    version: {style}1.0{style}  # note\n"
        "    images:\n      nginx: n@sha256:1\n  coditect:tail:\n  - x\n"
    )
    text = text.replace("\n", "\r\n") if crlf else text
    document = stack_files.parse_document(text, "Pulumi.t.yaml")
    edited = with_release(document, {"version": version, "images": {"nginx": "n@sha256:2"}})
    data = stack_files.parse(edited, "Pulumi.t.yaml")
    assert data["config"]["coditect:release"] == {"version": version, "images": {"nginx": "n@sha256:2"}}
    assert {k: v for k, v in data["config"].items() if k != "coditect:release"} == {"coditect:hosts": ["a.example", "b.example"], "coditect:tail": ["x"]}
    newline = "\r\n" if crlf else "\n"
    assert edited.startswith(f"# head{newline}config:{newline}  coditect:hosts: [a.example, b.example]{newline}")
    assert edited.endswith(f"  coditect:tail:{newline}  - x{newline}") and edited.count("\r\n") == (edited.count("\n") if crlf else 0)
