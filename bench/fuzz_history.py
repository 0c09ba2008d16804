"""Fuzz `history` and `rollback` with hostile git histories and racing writers (issue 19, classes 7 and 8).

    .venv/bin/python bench/fuzz_history.py -n 40            # hostile histories, then racing writers
    .venv/bin/python bench/fuzz_history.py -n 40 --huge-mb 400

Each input is a git repository of the project holding prod's releases (as tests/test_rollback.py builds it),
made hostile one way: a shallow clone (depth 1-3), commit subjects holding the old separator, control
characters, unicode or bytes that are not UTF-8, an old revision far over the reader's bound (--huge-mb, one
input), a revision that is not a stack file, the file deleted and restored, the file renamed into place, a
history longer than the commit bound (built with git fast-import), no repository, a repository without
commits, a stack file that is a symbolic link or has a second hard link, a full disk (the writer's `write`
refused with ENOSPC). On each, `history prod --json`, `rollback prod --dry-run` and `rollback prod` run
in-process through the error boundary (`ops.__main__.main`). Then `promote staging prod` and `rollback prod`
race as two processes (--races times). Printed: inputs, runs, passes (exit 0), clear errors (exit 1-3, one
message), tracebacks (must be 0), runs over the time bound (must be 0), lost updates among the races (must be 0),
wall time and peak memory (this process, and its children: git and the racers). Exit 1 on any traceback,
over-time run or lost update.
"""

# ruff: noqa: ARG001, ARG005  (every way of making a repository hostile takes the same arguments)
from __future__ import annotations

import argparse
import contextlib
import errno
import io
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "policy")]

from ops import history as history_module  # noqa: E402
from ops.__main__ import main  # noqa: E402
from ops.errors import EXIT_BUG  # noqa: E402
from tests.conftest import copy_project  # noqa: E402
from tests.test_rollback import IDE, NGINX, STACK_FILE, commit, digest, git, set_release  # noqa: E402

TIME_BOUND_S = history_module.HISTORY_DEADLINE_S + 30  # the history's own deadline, and two renders
SUBJECT_PARTS = ("\x1f", "\x1e", "|", "%x00", "%s", "\t", "\r", "é", "✓", "😀", "\u202e", "\x1b[2J\x1b[32mPASS", "{}", "'", '"', "\\")


@dataclass
class Tally:
    inputs: int = 0
    runs: int = 0
    passes: int = 0
    clear: int = 0
    tracebacks: int = 0
    over_time: int = 0
    lost_updates: int = 0
    slowest: float = 0.0
    slowest_input: str = ""
    examples: list[str] = field(default_factory=list)
    exits: dict[str, Counter[int]] = field(default_factory=dict)  # kind of input -> exit codes seen

    def record(self, label: str, seconds: float, code: int, output: str) -> None:
        self.runs += 1
        self.exits.setdefault(label.split(":")[0], Counter())[code] += 1
        if seconds > self.slowest:
            self.slowest, self.slowest_input = seconds, label
        if seconds > TIME_BOUND_S:
            self.over_time += 1
            self.examples.append(f"OVER TIME {label}: {seconds:.1f} s")
        if code == EXIT_BUG or "Traceback" in output:
            self.tracebacks += 1
            self.examples.append(f"TRACEBACK {label}: {output[-1500:]}")
        elif code == 0:
            self.passes += 1
        else:
            self.clear += 1


def base_repository(scratch: Path) -> Path:
    """prod's history: 1.4.2, 1.4.3-rc (tag images), 1.5.0, 1.6.0 (tests/test_rollback.py's fixture)."""
    (scratch / "base").mkdir()
    root = copy_project(scratch / "base")
    git(root, "init", "-q", "-b", "main")
    commit(root, "prod 1.4.2", 1)
    set_release(root, "1.4.3-rc", f"{NGINX}:1.4.3-rc", f"{IDE}:1.4.3-rc")
    commit(root, "prod 1.4.3-rc", 2)
    set_release(root, "1.5.0", f"{NGINX}@{digest('5a')}", f"{IDE}@{digest('5b')}")
    commit(root, "prod 1.5.0", 3)
    set_release(root, "1.6.0", f"{NGINX}@{digest('6a')}", f"{IDE}@{digest('6b')}")
    commit(root, "prod 1.6.0", 4)
    return root


def raw_commit(root: Path, message: bytes) -> None:
    (root.parent / "message").write_bytes(message)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--cleanup=verbatim", "--allow-empty-message", "-F", str(root.parent / "message"))


def new_release(root: Path, rng: random.Random) -> str:
    version = f"2.{rng.randint(0, 99)}.{rng.randint(0, 99)}"
    set_release(root, version, f"{NGINX}@{digest(f'{rng.randint(10, 99)}')}", f"{IDE}@{digest(f'{rng.randint(10, 99)}')}")
    return version


