"""Concurrent writers and links (issue 19, class 8): the stack file's lock, the refusal of a file changed since it
was read, symbolic and hard links, and file-system refusals that name the file. Real processes race for real files."""

from __future__ import annotations

import errno
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops import atomic
from ops.atomic import locked, write_files
from ops.errors import EXIT_OK, EXIT_WRITE, WriteError
from tests.conftest import ROOT
from tests.test_rollback import STACK_FILE, cli, files, release
from tests.test_rollback import repo as repo  # the fixture: prod's history of five commits


def rendered_version(root: Path) -> str:
    text = (root / "rendered" / "prod" / "kubernetes.yaml").read_text()
    return text.split("app.kubernetes.io/version: ", 1)[1].split("\n", 1)[0].strip().strip("'\"")


# --- the lock and the changed-since-read refusal ---------------------------------------------------------------


def test_a_writer_holding_the_lock_refuses_a_second_one_naming_it(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    before = files(repo)
    monkeypatch.setattr(atomic, "LOCK_WAIT_S", 0.2)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; sys.path.insert(0, sys.argv[1]); from pathlib import Path; "
            "from ops.atomic import locked\nwith locked(Path(sys.argv[2])):\n print('held', flush=True); time.sleep(30)",
            str(ROOT),
            str(repo / STACK_FILE),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        for command in (["promote", "staging", "prod"], ["rollback", "prod"]):
            code, out, err = cli(repo, *command, capsys=capsys)
            assert code == EXIT_WRITE and "Wrote" not in out, (out, err)
            assert f"Pulumi.prod.yaml is being written by another command (pid {holder.pid}: -c" in err
            assert f"lock file {repo / '.Pulumi.prod.yaml.lock'}" in err and "let it finish, then run the command again" in err
        # A dry run writes nothing, so it takes no lock and is not refused.
        code, out, _ = cli(repo, "promote", "staging", "prod", "--dry-run", capsys=capsys)
        assert code == EXIT_OK and "--dry-run: nothing written." in out
    finally:
        holder.kill()
        holder.wait()
    assert files(repo) == {**before, ".Pulumi.prod.yaml.lock": files(repo)[".Pulumi.prod.yaml.lock"]}
    # The killed holder's lock died with it: the file it left is reused, and removed after.
    code, out, _ = cli(repo, "promote", "staging", "prod", capsys=capsys)
    assert code == EXIT_OK and "Wrote Pulumi.prod.yaml" in out and not (repo / ".Pulumi.prod.yaml.lock").exists()


def test_a_stack_file_edited_between_read_and_write_is_not_overwritten(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import ops.promote
    import ops.release

    real_plan = ops.promote.plan

    def plan_then_edit(*arguments: Any, **options: Any) -> ops.release.ReleaseEdit:
        planned = real_plan(*arguments, **options)
        stack = repo / STACK_FILE
        stack.write_text(stack.read_text() + "# an editor saved this meanwhile\n")  # not an ops writer: no lock
        return planned

    monkeypatch.setattr(ops.promote, "plan", plan_then_edit)
    rendered_before = files(repo)["rendered/prod/kubernetes.yaml"]
    code, out, err = cli(repo, "promote", "staging", "prod", capsys=capsys)
    assert code == EXIT_WRITE and "Wrote" not in out
    assert "Pulumi.prod.yaml changed since this command read it" in err and "run the command again" in err and err.count("\n") == 1
    assert (repo / STACK_FILE).read_text().endswith("# an editor saved this meanwhile\n") and release(repo)["version"] == "1.6.0"
    assert files(repo)["rendered/prod/kubernetes.yaml"] == rendered_before
    monkeypatch.undo()
    code, out, _ = cli(repo, "promote", "staging", "prod", capsys=capsys)  # run again: it starts from the edited file
    assert code == EXIT_OK and (repo / STACK_FILE).read_text().endswith("# an editor saved this meanwhile\n")


def test_promote_and_rollback_started_together_never_both_write(repo: Path) -> None:
    """The issue's example, as two real processes: one writes; the other is refused (the lock, or the stack file it
    would roll back is no longer committed); never both 'Wrote', and the stack file and its render always agree."""
    command = [sys.executable, "-m", "ops", "--project", str(repo)]
    racers = [
        subprocess.Popen([*command, *arguments], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for arguments in (["promote", "staging", "prod"], ["rollback", "prod"])
    ]
    results = [(racer.wait(120), *racer.communicate()) for racer in racers]
    wrote = [out for _, out, _ in results if "Wrote Pulumi.prod.yaml" in out]
    if len(wrote) == 2:  # only one after the other: the rollback, then the promote that read what it wrote
        staging = yaml.safe_load((repo / "Pulumi.staging.yaml").read_text())["config"]["coditect:release"]
        assert release(repo) == staging, results
    assert wrote, results
    for code, out, err in results:
        assert code == EXIT_OK or "being written by another command" in err or "uncommitted changes" in out, (code, out, err)
    assert rendered_version(repo) == release(repo)["version"] and not (repo / ".Pulumi.prod.yaml.lock").exists()


def _counter_worker(path: str, rounds: int, use_lock: bool, results: Any) -> None:
    """Add one to the number in `path`, `rounds` times: read, then write it back unless it changed meanwhile."""
    written = refused = 0
    for _ in range(rounds):
        target = Path(path)
        try:
            with locked(target) if use_lock else _no_lock():
                seen = target.read_bytes()
                write_files({target: str(int(seen) + 1)}, unchanged={target: seen})
            written += 1
        except WriteError:
            refused += 1
    results.put((written, refused))


class _no_lock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


@pytest.mark.parametrize("use_lock", [True, False])
def test_racing_processes_lose_no_update(tmp_path: Path, use_lock: bool) -> None:
    """Four processes add to one counter: every write that reports success is in the final count. With the lock held
    from read to write (as promote and rollback do) none is refused; with only the changed-since-read check, the
    losers are refused, never silently overwritten."""
    counter = tmp_path / "counter"
    counter.write_text("0")
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_counter_worker, args=(str(counter), 25, use_lock, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(60)
    written = sum(w for w, _ in outcomes)
    assert int(counter.read_text()) == written
    assert written + sum(r for _, r in outcomes) == 100
    if use_lock:
        # A lock wait of 2 s is far longer than one write: with the lock, every round gets through.
        assert written == 100
    assert not [p for p in tmp_path.iterdir() if p.name != "counter"]  # no temporary, backup or lock file left


# Two writers A and B, each reading the file then writing it; an editor (E) writes without reading. In any
# interleaving a writer's write succeeds exactly when nothing was written since its read.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(["A.read", "A.write", "B.read", "B.write", "E.write"]))
def test_any_interleaving_of_two_writers_keeps_every_reported_write(tmp_path_factory: pytest.TempPathFactory, order: list[str]) -> None:
    if order.index("A.read") > order.index("A.write") or order.index("B.read") > order.index("B.write"):
        order = sorted(order, key=lambda step: (step.split(".")[0], step.split(".")[1] == "write"))
    target = tmp_path_factory.mktemp("interleaving") / "Pulumi.prod.yaml"
    target.write_text("start\n")
    seen: dict[str, bytes] = {}
    history = ["start\n"]  # every content the file held, in order
    last_write_at: dict[str, int] = {}
    for step in order:
        who, what = step.split(".")
        if what == "read":
            seen[who] = target.read_bytes()
            last_write_at[who] = len(history)
        elif who == "E":
            target.write_text("editor\n")
            history.append("editor\n")
        else:
            nothing_written_since = len(history) == last_write_at[who]
            try:
                write_files({target: f"{who}\n"}, unchanged={target: seen[who]})
            except WriteError as refused:
                assert not nothing_written_since and "changed since this command read it" in str(refused)
                continue
            assert nothing_written_since
            history.append(f"{who}\n")
    assert target.read_text() == history[-1]


# --- links -------------------------------------------------------------------------------------------------------


def test_a_stack_file_that_is_a_symbolic_link_is_written_through(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared-config"
    shared.mkdir()
    target = shared / "prod.yaml"
    (repo / STACK_FILE).rename(target)
    (repo / STACK_FILE).symlink_to(target)
    code, out, err = cli(repo, "promote", "staging", "prod", capsys=capsys)
    assert code == EXIT_OK and "Wrote Pulumi.prod.yaml" in out, err
    staging = yaml.safe_load((repo / "Pulumi.staging.yaml").read_text())["config"]["coditect:release"]
    assert (repo / STACK_FILE).is_symlink() and os.readlink(repo / STACK_FILE) == str(target)
    assert yaml.safe_load(target.read_text())["config"]["coditect:release"] == staging
    assert rendered_version(repo) == staging["version"]
    assert sorted(p.name for p in shared.iterdir()) == ["prod.yaml"]  # no temporary, backup or lock file left


def test_a_golden_file_that_is_a_link_to_nothing_is_refused(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    golden = repo / "rendered" / "prod" / "gcp.yaml"
    golden.unlink()
    golden.symlink_to(tmp_path / "nowhere" / "gcp.yaml")
    before = files(repo)
    code, _, err = cli(repo, "promote", "staging", "prod", capsys=capsys)
    assert code == EXIT_WRITE and f"gcp.yaml is a symbolic link to {tmp_path / 'nowhere' / 'gcp.yaml'}, which does not exist" in err
    assert files(repo) == before and not (tmp_path / "nowhere").exists()


def test_a_stack_file_with_two_hard_links_is_refused(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.link(repo / STACK_FILE, tmp_path / "prod-copy.yaml")
    before = files(repo)
    code, _, err = cli(repo, "promote", "staging", "prod", capsys=capsys)
    assert code == EXIT_WRITE and "Pulumi.prod.yaml has 2 hard links" in err and "find / -xdev -samefile" in err
    assert files(repo) == before and (tmp_path / "prod-copy.yaml").read_bytes() == before[STACK_FILE]


# --- file-system refusals name the file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "meaning", "fix"),
    [
        (errno.ENOSPC, "the file system holding it is full", "df -h"),
        (errno.EDQUOT, "your disk quota there is used up", "quota -s"),
        (errno.EROFS, "it is on a read-only file system", "remount"),
        (errno.EACCES, "permission denied", "ls -ld"),
    ],
)
def test_a_refused_write_names_the_file_and_the_fix(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: int, meaning: str, fix: str
) -> None:
    before = files(repo)

    real_write = os.write

    def refused(descriptor: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{descriptor}").endswith(".tmp"):  # the writer's temporary files; git's pipes write on
            raise OSError(code, os.strerror(code))
        return real_write(descriptor, data)

    monkeypatch.setattr(atomic.os, "write", refused)
    exit_code, out, err = cli(repo, "rollback", "prod", capsys=capsys)
    monkeypatch.undo()
    assert exit_code == EXIT_WRITE and "Wrote" not in out and err.count("\n") == 1
    assert f"cannot write {repo / STACK_FILE}: {meaning} ({os.strerror(code)}). Nothing was written." in err and fix in err
    assert files(repo) == before  # no temporary left either


@pytest.mark.parametrize("failing", ["fsync", "close", "replace"])
def test_a_refusal_at_any_step_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    targets = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    for target in targets:
        target.write_text("old\n")
    real = getattr(os, failing)
    calls: list[object] = []

    def fails_second(*arguments: Any) -> Any:
        calls.append(arguments)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*arguments)

    monkeypatch.setattr(atomic.os, failing, fails_second)
    with pytest.raises(WriteError, match=rf"cannot write {tmp_path / 'b.yaml'}: the file system holding it is full"):
        write_files({target: "new\n" for target in targets})
    monkeypatch.undo()
    assert [target.read_text() for target in targets] == ["old\n", "old\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_a_real_refusal_by_the_kernel_names_the_file(tmp_path: Path) -> None:
    """A file size limit (ulimit -f) makes the kernel refuse the write (EFBIG) as a full disk would (ENOSPC)."""
    target = tmp_path / "Pulumi.prod.yaml"
    target.write_text("old\n")
    script = (
        "import resource, signal, sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path\n"
        "from ops.atomic import write_files; from ops.errors import WriteError\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n write_files({Path(sys.argv[2]): 'x' * 100_000})\nexcept WriteError as error:\n print(error)"
    )
    done = subprocess.run([sys.executable, "-c", script, str(ROOT), str(target)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and f"cannot write {target}: it is larger than this process or file system may write" in done.stdout, done
    assert "ulimit -f" in done.stdout and target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.prod.yaml"]
