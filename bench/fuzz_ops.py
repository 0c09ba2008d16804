"""Fuzz the operator commands with hostile and careless input (issue 11): one sub-command per command.

    .venv/bin/python bench/fuzz_ops.py reader  -n 2000   # the stack-file reader alone
    .venv/bin/python bench/fuzz_ops.py check   -n 60
    .venv/bin/python bench/fuzz_ops.py render  -n 60
    .venv/bin/python bench/fuzz_ops.py promote -n 40
    .venv/bin/python bench/fuzz_ops.py diff    -n 40

Each input is a stack file mutated the way a careless or hostile user would (alias bombs, duplicate
keys, tags, bytes that are not UTF-8, deep nesting, ambiguous or huge values, lines cut or doubled,
CRLF) or hostile arguments (stack names that escape the project, --out at a file or a read-only
directory, golden files that are directories or read-only). The command runs in-process through its
error boundary (`ops.__main__.main`) in a copy of the project, restored after every input. Printed:
inputs tried, passes (exit 0), clear errors (exit 1-3, one message, no traceback), tracebacks (must
be 0), the slowest input, wall time and peak memory. Exit code 1 when any traceback was seen.
`verify` has its own hostile-server tests (tests/hostile_server.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "policy")]

from ops import stack_files  # noqa: E402
from ops.__main__ import main  # noqa: E402
from ops.errors import EXIT_BUG, StackFileError  # noqa: E402

TAGS = (
    "!!binary aGk=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!timestamp 2024-01-01",
    "!!python/object/apply:os.system [ls]",
    "!custom x",
    "!!int x",
    "!!float 1e400",
)
AMBIGUOUS = ("on", "yes", "No", "010", "1.10", "1_000", "2024-01-01", "1:20", "0b11", ".nan", "-.inf", "1e3", "true", "null", "~", "''", "[]", "{}")
BAD_NAMES = ("..", ".", "../etc", "a/b", "a\\b", "", "x" * 300, "dev\n", "dév", "-dev", "nope", "dev\x00", "prod ")


@dataclass
class Tally:
    tried: int = 0
    passes: int = 0
    clear_errors: int = 0
    tracebacks: int = 0
    slowest: float = 0.0
    slowest_input: str = ""
    examples: list[str] = field(default_factory=list)

    def record(self, label: str, seconds: float, outcome: str, detail: str = "") -> None:
        self.tried += 1
        if seconds > self.slowest:
            self.slowest, self.slowest_input = seconds, label
        if outcome == "pass":
            self.passes += 1
        elif outcome == "clear":
            self.clear_errors += 1
        else:
            self.tracebacks += 1
            if len(self.examples) < 5:
                self.examples.append(f"{label}: {detail[-1500:]}")


SWAPS = ("true", "12", "[]", "{}", "null", "-1", "1.5", "[[1]]", '""')
NON_STRING_KEYS = ("1", "true", "null", "[a]", "{a: 1}", "1.5")


@dataclass(frozen=True)
class Spot:
    """A stack file's lines, the config line picked, its key, and the generator."""

    lines: list[str]
    at: int
    key: str
    rng: random.Random

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def replaced(self, line: str) -> str:
        return "".join([*self.lines[: self.at], line, *self.lines[self.at + 1 :]])

    def inserted(self, *lines: str, at: int | None = None) -> str:
        where = self.at if at is None else at
        return "".join([*self.lines[:where], *lines, *self.lines[where:]])


def _alias_bomb(spot: Spot) -> str:
    width, depth = spot.rng.randint(2, 9), spot.rng.randint(3, 12)
    bomb = [f"  coditect:b0: &b0 [{', '.join(['lol'] * width)}]\n"]
    bomb += [f"  coditect:b{d}: &b{d} [{', '.join([f'*b{d - 1}'] * width)}]\n" for d in range(1, depth)]
    return spot.inserted(*bomb)


def _byte(spot: Spot) -> bytes:
    raw = spot.text.encode()
    at = spot.rng.randrange(len(raw))
    return raw[:at] + bytes([spot.rng.randint(0x80, 0xFF)]) + raw[at:]


def _char(spot: Spot) -> str:
    at = spot.rng.randrange(len(spot.text))
    return spot.text[:at] + spot.rng.choice("[]{}:&*!|>'\"#%@`\t-?,") + spot.text[at + 1 :]


def _nesting(spot: Spot) -> str:
    depth = spot.rng.randint(20, 5000)
    return spot.replaced(f"{spot.key}: {'[' * depth}{']' * depth}\n")