def _subjects(root: Path, rng: random.Random, huge_mb: int) -> None:
    for _ in range(rng.randint(1, 4)):
        new_release(root, rng)
        text = "".join(rng.choice(SUBJECT_PARTS) for _ in range(rng.randint(0, 12)))
        raw_commit(root, text.encode() if rng.random() < 0.7 else text.encode() + bytes([rng.randint(0x80, 0xFF)]) + b"\xfe")


def _huge(root: Path, rng: random.Random, huge_mb: int) -> None:
    stack = root / STACK_FILE
    good = stack.read_bytes()
    with stack.open("ab") as stream:  # the accident: megabytes committed into the stack file
        stream.write(b"# ")
        for _ in range(huge_mb):
            stream.write(b"x" * (1 << 20))
        stream.write(b"\n")
    commit(root, "prod: an accident", 5)
    stack.write_bytes(good)
    commit(root, "prod: the accident undone", 6)


def _not_a_stack_file(root: Path, rng: random.Random, huge_mb: int) -> None:
    stack = root / STACK_FILE
    good = stack.read_bytes()
    stack.write_bytes(rng.choice([b"config: [unclosed\n", b"\xff\xfe\x00", b"- a list\n", b"a: &a [*a]\n", b"config:\n  x: !!binary aGk=\n"]))
    commit(root, "prod: broken", 5)
    stack.write_bytes(good)
    commit(root, "prod: fixed", 6)


def _deleted_and_restored(root: Path, rng: random.Random, huge_mb: int) -> None:
    good = (root / STACK_FILE).read_bytes()
    (root / STACK_FILE).unlink()
    commit(root, "prod: removed", 5)
    (root / STACK_FILE).write_bytes(good)
    commit(root, "prod: back", 6)


def _renamed(root: Path, rng: random.Random, huge_mb: int) -> None:
    git(root, "mv", STACK_FILE, "Pulumi.production.yaml")
    commit(root, "prod: renamed away", 5)
    git(root, "mv", "Pulumi.production.yaml", STACK_FILE)
    new_release(root, rng)
    commit(root, "prod: renamed back, with a release", 6)


def _long(root: Path, rng: random.Random, huge_mb: int) -> None:
    """More commits than the bound, written by git fast-import (seconds, not minutes)."""
    text = (root / STACK_FILE).read_text()
    now = text.split("version: ", 1)[1].split("\n", 1)[0]
    stream = io.BytesIO()
    count = history_module.MAX_COMMITS + rng.randint(1, 300)
    for index in range(count):
        content = text.replace(f"version: {now}\n", f"version: 3.0.{index}\n", 1).encode()
        message = f"prod 3.0.{index}".encode()
        stream.write(b"commit refs/heads/main\ncommitter Bot <bot@example.test> %d +0000\n" % (1_800_000_000 + index))
        stream.write(b"data %d\n%s\n" % (len(message), message))
        if index == 0:
            stream.write(b"from refs/heads/main^0\n")
        stream.write(b"M 100644 inline %s\ndata %d\n%s\n" % (STACK_FILE.encode(), len(content), content))
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet", "--force"], input=stream.getvalue(), check=True, capture_output=True)
    git(root, "checkout", "-q", "-f", "main")


def _no_repository(root: Path, rng: random.Random, huge_mb: int) -> None:
    shutil.rmtree(root / ".git")


def _no_commits(root: Path, rng: random.Random, huge_mb: int) -> None:
    shutil.rmtree(root / ".git")
    git(root, "init", "-q", "-b", "main")


def _symlink(root: Path, rng: random.Random, huge_mb: int) -> None:
    target = root.parent / "shared-prod.yaml"
    (root / STACK_FILE).rename(target)
    (root / STACK_FILE).symlink_to(target)
    commit(root, "prod: the stack file is a link", 5)


def _hard_link(root: Path, rng: random.Random, huge_mb: int) -> None:
    os.link(root / STACK_FILE, root.parent / "prod-copy.yaml")


def _dirty(root: Path, rng: random.Random, huge_mb: int) -> None:
    with (root / STACK_FILE).open("a") as stream:
        stream.write("# a local edit\n")


# name -> (how the repository is made hostile, whether it starts from a shallow clone)
HOSTILE: dict[str, Callable[[Path, random.Random, int], None]] = {
    "subjects": _subjects,
    "not-a-stack-file": _not_a_stack_file,
    "deleted-and-restored": _deleted_and_restored,
    "renamed": _renamed,
    "long-history": _long,
    "no-repository": _no_repository,
    "no-commits": _no_commits,
    "symlink": _symlink,
    "hard-link": _hard_link,
    "dirty": _dirty,
    "shallow": lambda root, rng, huge: None,
    "full-disk": lambda root, rng, huge: None,
}


