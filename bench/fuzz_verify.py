"""Fuzz `python -m ops verify`: N generated inputs, hostile arguments and hostile loopback servers.

Each input runs the real command line in this process (`ops.__main__.main`): either arguments built
from hostile pieces (non-finite and out-of-range numbers, wrapped ports, Unicode and unbalanced hosts,
non-ASCII headers) whose URL, when valid, is the loopback control server; or a correct command line
against one of tests/hostile_server.py's servers (trickle, hang, endless body, bombs, malformed
packets, oversized WebSocket frames). Nothing leaves 127.0.0.1: a generated host that is not the
loopback address always carries a character no valid host has.

    python bench/fuzz_verify.py [-n 300] [--seed 1]

Prints inputs tried, clear errors, check verdicts, passes, tracebacks (must be 0), runs over the
time bound (must be 0), wall time and peak memory; exits 1 if either must-be-0 count is not.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import resource
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "policy")]

from ops.__main__ import main  # noqa: E402
from ops.verify.transport import WEBSOCKET_CLOSE_TIMEOUT_S  # noqa: E402
from tests.hostile_server import BEHAVIOURS, GOOD, HostileServer  # noqa: E402

SLACK_S = 0.75
TIMEOUTS = ["nan", "inf", "-inf", "0", "-1", "601", "1e309", "x", "", "0.3", "0.5", " 0.4 "]
HOLDS = ["nan", "inf", "-1", "86401", "1e309", "abc", "", "0", "0.2", "-0"]
POLLS = ["0", "-1", "1001", "1e3", "x", "", "1", "2", "+3", str(10**40), "٣"]
HEADERS = ["X: é", "é: x", "X: a\r\nY: b", ":", "Name:", "X-Ok: fine", "X\x00: y", "Origin: http://127.0.0.1", "A" * 9000 + ": v"]
NAMESPACES = ["/", "/admin", "admin", "/a,b", "/\x00", "/" + "n" * 300]
SCHEMES = ["http", "https", "ws", "wss", "ftp", "", "HTTP", "javascript"]
BAD_HOSTS = ["[::1", "::1]", "bücher.de", "-a.b", "a..b", "999.1.1.1", "a" * 64 + ".com", "[fe80::1%25eth0]", "", "exa mple.com", "[]", "İ.example"]
BAD_PORTS = ["0", "65536", "70000", "-1", "x", "1e3", "٣", "99999999999999999999"]
NOT_IN_A_HOST = "é []%"  # one of these in a random host keeps it from resolving anywhere


def random_text(rng: random.Random, size: int) -> str:
    alphabet = "abcXYZ019-._:/[]@%?#\x00\r\n é€𝄞\u202e"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, size)))


def hostile_url(rng: random.Random, good_port: int) -> str:
    """A URL that must be refused, or (one in four) the control server's with hostile parts elsewhere."""
    if rng.random() < 0.25:
        return f"{rng.choice(['http', 'ws'])}://127.0.0.1:{good_port}/socket.io/"
    host = rng.choice(BAD_HOSTS) if rng.random() < 0.7 else random_text(rng, 12) + rng.choice(NOT_IN_A_HOST)
    port = rng.choice([*BAD_PORTS, str(good_port)])
    return f"{rng.choice(SCHEMES)}://{host}:{port}/{random_text(rng, 6)}"


def argument_case(rng: random.Random, good_port: int) -> list[str]:
    args = [f"--timeout={rng.choice(TIMEOUTS)}", f"--hold={rng.choice(HOLDS)}", f"--polls={rng.choice(POLLS)}"]
    args += [f"--header={rng.choice(HEADERS)}" for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.3:
        args.append(f"--namespace={rng.choice(NAMESPACES)}")
    if rng.random() < 0.2:
        args.append(f"--source-address={rng.choice(['127.0.0.1', 'nowhere', '::1', '300.1.1.1', ''])}")
    return [*args, "--", hostile_url(rng, good_port)]


def run(argv: list[str]) -> tuple[str, float, str]:
    """One command line: its outcome (clear error, verdict, pass, traceback), its wall time, what it printed."""
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["verify", *argv])
    except BaseException:  # the fuzz target's finding: a traceback (the command's own boundary let it through)
        return "traceback", time.monotonic() - start, traceback.format_exc()
    took = time.monotonic() - start
    printed = out.getvalue() + err.getvalue()
    if "Traceback" in printed:
        return "traceback", took, printed
    outcome = {0: "pass", 1: "verdict", 2: "clear error"}.get(code, f"exit {code}")
    if code == 2 and not (err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1):
        outcome = "unclear error"
    return outcome, took, printed


def main_fuzz() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=300, help="inputs to try (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    names = sorted(BEHAVIOURS)
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    over_bound: list[str] = []
    findings: list[str] = []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(HostileServer(behaviour, lifetime=3600)) for name, behaviour in [*BEHAVIOURS.items(), ("good", GOOD)]}
        good_port = servers["good"].port
        for _ in range(options.n):
            if rng.random() < 0.5:
                kinds["arguments"] += 1
                argv, limit = argument_case(rng, good_port), None
            else:
                kinds["hostile server"] += 1
                name = rng.choice(names)
                timeout = rng.choice([0.2, 0.3, 0.5])
                argv = [f"--timeout={timeout}", f"--polls={rng.randint(1, 3)}", "--", servers[name].url()]
                limit = timeout + WEBSOCKET_CLOSE_TIMEOUT_S + SLACK_S
            outcome, took, printed = run(argv)
            outcomes[outcome] += 1
            if outcome in ("traceback", "unclear error") or outcome.startswith("exit"):
                findings.append(f"{argv!r}\n{printed[-2000:]}")
            if limit is not None and took > limit:
                over_bound.append(f"{argv[-1]} {took:.2f} s > {limit:.2f} s")
    wall = time.monotonic() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"inputs tried: {options.n} ({kinds['arguments']} argument sets, {kinds['hostile server']} hostile-server runs; seed {options.seed})")
    print(f"clear errors (exit 2, one line): {outcomes['clear error']}")
    print(f"check verdicts (exit 1): {outcomes['verdict']}")
    print(f"passes (exit 0): {outcomes['pass']}")
    print(f"tracebacks: {outcomes['traceback']}")
    print(f"unclear errors or other exits: {outcomes['unclear error'] + sum(v for k, v in outcomes.items() if k.startswith('exit'))}")
    print(f"runs over --timeout + {WEBSOCKET_CLOSE_TIMEOUT_S:g} s close + {SLACK_S} s: {len(over_bound)}")
    print(f"wall time: {wall:.1f} s")
    print(f"peak memory (ru_maxrss, hostile servers included): {rss_after / 1024:.1f} MiB, {(rss_after - rss_before) / 1024:.1f} MiB above the start")
    for finding in [*findings, *over_bound][:5]:
        print("---\n" + finding)
    return 1 if findings or over_bound else 0


if __name__ == "__main__":
    sys.exit(main_fuzz())
