"""How long `python -m ops inspect prod` takes on a converged stack, against the local stand-ins of
the Kubernetes and Compute APIs, through the real clients (issue 12: under 1 s).

Printed: the in-process command (program rendered in memory, every live read, checks, report),
cold (first call: client imports and first program run) and warm (median of the next runs, as each
`--wait` poll and the resource hook see it); the reads alone; and a fresh `python -m ops inspect`
process, imports included.

    .venv/bin/python bench/inspect_speed.py [--runs 20]
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

BOUND_SEC = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
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
        started = time.perf_counter()
        process = subprocess.run([sys.executable, "-m", "ops", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        fresh = time.perf_counter() - started
        assert process.returncode == 0, process.stderr

    warm_median = statistics.median(warm)
    print(f"inspect prod on a converged stand-in ({runs} runs, {len(standins.world.requests) // (runs * 2 + 2)} API reads per run):")
    print(f"  command, warm (median)          {warm_median * 1000:7.1f} ms   (p90 {statistics.quantiles(warm, n=10)[-1] * 1000:.1f} ms)")
    print(f"  command, cold (first in process) {cold * 1000:7.1f} ms")
    print(f"  live reads + checks (median)     {statistics.median(reads) * 1000:7.1f} ms")
    print(f"  fresh process, imports included  {fresh * 1000:7.1f} ms")
    verdict = "under" if warm_median < BOUND_SEC else "OVER"
    print(f"verdict: warm command {verdict} the {BOUND_SEC:.0f} s bound")
    return 0 if warm_median < BOUND_SEC else 1


if __name__ == "__main__":
    sys.exit(main())