@contextlib.contextmanager
def full_disk() -> Iterator[None]:
    """The writer's temporary files refused with ENOSPC, as a full disk refuses them (git's pipes write on)."""
    real_write = os.write

    def refused(descriptor: int, data: bytes | memoryview) -> int:
        if os.readlink(f"/proc/self/fd/{descriptor}").endswith(".tmp"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(descriptor, data)

    os.write = refused  # type: ignore[assignment]
    try:
        yield
    finally:
        os.write = real_write


def run_cli(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


def judge(tally: Tally, label: str, argv: list[str]) -> None:
    started = time.perf_counter()
    try:
        code, output = run_cli(argv)
    except BaseException as escaped:  # nothing may pass the error boundary
        code, output = EXIT_BUG, f"Traceback: escaped the boundary: {type(escaped).__name__}: {escaped}"
    tally.record(label, time.perf_counter() - started, code, output)


def hostile_inputs(tally: Tally, base: Path, scratch: Path, count: int, rng: random.Random, huge_mb: int) -> None:
    kinds = sorted(HOSTILE)
    for index in range(count):
        kind = "huge" if index == 0 and huge_mb else kinds[index % len(kinds)] if index < len(kinds) + 1 else rng.choice(kinds)
        work = scratch / f"input{index}"
        work.mkdir()
        root = work / "project"
        options = ["--depth", str(rng.randint(1, 3))] if kind == "shallow" else []
        subprocess.run(["git", "clone", "-q", *options, f"file://{base}", str(root)], check=True, capture_output=True)
        (_huge if kind == "huge" else HOSTILE[kind])(root, rng, huge_mb)
        label = f"{kind}{f' {huge_mb} MB' if kind == 'huge' else ''}"
        tally.inputs += 1
        with full_disk() if kind == "full-disk" else contextlib.nullcontext():
            for command in (["history", "prod", "--json"], ["history", "prod"], ["rollback", "prod", "--dry-run"], ["rollback", "prod"]):
                judge(tally, f"{label}: {' '.join(command)}", ["--project", str(root), *command])
        shutil.rmtree(work)


def races(tally: Tally, base: Path, scratch: Path, count: int) -> None:
    """`promote staging prod` and `rollback prod` started together; a lost update is two writes that overlapped
    (both say Wrote, and the render no longer matches the stack file), or a leftover lock."""
    for index in range(count):
        root = scratch / f"race{index}" / "project"
        subprocess.run(["git", "clone", "-q", f"file://{base}", str(root)], check=True, capture_output=True)
        tally.inputs += 1
        started = time.perf_counter()
        racers = [
            subprocess.Popen(
                [sys.executable, "-m", "ops", "--project", str(root), *arguments], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for arguments in (["promote", "staging", "prod"], ["rollback", "prod"])
        ]
        outputs = [racer.communicate(timeout=TIME_BOUND_S * 2) for racer in racers]
        seconds = time.perf_counter() - started
        for name, racer, (out, err) in zip(("race: promote", "race: rollback"), racers, outputs, strict=True):
            tally.record(name, seconds, racer.returncode, out + err)
        stack_version = (root / STACK_FILE).read_text().split("    version: ", 1)[1].split("\n", 1)[0].strip("'\"")
        rendered = (root / "rendered" / "prod" / "kubernetes.yaml").read_text()
        rendered_version = rendered.split("app.kubernetes.io/version: ", 1)[1].split("\n", 1)[0].strip().strip("'\"")
        if rendered_version != stack_version or (root / ".Pulumi.prod.yaml.lock").exists():
            tally.lost_updates += 1
            tally.examples.append(f"LOST UPDATE race {index}: stack {stack_version}, render {rendered_version}; {outputs}")
        shutil.rmtree(root.parent)


def main_fuzz(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=40, help="hostile histories to try (default 40)")
    parser.add_argument("--races", type=int, default=4, help="promote/rollback races (default 4)")
    parser.add_argument("--huge-mb", type=int, default=400, help="size of the one huge old revision (0: none)")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    tally = Tally()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as temporary:
        scratch = Path(temporary)
        base = base_repository(scratch)
        hostile_inputs(tally, base, scratch, args.n, rng, args.huge_mb)
        races(tally, base, scratch, args.races)
    seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"history/rollback: {tally.inputs} inputs ({args.n} hostile histories, {args.races} races), {tally.runs} runs: "
        f"{tally.clear} clear errors, {tally.passes} passes, {tally.tracebacks} tracebacks, {tally.over_time} over the {TIME_BOUND_S:g} s bound, "
        f"{tally.lost_updates} lost updates; wall {seconds:.1f} s, slowest run {tally.slowest:.1f} s ({tally.slowest_input}), "
        f"peak RSS {own:.0f} MB (largest child: {children:.0f} MB)"
    )
    print("  exit codes by input: " + "; ".join(f"{kind} {dict(sorted(codes.items()))}" for kind, codes in sorted(tally.exits.items())))
    for example in tally.examples[:10]:
        print(f"  {example}")
    return 1 if tally.tracebacks or tally.over_time or tally.lost_updates else 0


if __name__ == "__main__":
    sys.exit(main_fuzz())
