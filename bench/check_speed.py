"""`python -m ops check` against its floor: the bare cost of importing the Pulumi SDK modules it uses.

Most of a check is importing pulumi, pulumi_kubernetes, pulumi_gcp and pulumi_policy; the rest is
this project's own work (settings, three programs under mocks, the policy pack, strict schemas,
golden files). The floor is a Python process that imports exactly the SDK modules a check loads
(recorded from a real check first), so the ratio shows what the project's own work costs on top.

A second floor imports the same modules with the garbage collector off: the pure import work.

All run as fresh subprocesses of the same interpreter, interleaved so they share cache and load
conditions, after one discarded warm-up run of each. Medians of wall and CPU time are printed; the
verdict (check against the plain floor) uses CPU time, which a busy machine (two cores shared with
other work) leaves stable. Exit 1 when the target is missed.

    python bench/check_speed.py [--repeat 7] [--target 1.25]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK_PACKAGES = ("pulumi", "pulumi_kubernetes", "pulumi_gcp", "pulumi_policy")
CHECK = [sys.executable, "-m", "ops", "check"]
FLOORS = ("floor: import the SDK modules", "floor, garbage collector off")

# Runs a check in-process and prints the SDK modules it really loaded: pulumi_gcp registers every
# subpackage as a lazy stub (class _LazyModule until first touched), and those never touched cost nothing.
RECORD = f"""
import contextlib, io, json, sys
from ops.__main__ import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["check"])
loaded = sorted(name for name, module in list(sys.modules.items())
                if name.split(".")[0] in {SDK_PACKAGES!r} and module is not None and type(module).__name__ != "_LazyModule")
print(json.dumps({{"code": code, "modules": loaded}}))
"""

# Imports the recorded modules; touching each one loads a module the SDK registered lazily. With
# "nogc" the garbage collector stays off: the pure import work, a floor no GC policy can go under.
FLOOR = """
import gc, importlib, json, sys
if sys.argv[1:] == ["nogc"]:
    gc.disable()
for name in json.loads(sys.stdin.read()):
    getattr(importlib.import_module(name), "__name__")
"""


def sdk_modules() -> list[str]:
    result = subprocess.run([sys.executable, "-c", RECORD], cwd=ROOT, capture_output=True, text=True, check=True)
    recorded = json.loads(result.stdout.strip().splitlines()[-1])
    if recorded["code"] != 0:
        raise SystemExit("`python -m ops check` fails; fix it before timing it")
    return list(recorded["modules"])


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # user + system of the child: what the process itself cost, whatever else the machine runs


def timed(command: list[str], stdin: str = "") -> Timing:
    cpu_before = _children_cpu()
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, input=stdin, stdout=subprocess.DEVNULL, text=True, check=True)
    return Timing(time.perf_counter() - start, _children_cpu() - cpu_before)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report(name: str, runs: list[Timing]) -> tuple[float, float]:
    wall, cpu = statistics.median(t.wall for t in runs), statistics.median(t.cpu for t in runs)
    print(f"{name:38s} wall {wall:5.2f} s  cpu {cpu:5.2f} s   wall runs: {' '.join(f'{t.wall:.2f}' for t in runs)}")
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each (default 7)")
    parser.add_argument("--target", type=float, default=1.25, help="the ratio to stay under (default 1.25)")
    args = parser.parse_args()

    modules = sdk_modules()
    commands = {
        FLOORS[0]: [sys.executable, "-c", FLOOR],
        FLOORS[1]: [sys.executable, "-c", FLOOR, "nogc"],
        "python -m ops check": CHECK,
    }
    stdin = json.dumps(modules)
    for command in commands.values():  # warm-up: page cache and bytecode for each
        timed(command, stdin)
    runs: dict[str, list[Timing]] = {name: [] for name in commands}
    for _ in range(args.repeat):  # interleaved, so all three see the same machine
        for name, command in commands.items():
            runs[name].append(timed(command, stdin))

    print(f"python {sys.version.split()[0]}, {len(modules)} SDK modules, median of {args.repeat} fresh processes each")
    medians = {name: report(name, timings) for name, timings in runs.items()}
    check_wall, check_cpu = medians["python -m ops check"]
    for name in FLOORS:
        floor_wall, floor_cpu = medians[name]
        print(f"check / {name:30s} wall {check_wall / floor_wall:5.2f}x  cpu {check_cpu / floor_cpu:5.2f}x")
    # The target is against the plain floor, on CPU time: on an idle machine it equals wall time, on
    # a shared one it is what stays stable. The check freezes the SDK's objects after its first stack
    # (ops.render.freeze_loaded_objects), so the SDK modules only later stacks import are collected
    # less often than in the floor; the floor without a collector bounds what that can be worth.
    ratio = check_cpu / medians[FLOORS[0]][1]
    print(f"target <= {args.target}x on cpu against the plain floor: {'met' if ratio <= args.target else 'NOT met'}")
    return 0 if ratio <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
