"""Hostile and careless input (issue 11): no traceback, no vacuous pass, no half-written file.

Each class has property-based tests that generate its inputs (fixed budgets, so the suite stays fast)
and a regression test per example of the issue. The program runs are few and use dev and staging.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops import stack_files
from ops.__main__ import main
from ops.atomic import write_files
from ops.errors import EXIT_BUG, EXIT_FAILED, EXIT_USAGE, EXIT_WRITE, MAX_LINE, StackFileError, WriteError, clip, clip_lines
from ops.program import is_stack_name, stack_path
from tests.conftest import copy_project

FAST = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
NEW_DIGEST = "sha256:" + "a" * 64


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
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


# --- class 3: stack files, read bounded -------------------------------------------------------------


def alias_bomb(width: int, depth: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]" for level in range(1, depth)]
    return "config:\n" + "".join(f"  {line}\n" for line in lines)


def test_a_1_6_kb_alias_bomb_is_refused_in_milliseconds() -> None:
    bomb = alias_bomb(9, 20)
    while len(bomb) < 1600:
        bomb += "# padding\n"
    started = time.perf_counter()
    message = refusal(bomb)
    assert time.perf_counter() - started < 0.2
    assert "Pulumi.x.yaml, line" in message and ("aliases" in message or "expands" in message)


@FAST
@given(width=st.integers(1, 12), depth=st.integers(1, 14))
def test_aliases_beyond_the_budget_are_refused_before_expansion(width: int, depth: int) -> None:
    bomb = alias_bomb(width, depth)
    expanded = sum(width ** level for level in range(1, depth + 1)) + depth  # every list, as aliases copy it
    aliases = width * (depth - 1)
    started = time.perf_counter()
    if aliases > stack_files.MAX_ALIASES or expanded > stack_files.MAX_VALUES // 2:
        try:
            stack_files.parse(bomb, "Pulumi.x.yaml")
        except StackFileError as error:
            assert "line" in str(error)
    else:
        assert stack_files.parse(bomb, "Pulumi.x.yaml") == yaml.safe_load(bomb)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(("text", "expected"), [
    (b"config:\n  coditect:namespace: caf\xe9\n", "line 2: byte 0xe9 (offset 33) is not UTF-8"),
    ("config:\n  1: x\n", "line 2, key config: key 1 is an integer, not a string"),
    ("config:\n  coditect:x:\n    true: 1\n", "key True is a boolean, not a string"),
    ("config:\n  coditect:x: {a: !!binary aGVsbG8=}\n", "line 2, key coditect:x.a: tag !!binary is not supported"),
    ("config:\n  coditect:x: !!set {a, b}\n", "tag !!set is not supported"),
    ("config:\n  coditect:x: {since: 2024-01-01}\n", "key coditect:x.since: '2024-01-01' is ambiguous"),
    ("config:\n  coditect:x: !!python/object/apply:os.system [ls]\n", "tag !!python/object/apply:os.system is not supported"),
    ("config:\n  coditect:x: " + "[" * 200 + "]" * 200 + "\n", "nested more than 32 levels deep"),
    ("config:\n  coditect:namespace: a\n  coditect:namespace: b\n", "line 3, key coditect:namespace: duplicate key (first at line 2)"),
    ("config:\n  coditect:release:\n    version: 1.10\n", "key coditect:release.version: 1.10 is read as the number 1.1. Fix: quote it"),
    ("config:\n  coditect:x: on\n", "'on' is ambiguous"),
    ("config:\n  coditect:deployment:\n    replicas: 010\n", "010 is read as the number 10"),
    ("config:\n  coditect:x: .nan\n", ".nan is not a finite number"),
    ("config:\n  a: &a {b: *a}\n", "refers to a value that contains it"),
    ("config:\n  <<: {a: 1}\n", "merge keys (<<) are not supported"),
    ("config: {}\n---\nconfig: {}\n", "a second YAML document"),
    ("- config\n", "must be a YAML mapping, found list"),
    ("config:\n  x: [unclosed\n", "is not valid YAML"),
])
def test_each_example_is_refused_with_file_line_and_key(text: str | bytes, expected: str) -> None:
    message = refusal(text)
    assert expected in message and message.startswith("Pulumi.x.yaml")


@FAST
@given(depth=st.integers(1, 80))
def test_nesting_is_refused_exactly_beyond_the_limit(depth: int) -> None:
    text = "config:\n  coditect:x: " + "[" * depth + "]" * depth + "\n"
    if depth + 2 > stack_files.MAX_DEPTH:
        assert "levels deep" in refusal(text)
    else:
        assert stack_files.parse(text, "Pulumi.x.yaml") == yaml.safe_load(text)


KEY = st.text(st.characters(min_codepoint=97, max_codepoint=122), max_size=12).map(lambda text: f"k{text}")  # never null, true, on...


@FAST
@given(key=KEY, first=st.integers(), second=st.integers())
def test_duplicate_keys_are_refused_wherever_they_are(key: str, first: int, second: int) -> None:
    text = f"config:\n  coditect:x:\n    {key}: {first}\n    other: 1\n    {key}: {second}\n"
    assert f"line 5, key coditect:x.{key}: duplicate key (first at line 3)" in refusal(text)


@FAST
@given(tag=st.sampled_from(["!!binary", "!!set", "!!omap", "!!timestamp", "!!python/tuple", "!custom", "!!python/name:os.system"]),
       key=KEY)
def test_unsupported_tags_are_refused_with_the_key(tag: str, key: str) -> None:
    text = f"config:\n  coditect:{key}: {tag} x\n"
    message = refusal(text)
    assert f"key coditect:{key}" in message or "is not valid YAML" in message


AMBIGUOUS = st.sampled_from(["yes", "No", "on", "OFF", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "1_000", "0b101", "1:20",
                             "1.10", "+1", "010", "1e3", "0.50", "-.inf", "<<"])


@FAST
@given(value=AMBIGUOUS)
def test_plain_scalars_pulumi_would_read_otherwise_are_refused_and_quoting_fixes_them(value: str) -> None:
    assert "Fix:" in refusal(f"config:\n  coditect:x: {value}\n")
    assert stack_files.parse(f"config:\n  coditect:x: '{value}'\n", "Pulumi.x.yaml") == {"config": {"coditect:x": value}}


@settings(max_examples=150, deadline=2000)
@given(raw=st.binary(max_size=400))
def test_arbitrary_bytes_are_read_or_refused_never_a_crash(raw: bytes) -> None:
    try:
        data = stack_files.parse(stack_files.decode(raw, "Pulumi.x.yaml"), "Pulumi.x.yaml")
    except StackFileError as error:
        assert str(error).startswith("Pulumi.x.yaml") and len(str(error)) < 2000
    else:
        assert isinstance(data, dict)


YAML_TEXT = st.text(st.sampled_from([*"ab: -[]{},&*!|>'\"#\n\t?%@`0.1~", "\u00e9", "\ufeff", "\x85"]), max_size=120)


@settings(max_examples=200, deadline=2000)
@given(text=YAML_TEXT)
def test_arbitrary_yaml_like_text_is_read_or_refused_never_a_crash(text: str) -> None:
    try:
        data = stack_files.parse(text, "Pulumi.x.yaml")
    except StackFileError:
        return
    assert isinstance(data, dict)


SAFE_SCALARS = st.one_of(st.text(max_size=20), st.integers(-(2**40), 2**40), st.booleans(), st.none(), st.sampled_from([0.5, 1.0, 86400.0]))
TREES = st.recursive(SAFE_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)),
                     max_leaves=20)


@FAST
@given(config=st.dictionaries(st.text(min_size=1, max_size=10), TREES, max_size=5))
def test_plain_documents_read_as_yaml_reads_them(config: dict[str, Any]) -> None:
    """What the reader accepts it reads exactly as PyYAML and the Pulumi CLI do."""
    text = yaml.safe_dump({"config": config}, allow_unicode=True)
    try:
        assert stack_files.parse(text, "Pulumi.x.yaml") == yaml.safe_load(text)
    except StackFileError as error:  # only a value YAML 1.1 and 1.2 read differently
        assert "ambiguous" in str(error) or "is read as" in str(error), str(error)


def test_a_stack_file_larger_than_the_bound_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.big.yaml"
    path.write_bytes(b"config:\n  coditect:namespace: " + b"x" * 10_000_000 + b"\n")
    with pytest.raises(StackFileError) as refused:
        stack_files.read(path)
    assert "larger than" in str(refused.value) and len(str(refused.value)) < 300


def test_a_stack_file_that_is_a_directory_or_a_fifo_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dir.yaml").mkdir()
    os.mkfifo(tmp_path / "Pulumi.fifo.yaml")
    for name in ("Pulumi.dir.yaml", "Pulumi.fifo.yaml"):
        with pytest.raises(StackFileError, match=r"not a regular file|is a directory"):
            stack_files.read(tmp_path / name)


# --- class 7: stack names, bounded messages ---------------------------------------------------------


@settings(max_examples=300, deadline=1000)
@given(name=st.text(max_size=120))
def test_no_stack_name_escapes_the_project(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    if is_stack_name(name):
        assert "/" not in name and "\\" not in name and name not in (".", "..") and "\n" not in name
        assert (Path("/p") / f"Pulumi.{name}.yaml").parent == Path("/p")
    else:
        with pytest.raises(StackFileError) as refused:
            stack_path(name, Path("/nonexistent"))
        assert len(str(refused.value)) < 400


@FAST
@given(text=st.text(min_size=0, max_size=3000))
def test_messages_are_clipped(text: str) -> None:
    assert len(clip(text)) <= MAX_LINE + 60
    assert all(len(line) <= MAX_LINE + 60 for line in clip_lines(text).splitlines())


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


# --- the command line: classes 1, 5, 6, 7 -------------------------------------------------------------


def test_empty_project_is_a_usage_error_not_a_pass(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    result = cli("--project", str(tmp_path), "check")
    assert result.code == EXIT_USAGE and "no stack file" in result.err and "nothing to check" in result.err
    assert cli("--project", str(tmp_path), "render", "--all").code == EXIT_USAGE
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    assert cli("--project", str(tmp_path), "check").code == EXIT_USAGE
    assert cli("--project", str(tmp_path / "missing"), "check").code == EXIT_USAGE


@pytest.mark.parametrize(("program", "expected"), [
    ("import sys\nsys.exit(0)\n", "called sys.exit(0) before it finished"),
    ("", "did not declare any resource"),
    ("import pulumi_kubernetes as k8s\nk8s.core.v1.ConfigMap('c', metadata={'name': 'c', 'namespace': 'x'})\n",
     "did not declare coditect:index:AppNamespace, coditect:index:CombinedDeployment"),
])
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


@pytest.mark.parametrize(("edit", "code", "expected"), [
    (lambda text: text + "  coditect:namespace: again\n", EXIT_USAGE, "duplicate key"),
    (lambda text: text + "  coditect:x: [unclosed\n", EXIT_USAGE, "is not valid YAML"),
    (lambda text: "", EXIT_USAGE, "Pulumi.staging.yaml"),
    (lambda text: "config: 5\n", EXIT_USAGE, "'config' must be a mapping"),
    (lambda text: text.replace("coditect:release:", "coditect:release: &r") + "".join(f"  coditect:copy{i}: *r\n" for i in range(70)), EXIT_USAGE, "aliases"),
])
def test_promote_refuses_a_target_the_reader_refuses_and_changes_nothing(
        promotable: Path, cli: Callable[..., CliResult], edit: Callable[[str], str], code: int, expected: str) -> None:
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
@given(version=st.text(st.characters(blacklist_categories=["Cs"]), min_size=0, max_size=30),
       style=st.sampled_from(["", "'", '"']), crlf=st.booleans())
def test_the_release_edit_touches_only_release_scalars(version: str, style: str, crlf: bool) -> None:
    """Whatever the new value, the edited file reads back as the old one with only the release changed."""
    from ops.release import with_release

    text = (f"# head\nconfig:\n  coditect:hosts: [a.example, b.example]\n  coditect:release:\n    version: {style}1.0{style}  # note\n"
            "    images:\n      nginx: n@sha256:1\n  coditect:tail:\n  - x\n")
    text = text.replace("\n", "\r\n") if crlf else text
    document = stack_files.parse_document(text, "Pulumi.t.yaml")
    edited = with_release(document, {"version": version, "images": {"nginx": "n@sha256:2"}})
    data = stack_files.parse(edited, "Pulumi.t.yaml")
    assert data["config"]["coditect:release"] == {"version": version, "images": {"nginx": "n@sha256:2"}}
    assert {k: v for k, v in data["config"].items() if k != "coditect:release"} == {"coditect:hosts": ["a.example", "b.example"], "coditect:tail": ["x"]}
    newline = "\r\n" if crlf else "\n"
    assert edited.startswith(f"# head{newline}config:{newline}  coditect:hosts: [a.example, b.example]{newline}")
    assert edited.endswith(f"  coditect:tail:{newline}  - x{newline}") and edited.count("\r\n") == (edited.count("\n") if crlf else 0)

