"""Hostile and careless input (issue 11): no traceback, no vacuous pass, no half-written file.

Each class has property-based tests that generate its inputs (fixed budgets, so the suite stays fast)
and a regression test per example of the issue. Here: stack files read bounded (class 3), stack names and
bounded messages (class 7). The command line: test_hostile_input_cli.py; the all-or-nothing writer and
promote: test_hostile_input_writes.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ops import stack_files
from ops.errors import MAX_LINE, StackFileError, clip, clip_lines
from ops.program import is_stack_name, stack_path
from tests.hostile_input_helpers import FAST, refusal

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
    expanded = sum(width**level for level in range(1, depth + 1)) + depth  # every list, as aliases copy it
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
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
    ],
)
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
@given(tag=st.sampled_from(["!!binary", "!!set", "!!omap", "!!timestamp", "!!python/tuple", "!custom", "!!python/name:os.system"]), key=KEY)
def test_unsupported_tags_are_refused_with_the_key(tag: str, key: str) -> None:
    text = f"config:\n  coditect:{key}: {tag} x\n"
    message = refusal(text)
    assert f"key coditect:{key}" in message or "is not valid YAML" in message


AMBIGUOUS = st.sampled_from(
    ["yes", "No", "on", "OFF", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "1_000", "0b101", "1:20", "1.10", "+1", "010", "1e3", "0.50", "-.inf", "<<"]
)


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
TREES = st.recursive(
    SAFE_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)), max_leaves=20
)


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
