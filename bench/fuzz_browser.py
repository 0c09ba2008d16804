"""Fuzz `python -m ops verify URL --browser`: N generated hostile endpoints, the real command line, headless Chromium.

Each input is one endpoint on 127.0.0.1 and one run of `ops.__main__.main(["verify", URL, "--browser", ...])`:
  forge      learns the result server's port from the page's Origin/Referer, posts a generated result there
             itself (no token, a guessed one, random JSON) and 307-redirects every page request to it
  redirect   answers the handshake or the upgrade with 301/302/303/307/308 to another origin, to https, or to the result server
  refuse     a real python-socketio server refusing the connect with generated text full of control characters
  hostile    one of tests/hostile_server.py's servers (hang, trickle, endless body, bombs, malformed packets)
  control    a real python-socketio server (tests/lab_app.py under uvicorn): the browser and verify pass
Nothing leaves 127.0.0.1.

    python bench/fuzz_browser.py [-n 30] [--seed 1]

Prints inputs, clear errors, check verdicts, passes, tracebacks (must be 0), runs over the time bound
(must be 0), raw control characters printed (must be 0), forged results taken (must be 0), wall time
and peak memory; exits 1 if any must-be-0 count is not.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
import traceback
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "policy")]

from ops.__main__ import main  # noqa: E402
from ops.terminal import unsafe  # noqa: E402
from ops.verify.browser import TOKEN_HEADER, chromium_binary  # noqa: E402
from ops.verify.transport import WEBSOCKET_CLOSE_TIMEOUT_S  # noqa: E402
from tests.hostile_server import BEHAVIOURS, GOOD, Behaviour, Connection, HostileServer, Request  # noqa: E402
from tests.lab import free_port, stop, wait_for_port  # noqa: E402
from tests.test_verify_browser_result import GENUINE, refusing_socketio  # noqa: E402

TIMEOUT_S = 2.0
# verify's run ends within one step's deadline once a bound is hit, else its checks are each quick; the browser
# waits at most timeout*3+10 s for the page, then stops Chromium (SIGTERM, 5 s, SIGKILL, 5 s).
BOUND_S = (TIMEOUT_S + WEBSOCKET_CLOSE_TIMEOUT_S + 0.75) * 5 + TIMEOUT_S * 3 + 10 + 10
CONTROLS = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]] + list("\u202a\u202e\u2066\u2069\u200f")
ATTACKS = ["\x1b[2J\x1b[H\x1b[32mbrowser: PASS\x1b[0m", "\x9b2J", "FAIL\r[PASS]", "\u202eSSAP", "\x1b]0;title\x07"]


def hostile_text(rng: random.Random) -> str:
    parts = [rng.choice(ATTACKS) if rng.random() < 0.3 else rng.choice(CONTROLS) if rng.random() < 0.5 else "text" for _ in range(rng.randint(1, 6))]
    return "".join(parts)


def forged_result(rng: random.Random) -> bytes:
    choices: list[Any] = [
        GENUINE | {"calls": 10, "answered": 10, "pods": ["p"] * 10},
        40,
        [],
        "PASS",
        {"connected": "yes"},
        GENUINE | {"answered": 10**40},
        GENUINE | {"events": [{"at": 1, "kind": hostile_text(rng), "detail": hostile_text(rng)}]},
    ]
    body = json.dumps(rng.choice(choices)).encode()
    return body if rng.random() < 0.8 else body[: rng.randint(0, len(body))]


def forging(rng: random.Random, taken: list[str]) -> Behaviour:
    body, token = forged_result(rng), rng.choice(["", "guess", "A" * 43])

    def answer(conn: Connection, request: Request) -> bool:
        sent = urlsplit(request.headers.get("origin") or request.headers.get("referer") or "")
        page = f"{sent.scheme}://{sent.netloc}"
        if sent.netloc.startswith("127.0.0.1:"):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(urllib.request.Request(f"{page}/result", body, {TOKEN_HEADER: token} if token else {}, method="POST"), timeout=2)
                taken.append(f"{page}/result took a forged result")
        conn.respond("", "307 Temporary Redirect", {"Location": f"{page}/result"})
        return False

    return answer


def redirecting(rng: random.Random, other: HostileServer) -> Behaviour:
    status = rng.choice([301, 302, 303, 307, 308])
    location = rng.choice([other.url(), "https://127.0.0.1/socket.io/", other.url().replace("http:", "ws:"), "/moved/socket.io/"])
    at = rng.choice(["handshake", "websocket", "any"])

    def answer(conn: Connection, request: Request) -> bool:
        if at == "any" or (request.is_handshake if at == "handshake" else request.is_websocket):
            conn.respond("", f"{status} Redirect", {"Location": location})
            return False
        return GOOD(conn, request)

    return answer


@contextlib.contextmanager
def control_endpoint() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "BACKEND_ID": "backend-1", "PING_INTERVAL": "1", "PING_TIMEOUT": "5", "SIO_PATH": "theia/socket.io"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.lab_app:app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--ws-ping-interval", "0"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/theia/socket.io/"
    finally:
        stop(process)


def run(url: str) -> tuple[str, float, str]:
    out = io.StringIO()
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(["verify", url, "--browser", "--timeout", f"{TIMEOUT_S:g}", "--polls", "1"])
    except BaseException:
        return "traceback", time.monotonic() - start, traceback.format_exc()
    took, printed = time.monotonic() - start, out.getvalue()
    if "Traceback" in printed or code == 4:
        return "traceback", took, printed
    return {0: "pass", 1: "verdict", 2: "clear error"}.get(code, f"exit {code}"), took, printed


def main_fuzz() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=30, help="endpoints to try (default 30)")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    if chromium_binary() is None:
        print("Chromium is not installed: apt-get install chromium")
        return 1
    rng = random.Random(options.seed)
    kinds: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    findings: list[str] = []
    over: list[str] = []
    taken: list[str] = []
    raw = 0
    start = time.monotonic()
    with contextlib.ExitStack() as stack:
        control = stack.enter_context(control_endpoint())
        other = stack.enter_context(HostileServer(GOOD, lifetime=3600))
        for _ in range(options.n):
            kind = rng.choice(["forge", "forge", "redirect", "refuse", "hostile", "control"])
            kinds[kind] += 1
            with contextlib.ExitStack() as case:
                if kind == "forge":
                    url = case.enter_context(HostileServer(forging(rng, taken))).url()
                elif kind == "redirect":
                    url = case.enter_context(HostileServer(redirecting(rng, other))).url()
                elif kind == "refuse":
                    url = case.enter_context(refusing_socketio(hostile_text(rng)))
                elif kind == "hostile":
                    url = case.enter_context(HostileServer(BEHAVIOURS[rng.choice(sorted(BEHAVIOURS))])).url()
                else:
                    url = control
                outcome, took, printed = run(url)
            outcomes[outcome] += 1
            if kind == "forge" and outcome == "pass":
                taken.append(f"{url}: PASS on a forged result")
            if kind == "control" and outcome != "pass":
                findings.append(f"control endpoint did not pass:\n{printed[-1500:]}")
            if outcome == "traceback" or outcome.startswith("exit"):
                findings.append(f"{kind} {url}\n{printed[-2000:]}")
            if any(unsafe(c) for c in printed):
                raw += 1
                findings.append(f"raw control characters ({kind}): {printed[-500:]!r}")
            if took > BOUND_S:
                over.append(f"{kind} {url}: {took:.1f} s > {BOUND_S:.1f} s")
    wall = time.monotonic() - start
    print(f"inputs tried: {options.n} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}; seed {options.seed})")
    print(f"clear errors (exit 2, one line): {outcomes['clear error']}")
    print(f"check verdicts (exit 1): {outcomes['verdict']}")
    print(f"passes (exit 0): {outcomes['pass']}")
    print(f"tracebacks: {outcomes['traceback']}")
    print(f"runs over {BOUND_S:.1f} s (verify's bound + the page's wait + stopping Chromium): {len(over)}")
    print(f"runs that printed a raw control character: {raw}")
    print(f"forged results taken: {len(taken)}")
    print(f"wall time: {wall:.1f} s")
    print(
        f"peak memory (ru_maxrss of this process; Chromium is a child): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB, "
        f"children {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f} MiB"
    )
    for finding in [*findings, *over, *taken][:5]:
        print("---\n" + finding)
    return 1 if findings or over or taken else 0


if __name__ == "__main__":
    sys.exit(main_fuzz())