MUTATIONS: dict[str, Callable[[Spot], str | bytes]] = {
    "alias-bomb": _alias_bomb,
    "duplicate-key": lambda spot: spot.inserted(spot.lines[spot.at], at=spot.rng.randint(spot.at, len(spot.lines))),
    "tag": lambda spot: spot.replaced(f"{spot.key}: {spot.rng.choice(TAGS)}\n"),
    "bytes": _byte,
    "nesting": _nesting,
    "ambiguous": lambda spot: spot.replaced(f"{spot.key}: {spot.rng.choice(AMBIGUOUS)}\n"),
    "huge": lambda spot: spot.replaced(f"{spot.key}: {'x' * spot.rng.choice([70_000, 900_000, 2_000_000])}\n"),
    "cut": lambda spot: spot.text[: spot.rng.randrange(len(spot.text))],
    "double-line": lambda spot: spot.inserted(spot.rng.choice(spot.lines)),
    "crlf": lambda spot: spot.text.replace("\n", "\r\n"),
    "char": _char,
    "non-string-key": lambda spot: spot.inserted(f"  {spot.rng.choice(NON_STRING_KEYS)}: x\n"),
    "type-swap": lambda spot: spot.replaced(f"{spot.key}: {spot.rng.choice(SWAPS)}\n"),
    "bom": lambda spot: "\ufeff" + spot.text,
    "escapes": lambda spot: spot.replaced(f'{spot.key}: "a\\x{spot.rng.randint(0, 31):02x}b\\ud800"\n'),
    "many-keys": lambda spot: spot.inserted(*(f"  coditect:k{i}: {i}\n" for i in range(spot.rng.randint(100, 20_000)))),
}


def mutate(text: str, rng: random.Random) -> tuple[str, bytes]:
    """(which mutation, the mutated stack file's bytes)."""
    lines = text.splitlines(keepends=True)
    config_lines = [i for i, line in enumerate(lines) if line.startswith("  ") and ":" in line and not line.lstrip().startswith("#")]
    at = rng.choice(config_lines)
    kind = rng.choice(sorted(MUTATIONS))
    mutated = MUTATIONS[kind](Spot(lines, at, lines[at].partition(":")[0], rng))
    return kind, mutated.encode() if isinstance(mutated, str) else mutated


