"""The real engine's `pulumi preview` of a stack next to `python -m ops check` of the same stack.

`preview` runs the built Pulumi CLI on the program (engine/drive.py, the deploy virtualenv) against the loopback
cluster of `python -m ops cluster start`: the engine's plan, the Kubernetes provider's server-side dry-run
of every object. `ops check` renders the stack under mocks and runs every offline check. Both as fresh
processes, interleaved, after one discarded warm-up run each; medians of wall time are printed.

    python bench/engine_preview.py [--stack local] [--repeat 5]

Needs `make engine` and a running local cluster; exit 2 when either is missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", default="local")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not (ROOT / ".engine" / "bin" / "pulumi").exists():
        print("the engine is not built: run `make engine`", file=sys.stderr)
        return 2
    status = subprocess.run([sys.executable, "-m", "ops", "cluster", "status"], cwd=ROOT, capture_output=True, text=True)
    if status.returncode != 0:
        print("no local cluster: run `python -m ops cluster start`", file=sys.stderr)
        return 2
    deploy = Path(subprocess.run([sys.executable, "engine/deploy_venv.py"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip())
    env = {**os.environ, "KUBECONFIG": str(ROOT / ".engine" / "kubeconfig")}
    preview = [str(deploy), "engine/drive.py", "preview", "--stack", args.stack]
    check = [sys.executable, "-m", "ops", "check", args.stack]
    timed(preview, env)
    timed(check, env)
    previews, checks = [], []
    for _ in range(args.repeat):
        previews.append(timed(preview, env))
        checks.append(timed(check, env))
    p, c = statistics.median(previews), statistics.median(checks)
    print(f"stack {args.stack}, {args.repeat} runs each, median wall time")
    print(f"  pulumi preview (real engine, server-side dry-run): {p:6.2f} s  (min {min(previews):.2f}, max {max(previews):.2f})")
    print(f"  python -m ops check (mocks, offline checks):       {c:6.2f} s  (min {min(checks):.2f}, max {max(checks):.2f})")
    print(f"  ratio preview / check: {p / c:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
