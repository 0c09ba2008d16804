"""Histories that are not what `history` and `rollback` expect (issue 19, class 7): shallow clones, commit subjects
holding the old separator or any text, revisions too large to read, histories longer than the bound, and a git that
never answers or never stops. Real git repositories in tmp_path (the fixture of tests/test_rollback.py)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops import bounded_git
from ops import history as history_module
from ops.errors import EXIT_OK
from ops.history import UNSHALLOW_FIX, read_history
from ops.rollback import rollback
from tests.test_rollback import IDE, NGINX, STACK_FILE, cli, commit, digest, git, refused, set_release
from tests.test_rollback import repo as repo  # the fixture: prod's history of five commits


def clone(source: Path, target: Path, *options: str) -> Path:
    subprocess.run(["git", "clone", "-q", *options, f"file://{source}", str(target)], check=True, capture_output=True)
    return target


def commit_with_message(root: Path, message: bytes) -> None:
    """A commit whose message is `message` byte for byte (no cleanup), as any tool may make one."""
    (root.parent / "message").write_bytes(message)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--cleanup=verbatim", "--allow-empty-message", "-F", str(root.parent / "message"))


# --- shallow clones ------------------------------------------------------------------------------------------


def test_in_a_shallow_clone_rollback_says_the_history_is_cut_and_how_to_fetch_it(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shallow = clone(repo, tmp_path / "ci", "--depth", "1")
    err = refused(shallow, "rollback", "prod", "--to", "1.5.0", "--dry-run", capsys=capsys)
    assert "never held" not in err
    assert "release '1.5.0' is not in the part" in err and "shallow clone" in err and UNSHALLOW_FIX in err
    err = refused(shallow, "rollback", "prod", capsys=capsys)  # no --to: the one before is not there either
    assert "oldest release of Pulumi.prod.yaml in the history read here" in err and "git fetch --unshallow" in err
    code, out, _ = cli(shallow, "history", "prod", capsys=capsys)
    assert code == EXIT_OK and "Older releases are not listed: this is a shallow clone" in out and "fetch-depth: 0" in out
    code, out, _ = cli(shallow, "history", "prod", "--json", capsys=capsys)
    assert code == EXIT_OK and json.loads(out)["shallow"] is True
    # The fix the message gives works: after it, the same rollback finds 1.5.0.
    git(shallow, "fetch", "-q", "--unshallow")
    code, out, _ = cli(shallow, "rollback", "prod", "--to", "1.5.0", "--dry-run", capsys=capsys)
    assert code == EXIT_OK and "+    version: 1.5.0" in out


def test_a_release_inside_the_fetched_part_of_a_shallow_clone_is_rolled_back(repo: Path, tmp_path: Path) -> None:
    shallow = clone(repo, tmp_path / "ci", "--depth", "2")  # 1.6.0 and the configuration change, which holds 1.5.0
    found = read_history("prod", shallow)
    assert found.shallow and [r.version for r in found.releases] == ["1.6.0", "1.5.0"]
    assert rollback("prod", io.StringIO(), dry_run=True, root=shallow) == EXIT_OK


def test_a_full_clone_is_not_called_shallow(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    full = clone(repo, tmp_path / "full")
    found = read_history("prod", full)
    assert not found.shallow and found.cut is None and len(found.releases) == 4
    err = refused(full, "rollback", "prod", "--to", "1.3.0", capsys=capsys)
    assert "has never held release '1.3.0'" in err and "shallow" not in err


# --- commit subjects -----------------------------------------------------------------------------------------


def test_a_subject_holding_the_old_separator_keeps_its_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_release(repo, "1.7.0", f"{NGINX}@{digest('7a')}", f"{IDE}@{digest('7b')}")
    commit_with_message(repo, "prod 1.7.0 \x1f hotfix | %s %x00 \t ünïcode ✓".encode())
    found = read_history("prod", repo)
    assert [r.version for r in found.releases] == ["1.7.0", "1.6.0", "1.5.0", "1.4.3-rc", "1.4.2"]
    assert found.releases[0].subject == "prod 1.7.0 \x1f hotfix | %s %x00 \t ünïcode ✓"
    assert found.releases[1].subject == "prod 1.6.0" and found.releases[1].date.startswith("2026-03-05")


def test_a_subject_that_is_not_utf8_is_kept_as_text(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_release(repo, "1.7.0", f"{NGINX}@{digest('7a')}", f"{IDE}@{digest('7b')}")
    commit_with_message(repo, b"prod 1.7.0 \xff\xfe latin-1 caf\xe9")
    code, out, _ = cli(repo, "history", "prod", "--json", capsys=capsys)
    listed = json.loads(out)
    assert code == EXIT_OK and listed["releases"][0]["version"] == "1.7.0"
    # git re-encodes such a message as Latin-1, or hands the bytes on; either way it is text here.
    assert listed["releases"][0]["subject"] in ("prod 1.7.0 ÿþ latin-1 café", "prod 1.7.0 \ufffd\ufffd latin-1 caf\ufffd")


def test_an_empty_subject_keeps_its_commit(repo: Path) -> None:
    set_release(repo, "1.7.0", f"{NGINX}@{digest('7a')}", f"{IDE}@{digest('7b')}")
    commit_with_message(repo, b"")
    found = read_history("prod", repo)
    assert found.releases[0].version == "1.7.0" and found.releases[0].subject == ""


SUBJECT_CHARACTERS = st.sampled_from(["\x1f", "\x1e", "|", "%", "%x00", "%s", "\t", "\r", " ", "é", "✓", "😀", "\u202e", "\x1b[2J", ":", "a", "0"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(middles=st.lists(st.lists(SUBJECT_CHARACTERS, max_size=12).map("".join), min_size=1, max_size=3))
def test_any_subject_parses_and_no_commit_is_dropped(tmp_path_factory: pytest.TempPathFactory, middles: list[str]) -> None:
    from tests.conftest import copy_project

    root = copy_project(tmp_path_factory.mktemp("subjects"))
    git(root, "init", "-q", "-b", "main")
    commit(root, "prod 1.4.2", 1)
    subjects = []
    for index, middle in enumerate(middles):
        set_release(root, f"2.0.{index}", f"{NGINX}@{digest(f'{index}a')}", f"{IDE}@{digest(f'{index}b')}")
        subjects.append(f"s{middle}e")  # git trims a subject's ends: the text between is kept as written
        commit_with_message(root, subjects[-1].encode())
    found = read_history("prod", root)
    assert [r.version for r in found.releases] == [*(f"2.0.{i}" for i in reversed(range(len(middles)))), "1.4.2"]
    assert [r.subject for r in found.releases[:-1]] == list(reversed(subjects))
    assert not found.skipped


# --- revisions too large to read ------------------------------------------------------------------------------


def test_a_huge_old_revision_is_measured_not_read(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stack = repo / STACK_FILE
    good = stack.read_bytes()
    stack.write_bytes(good + b"# " + b"x" * (8 << 20) + b"\n")  # 8 MiB: eight times the reader's bound
    commit(repo, "prod: an accident", 6)
    huge_commit = git(repo, "rev-parse", "HEAD").strip()
    stack.write_bytes(good)
    commit(repo, "prod: the accident undone", 7)
    requested: list[str] = []
    real_blobs = history_module._blobs

    def recorded(root: Path, names: list[str], deadline: object) -> dict[str, bytes]:
        requested.extend(names)
        return real_blobs(root, names, deadline)  # type: ignore[arg-type]

    monkeypatch.setattr(history_module, "_blobs", recorded)
    tracemalloc.start()
    found = read_history("prod", repo)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    size = 8 << 20
    assert peak < 4 << 20, peak  # the 8 MiB revision never entered this process
    huge_blob = git(repo, "rev-parse", f"{huge_commit}:{STACK_FILE}").strip()
    assert huge_blob not in requested and len(requested) >= 4
    [skipped] = found.skipped
    assert skipped.commit == huge_commit and f"is {size + len(good) + 3} bytes in this commit, over the 1048576-byte bound" in skipped.reason
    assert [r.version for r in found.releases] == ["1.6.0", "1.5.0", "1.4.3-rc", "1.4.2"]
    code, out, _ = cli(repo, "history", "prod", capsys=capsys)
    assert code == EXIT_OK and f"(commit {huge_commit[:12]} skipped: the file is {size + len(good) + 3} bytes" in out
    err = refused(repo, "rollback", "prod", "--to", huge_commit[:12], "--dry-run", capsys=capsys)
    assert f"commit {huge_commit[:12]} holds no release to go back to: the file is" in err


def test_a_revision_at_the_bound_is_read(repo: Path) -> None:
    stack = repo / STACK_FILE
    good = stack.read_bytes()
    padding = (1 << 20) - len(good) - 3
    stack.write_bytes(good + b"# " + b"x" * padding + b"\n")  # exactly the bound: a stack file, read
    commit(repo, "prod: a long comment", 6)
    found = read_history("prod", repo)
    # Read, not skipped: it holds 1.6.0 as the commit before it does, so it joins that release's entry.
    assert not found.skipped and found.current is not None and found.current.version == "1.6.0"


# --- the bound on commits, time and output --------------------------------------------------------------------


def test_a_history_longer_than_the_bound_is_cut_and_says_so(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(history_module, "MAX_COMMITS", 3)
    found = read_history("prod", repo)
    assert found.cut_at == 3 and [r.version for r in found.releases] == ["1.6.0", "1.5.0"]
    err = refused(repo, "rollback", "prod", "--to", "1.4.2", "--dry-run", capsys=capsys)
    assert "never held" not in err and "only the newest 3 commits" in err
    code, out, _ = cli(repo, "rollback", "prod", "--dry-run", capsys=capsys)  # the one before the current is within the bound
    assert code == EXIT_OK and "+    version: 1.5.0" in out
    monkeypatch.setattr(history_module, "MAX_COMMITS", 5)
    assert read_history("prod", repo).cut_at is None


def fake_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(f"#!/bin/sh\n{script}\n")
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_a_git_that_never_answers_is_stopped_at_the_bound(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_git(tmp_path, monkeypatch, "exec sleep 30")
    monkeypatch.setattr(bounded_git, "GIT_TIMEOUT_S", 0.5)
    started = time.monotonic()
    err = refused(repo, "history", "prod", capsys=capsys)
    assert "git log did not answer within 0.5 s (the bound)" in err
    assert time.monotonic() - started < 5


def test_the_whole_reading_has_a_deadline(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(bounded_git, "HISTORY_DEADLINE_S", 0.0)
    err = refused(repo, "history", "prod", capsys=capsys)
    assert "reading the history took more than 0 s (the bound)" in err


def test_a_git_that_never_stops_talking_is_cut_at_the_output_bound(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_git(tmp_path, monkeypatch, "exec yes")
    monkeypatch.setattr(bounded_git, "GIT_MAX_OUTPUT", 1 << 20)
    tracemalloc.start()
    err = refused(repo, "rollback", "prod", capsys=capsys)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "answered more than 1048576 bytes (the bound)" in err and peak < 8 << 20


def test_a_git_log_answer_of_the_wrong_shape_is_refused_not_dropped(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_git(tmp_path, monkeypatch, "printf 'not-a-hash\\0date\\0who\\0subject\\0'")
    err = refused(repo, "history", "prod", capsys=capsys)
    assert "which is not an object name" in err