class Project:
    """A copy of the project whose files are put back after every input."""

    def __init__(self, base: Path) -> None:
        self.root = base / "project"
        self.root.mkdir()
        for path in ROOT.glob("Pulumi*.yaml"):
            shutil.copy(path, self.root / path.name)
        shutil.copy(ROOT / "__main__.py", self.root / "__main__.py")
        shutil.copytree(ROOT / "rendered", self.root / "rendered")
        shutil.copytree(ROOT / "policy" / "config", self.root / "policy" / "config")
        self.saved = {p: p.read_bytes() for p in self.root.rglob("*") if p.is_file()}

    def restore(self) -> None:
        for path in sorted(self.root.rglob("*"), reverse=True):
            path.chmod(0o755 if path.is_dir() else 0o644)
            if path.is_dir() and not path.is_symlink() and path not in {p.parent for p in self.saved} and path != self.root / "policy":
                shutil.rmtree(path)
            elif (path.is_file() or path.is_symlink()) and path not in self.saved:
                path.unlink()
        for path, content in self.saved.items():
            if path.is_dir():
                shutil.rmtree(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


def run_cli(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


def judge(tally: Tally, label: str, action: Callable[[], tuple[int, str]]) -> None:
    started = time.perf_counter()
    try:
        code, output = action()
    except BaseException as escaped:  # nothing may pass the error boundary
        tally.record(label, time.perf_counter() - started, "traceback", f"escaped the boundary: {type(escaped).__name__}: {escaped}")
        return
    seconds = time.perf_counter() - started
    if code == EXIT_BUG or "Traceback" in output:
        tally.record(label, seconds, "traceback", output)
    else:
        tally.record(label, seconds, "pass" if code == 0 else "clear")


def hostile_arguments(command: str, project: Project, rng: random.Random, scratch: Path) -> tuple[str, list[str]]:
    """An argument list for `command` with one hostile part, and what it is."""
    root = str(project.root)
    name = rng.choice(BAD_NAMES)
    choice = rng.choice(["name", "out-file", "out-readonly", "golden-dir", "golden-readonly", "empty-project", "leftover"])
    if choice == "out-file":
        (scratch / "a-file").write_text("x")
        return choice, ["--project", root, "render", "dev", "--out", str(scratch / "a-file")]
    if choice == "out-readonly":
        target = scratch / "read-only"
        target.mkdir(exist_ok=True)
        target.chmod(0o555)
        return choice, ["--project", root, "render", "dev", "--out", str(target)]
    if choice in ("golden-dir", "golden-readonly"):
        golden = project.root / "rendered" / "staging" / rng.choice(["kubernetes.yaml", "gcp.yaml"])
        if choice == "golden-dir":
            golden.unlink()
            golden.mkdir()
        else:
            golden.chmod(0o444)
        return choice, {
            "render": ["--project", root, "render", "staging"],
            "check": ["--project", root, "check", "staging"],
            "promote": ["--project", root, "promote", "dev", "staging"],
            "diff": ["--project", root, "diff", "dev", "staging"],
        }[command]
    if choice == "empty-project":
        empty = scratch / "empty"
        empty.mkdir(exist_ok=True)
        return choice, ["--project", str(empty), command, *(["dev", "staging"] if command in ("promote", "diff") else [])]
    if choice == "leftover":
        (project.root / "rendered" / "gone").mkdir(exist_ok=True)
        return choice, ["--project", root, "check"] if command == "check" else [
            "--project",
            root,
            command,
            "dev",
            *(["staging"] if command in ("promote", "diff") else []),
        ]
    return f"name {name[:20]!r}", {
        "render": ["--project", root, "render", name],
        "check": ["--project", root, "check", name],
        "promote": ["--project", root, "promote", "dev", name],
        "diff": ["--project", root, "diff", name, "dev"],
    }[command]


def fuzz_command(command: str, count: int, rng: random.Random) -> Tally:
    tally = Tally()
    with tempfile.TemporaryDirectory() as temporary:
        project = Project(Path(temporary))
        scratch = Path(temporary) / "scratch"
        scratch.mkdir()
        targets = {"render": "dev", "check": "dev", "promote": "staging", "diff": rng.choice(["dev", "staging"])}
        for index in range(count):
            if index % 4 == 3:
                label, argv = hostile_arguments(command, project, rng, scratch)
            else:
                stack = targets[command] if command != "promote" else rng.choice(["dev", "staging"])
                path = project.root / f"Pulumi.{stack}.yaml"
                label, content = mutate(project.saved[path].decode(), rng)
                label = f"{stack}: {label}"
                path.write_bytes(content)
                argv = {
                    "render": ["--project", str(project.root), "render", stack, "--out", str(scratch / "out")],
                    "check": ["--project", str(project.root), "check", stack],
                    "promote": ["--project", str(project.root), "promote", "dev", "staging"],
                    "diff": ["--project", str(project.root), "diff", "dev", "staging"],
                }[command]
            judge(tally, label, lambda argv=argv: run_cli(argv))  # type: ignore[misc]
            project.restore()
            for leftover in scratch.iterdir():
                leftover.chmod(0o755)
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    return tally


def fuzz_reader(count: int, rng: random.Random) -> Tally:
    tally = Tally()
    base = (ROOT / "Pulumi.prod.yaml").read_text()

    def parse(content: bytes) -> tuple[int, str]:
        try:
            stack_files.parse(stack_files.decode(content, "Pulumi.x.yaml"), "Pulumi.x.yaml")
        except StackFileError as refused:
            return 2, str(refused)
        return 0, ""

    for _ in range(count):
        label, content = mutate(base, rng)
        judge(tally, label, lambda content=content: parse(content))  # type: ignore[misc]
    return tally


def report(command: str, tally: Tally, seconds: float, peak_traced: int | None) -> None:
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{command}: {tally.tried} inputs tried, {tally.clear_errors} clear errors, {tally.passes} passes, {tally.tracebacks} tracebacks; "
        f"wall {seconds:.1f} s, slowest input {tally.slowest * 1000:.0f} ms ({tally.slowest_input}), peak RSS {peak_rss:.0f} MB"
        + (f", peak allocated by the reader {peak_traced / 1e6:.1f} MB" if peak_traced is not None else "")
    )
    for example in tally.examples:
        print(f"  TRACEBACK {example}")


def main_fuzz(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["reader", "render", "check", "promote", "diff"])
    parser.add_argument("-n", type=int, default=40, help="inputs to try (default 40)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    if args.command == "reader":
        tracemalloc.start()
        tally = fuzz_reader(args.n, rng)
        peak: int | None = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        tally, peak = fuzz_command(args.command, args.n, rng), None
    report(args.command, tally, time.perf_counter() - started, peak)
    return 1 if tally.tracebacks else 0


if __name__ == "__main__":
    sys.exit(main_fuzz())
