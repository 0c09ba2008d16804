"""K concurrent Socket.IO sessions through the local lab, each doing the full `ops verify` check.

Starts the lab (real python-socketio servers behind nginx with the project's rendered site
config, and load balancer stand-ins), then runs K sessions at once through the fixed setup
(client-IP affinity, Upgrade forwarded) and through the round-robin setup, and prints what a
user would see: success rate, p50/p99 handshake and round-trip latency, sessions per second.

    python bench/socketio_load.py [--sessions 200] [--polls 10] [--backends 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ops.verify import CheckName, Options, Report, verify  # noqa: E402
from tests.lab import Lab  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def session(url: str, index: int, polls: int) -> Report:
    # Distinct client IPs (127.0.N.M): the affinity hash spreads them over the pods like real users.
    source = f"127.0.{index // 250 + 1}.{index % 250 + 1}"
    return verify(Options(url, polls=polls, timeout=30, source_address=source))


def run(lab: Lab, setup: str, sessions: int, polls: int) -> None:
    url = lab.url(setup)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        reports = list(pool.map(lambda i: session(url, i, polls), range(sessions)))
    wall = time.perf_counter() - start
    ok = sum(r.ok for r in reports)
    handshakes = [r.check(CheckName.HANDSHAKE).ms for r in reports if r.check(CheckName.HANDSHAKE).ok]
    polled = [r.check(CheckName.POLLING) for r in reports]
    round_trips = [check.ms / check.data["requests"] for check in polled if check.ok]
    failures = Counter(str(c.name) for r in reports for c in r.checks if c.ok is False)
    pods = {pod for r in reports for pods in r.pods.values() for pod in pods}
    print(
        f"{setup:>10}: {ok}/{sessions} sessions passed ({100 * ok / sessions:.1f} %), "
        f"handshake p50 {statistics.median(handshakes) if handshakes else float('nan'):.1f} ms p99 {percentile(handshakes, 0.99):.1f} ms, "
        f"round trip p50 {statistics.median(round_trips) if round_trips else float('nan'):.2f} ms p99 {percentile(round_trips, 0.99):.2f} ms, "
        f"{sessions / wall:.1f} sessions/s, pods used {sorted(pods)}"
    )
    if failures:
        print(f"{'':>12}failed checks: {dict(failures)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--polls", type=int, default=10)
    parser.add_argument("--backends", type=int, default=2)
    args = parser.parse_args()
    lab = Lab(Path(tempfile.mkdtemp(prefix="socketio-load-")), backends=args.backends).start()
    try:
        for setup in ("fixed", "rr_upgrade", "incident"):
            run(lab, setup, args.sessions, args.polls)
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
