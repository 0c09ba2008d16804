"""Fuzz `python -m ops inspect`'s Google Cloud reads: N generated hostile Compute Engine and Container API answers.

Each input runs the real command line in this process (`ops.__main__.main`) for the prod stack (its
golden render and Pulumi.prod.yaml's cluster declaration) against the strict stand-ins of
tests/standin, through google-auth's session (Compute) and the real google-cloud-container client, with one
answer made hostile. Two classes:

- malformed answer: one Compute resource (a backend service, health check, URL map, proxy, address,
  a getHealth) or the cluster is answered with a mutation of itself (a field replaced by any JSON
  value, cut at any byte, wrapped in a list, an HTML page, bytes that are not UTF-8, deep nesting) or
  with an error status whose body is anything (401, 403, 404, 429, 500, 502);
- hostile server: --compute-endpoint or --container-endpoint is one of tests/hostile_server.py's
  GCP_BEHAVIOURS (hang, trickles, an endless chunked body, gzip and deflate bombs, a body cut short…)
  under a short --timeout.

    python bench/fuzz_inspect_gcp.py [-n 200] [--seed 1]

Prints inputs tried, clear errors (exit 1, or the no-access exit, with one line), verdicts (a report, exit 0 or 1),
tracebacks (must be 0), runs over the time bound (must be 0), wall time and peak memory; exits 1 if
either must-be-0 count is not. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "policy")]

import ops.inspect.run as inspect_run  # noqa: E402
from livestate.desired import StackTarget, with_cluster  # noqa: E402
from ops.__main__ import main  # noqa: E402
from ops.errors import EXIT_FAILED, EXIT_NO_ACCESS  # noqa: E402
from ops.stack_check import settings_for  # noqa: E402
from tests.hostile_server import GCP_BEHAVIOURS, HostileServer, bomb  # noqa: E402
from tests.standin.harness import Running, golden_desired, running  # noqa: E402
from tests.standin.world import CONTEXT, PROJECT, World, healthy_world  # noqa: E402

SLACK_S = 2.0  # the Kubernetes reads before the hostile one, on a loaded 2-core machine
HTTP_LIMIT_S = 10.0  # a malformed answer from the stand-in is answered at once: any run this long hangs somewhere
STATUSES = [401, 403, 404, 429, 500, 502]
JUNK = [
    "",
    "null",
    "0",
    "[]",
    '""',
    "true",
    "{",
    "}",
    "[{}]",
    '{"error": "x"}',
    '{"error": {"message": 5}}',
    '{"error": {"details": [1]}}',
    "<!DOCTYPE html><html><body>Sign in</body></html>",
    "\x1b[2J\x1b[32mPASS",
    '{"kind": "compute#backendService"',
]


def random_json(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(8 if depth < 3 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 2**31, 2**63, -(2**70), 1.5, 1e308])
    if choice == 3:
        return "".join(rng.choice('aZ9-_/.:\x00\x1b\u202e é𝄞"\\') for _ in range(rng.randrange(12)))
    if choice == 4:
        return rng.choice(["HEALTHY", "UNHEALTHY", "RUNNING", "30s", "https://www.googleapis.com/compute/v1/x", ""])
    if choice in (5, 6):
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["name", "backends", "group", "healthState", "x", "enabled", "nodePools"]): random_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def mutation(rng: random.Random, body: dict[str, Any]) -> tuple[int, str, bytes]:
    """(status, Content-Type, body) of an answer that is, or pretends to be, `body`."""
    encoded = json.dumps(body).encode()
    kind = rng.randrange(9)
    if kind == 0:
        return 200, "application/json", json.dumps(body | {rng.choice(sorted(body)): random_json(rng)}).encode()
    if kind == 1:
        return 200, "application/json", encoded[: rng.randrange(len(encoded))]
    if kind == 2:
        return 200, "application/json", json.dumps([body]).encode()
    if kind == 3:
        return 200, "text/html; charset=UTF-8", rng.choice(JUNK).encode()
    if kind == 4:
        return 200, "application/json", encoded.replace(b'"', b'"\xff', 1)
    if kind == 5:
        depth = rng.choice([50, 101, 5000])
        return 200, "application/json", b'{"backends": ' + b"[" * depth + b"]" * depth + b"}"
    if kind == 6:
        return 200, "application/json", json.dumps(random_json(rng)).encode()
    status = rng.choice(STATUSES)
    error = {"error": {"code": status, "message": "\x1b[31mdenied", "errors": [{"reason": "forbidden"}]}} if kind == 7 else random_json(rng)
    return status, "application/json", json.dumps(error).encode()


def targets(world: World) -> list[str]:
    """The request paths of every Google Cloud read a converged inspection makes."""
    paths = [f"/compute/v1/projects/{PROJECT}/global/{collection}/{name}" for collection, name in world.compute]
    paths.append(f"/compute/v1/projects/{PROJECT}/global/backendServices/{world.backend_service_name}/getHealth")
    paths.append("/v1/" + next(iter(world.clusters)))
    return paths


def run(standins: Running, extra: list[str]) -> tuple[str, float, str]:
    """One command line: its outcome, its wall time, what it printed."""
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["inspect", "prod", "--kubeconfig", str(standins.kubeconfig), "--gcp-endpoint", standins.compute_url, *extra])
    except BaseException:  # the fuzz target's finding: a traceback the command's boundary let through
        return "traceback", time.monotonic() - start, traceback.format_exc()
    took = time.monotonic() - start
    printed = out.getvalue() + err.getvalue()
    if "Traceback" in printed:
        return "traceback", took, printed
    if out.getvalue():
        return ("pass" if code == 0 else "verdict"), took, printed
    text = err.getvalue()
    # inspect's two stops: "error: …" on one line (exit 1), "no access: …" and its detail (EXIT_NO_ACCESS)
    one_line = (text.startswith("error: ") and text.count("\n") == 1) or (text.startswith("no access: ") and text.count("\n") == 2)
    clean = all(c.isprintable() or c == "\n" for c in text)  # a server's control characters escaped
    return ("clear error" if code in (EXIT_FAILED, EXIT_NO_ACCESS) and one_line and clean else f"unclear (exit {code})"), took, printed


def main_fuzz() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=200, help="inputs to try (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    target = with_cluster(StackTarget(CONTEXT, PROJECT), settings_for("prod", ROOT)[2])
    desired = golden_desired()
    inspect_run.desired_state = lambda stack, root: (desired, target)  # noqa: ARG005  (the golden render: the program's output)
    bomb("gzip"), bomb("deflate")  # compressed before any clock starts
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    over_bound: list[str] = []
    findings: list[str] = []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    names = sorted(GCP_BEHAVIOURS)
    with tempfile.TemporaryDirectory() as tmp, running(healthy_world(), Path(tmp)) as standins, contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(HostileServer(GCP_BEHAVIOURS[name], lifetime=3600)) for name in names}
        # The control, first: the converged world passes (and the clients' first imports, seconds on a loaded
        # machine, are not charged to whichever hostile input comes first).
        control, control_s, printed = run(standins, ["--timeout", "5"])
        if control != "pass":
            print(f"the control run did not pass ({control}, {control_s:.1f} s):\n{printed[-1500:]}")
            return 1
        paths = targets(standins.world)
        bodies = {**{p: standins.world.compute[k] for p, k in zip(paths, standins.world.compute, strict=False)}, paths[-1]: standins.world.cluster}
        for _ in range(options.n):
            standins.world.gcp_raw.clear()
            standins.world.requests.clear()
            if rng.random() < 0.5:
                path = rng.choice(paths)
                kinds["malformed answer"] += 1
                standins.world.gcp_raw[path] = mutation(rng, bodies.get(path, {"kind": "compute#backendServiceGroupHealth", "healthStatus": []}))
                label, extra, limit = f"{path} <- {standins.world.gcp_raw[path]!r:.120}", ["--timeout", "5"], HTTP_LIMIT_S
            else:
                name, api = rng.choice(names), rng.choice(["compute", "container"])
                timeout = rng.choice([0.2, 0.3, 0.5])
                kinds["hostile server"] += 1
                label, extra = f"{api} {name} --timeout {timeout}", [f"--{api}-endpoint", servers[name].url(""), "--timeout", str(timeout)]
                limit = timeout + SLACK_S
            outcome, took, printed = run(standins, extra)
            outcomes[outcome] += 1
            if outcome == "traceback" or outcome.startswith("unclear"):
                findings.append(f"{label}\n{printed[-1500:]}")
            if took > limit:
                over_bound.append(f"{label}: {took:.2f} s > {limit:.2f} s")
    wall = time.monotonic() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    unclear = sum(v for k, v in outcomes.items() if k.startswith("unclear"))
    print(f"inputs tried: {options.n} ({kinds['malformed answer']} malformed answers, {kinds['hostile server']} hostile-server runs; seed {options.seed})")
    print(f"clear errors (exit {EXIT_FAILED} or {EXIT_NO_ACCESS}, one line): {outcomes['clear error']}")
    print(f"verdicts (a report, exit 1): {outcomes['verdict']}")
    print(f"passes (a report, exit 0): {outcomes['pass']}")
    print(f"tracebacks: {outcomes['traceback']}")
    print(f"unclear errors: {unclear}")
    print(f"runs over the time bound (--timeout + {SLACK_S} s for a hostile server, {HTTP_LIMIT_S} s for a stand-in answer): {len(over_bound)}")
    print(f"wall time: {wall:.1f} s")
    print(
        f"peak memory (ru_maxrss, stand-ins and hostile servers included): {rss_after / 1024:.1f} MiB, {(rss_after - rss_before) / 1024:.1f} MiB above the start"
    )
    for finding in [*findings, *over_bound][:5]:
        print("---\n" + finding)
    return 1 if findings or over_bound or outcomes["traceback"] else 0


if __name__ == "__main__":
    sys.exit(main_fuzz())
