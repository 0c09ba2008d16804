"""How long `python -m ops inspect prod` takes on a converged stack, against the local stand-ins of
the Kubernetes, Compute and Container APIs, through the real clients (issue 24, section 6).

Printed: the whole process (`python -m ops inspect prod`, imports included: the median of --processes
fresh processes once the golden render is proven current, and the first one, which renders to prove it),
and a whole process refusing a missing kubeconfig; next to them the in-process command, cold (first
call: client imports) and warm (median of the next runs, as each `--wait` poll sees it), and the reads
alone. Bounds: 1.5 s for the converged process, 1 s for the refusal.

    .venv/bin/python bench/inspect_speed.py [--runs 20] [--processes 5]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "policy"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from tests.standin.harness import golden_desired, running  # noqa: E402
from tests.standin.world import healthy_world  # noqa: E402

PROCESS_BOUND_SEC = 1.5  # a converged stand-in, whole process
REFUSAL_BOUND_SEC = 1.0  # no kubeconfig at all, whole process


def _process(arguments: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    process = subprocess.run([sys.executable, "-m", "ops", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--processes", type=int, default=5)
    options = parser.parse_args()
    runs = options.runs
    with tempfile.TemporaryDirectory() as tmp, running(healthy_world(), Path(tmp)) as standins:
        arguments = ["inspect", "prod", "--kubeconfig", str(standins.kubeconfig), "--gcp-endpoint", standins.compute_url]

        def command() -> float:
            from ops.inspect.run import Options, run

            options = Options("prod", ROOT, kubeconfig=str(standins.kubeconfig), gcp_endpoint=standins.compute_url)
            started = time.perf_counter()
            assert run(options, io.StringIO(), io.StringIO()) == 0, "the stand-in must be converged"
            return time.perf_counter() - started

        cold = command()
        warm = [command() for _ in range(runs)]

        from livestate.desired import StackTarget
        from livestate.inspector import Inspector
        from tests.standin.world import CONTEXT, PROJECT

        inspector = Inspector(golden_desired(), StackTarget(CONTEXT, PROJECT), str(standins.kubeconfig), standins.compute_url, 5.0)
        reads = []
        for _ in range(runs):
            started = time.perf_counter()
            assert inspector.inspect("prod").converged
            reads.append(time.perf_counter() - started)
        inspector.close()

        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "policy")])}
        stamp = ROOT / ".cache" / "inspect" / "prod.json"
        stamp.unlink(missing_ok=True)
        first, process = _process(arguments, env)  # renders, finds the golden file equal, records the stamp
        assert process.returncode == 0, process.stderr
        fresh = []
        for _ in range(options.processes):
            seconds, process = _process(arguments, env)
            assert process.returncode == 0, process.stderr
            fresh.append(seconds)
        home = Path(tmp) / "home"
        home.mkdir()
        bare = {k: v for k, v in env.items() if k != "KUBECONFIG"} | {"HOME": str(home)}
        refusals = []
        for _ in range(options.processes):
            seconds, process = _process(["inspect", "prod"], bare)
            assert process.returncode == 2 and "no kubeconfig" in process.stderr, process.stderr
            refusals.append(seconds)

    fresh_median, refusal_median, warm_median = statistics.median(fresh), statistics.median(refusals), statistics.median(warm)
    print(f"inspect prod on a converged stand-in ({runs} runs in process, {options.processes} fresh processes):")
    print(f"  whole process, golden current (median)  {fresh_median * 1000:7.1f} ms   (max {max(fresh) * 1000:.1f} ms)")
    print(f"  whole process, first (renders, stamps)  {first * 1000:7.1f} ms")
    print(f"  whole process, no kubeconfig (median)   {refusal_median * 1000:7.1f} ms")
    print(f"  in process, warm (median)               {warm_median * 1000:7.1f} ms   (p90 {statistics.quantiles(warm, n=10)[-1] * 1000:.1f} ms)")
    print(f"  in process, cold (first call)           {cold * 1000:7.1f} ms")
    print(f"  live reads + checks (median)            {statistics.median(reads) * 1000:7.1f} ms")
    ok = fresh_median <= PROCESS_BOUND_SEC and refusal_median < REFUSAL_BOUND_SEC
    print(
        f"verdict: whole process {'within' if fresh_median <= PROCESS_BOUND_SEC else 'OVER'} {PROCESS_BOUND_SEC:g} s, "
        f"refusal {'under' if refusal_median < REFUSAL_BOUND_SEC else 'OVER'} {REFUSAL_BOUND_SEC:g} s"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
