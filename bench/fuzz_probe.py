"""Fuzz `python -m ops probe`: N generated inputs, hostile kubeconfigs and hostile Job API answers.

Each input runs the real command line in this process (`ops.__main__.main`) with the prod stack's golden
render (rendered/prod/kubernetes.yaml; rendering is not what is fuzzed, and takes seconds) and a
kubeconfig that is one of: hostile (malformed YAML, a list or scalar document, random bytes, a valid
document with random values put at random keys, non-base64 or non-PEM CA data, server URLs that do not
parse, a tokenFile that is a FIFO, /dev/zero or a directory, an alias bomb, deep nesting, 20,000 users,
an exec plugin that hangs, floods, fails or answers garbage), or valid against the strict Job stand-in
of tests/standin/jobs.py answering hostilely (403 on a verb, a Job that fails or never finishes, a pod
never scheduled, a log of garbage). Nothing leaves 127.0.0.1; the Job wait loop runs on a clock that
advances by each sleep, so a Job that never finishes costs no wall time.

    python bench/fuzz_probe.py [-n 300] [--seed 1]

Prints inputs tried, clear errors, verdicts, no-access refusals, passes, tracebacks (must be 0), runs
over the time bound (must be 0), wall time and peak memory; exits 1 if either must-be-0 count is not.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import random
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "policy")]

import ops.probe.run as probe_run  # noqa: E402
from livestate import kubeconfig  # noqa: E402
from ops.__main__ import main  # noqa: E402
from ops.errors import EXIT_BUG, EXIT_FAILED, EXIT_NO_ACCESS, EXIT_OK, EXIT_USAGE  # noqa: E402
from ops.probe.script import LINE_PREFIX  # noqa: E402
from ops.probe.table import Expect, parse_peer, probe_table  # noqa: E402
from tests.standin.harness import golden_manifests  # noqa: E402
from tests.standin.jobs import Cluster, serving_jobs  # noqa: E402
from tests.standin.world import CONTEXT  # noqa: E402

PEER = "10.52.1.9:8080"
EXEC_DEADLINE = 1.0  # the plugin deadline for this run (the command's own is 30 s)
SLACK_S = 3.0  # a run may take the plugin deadline plus this
PEM = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUSw==\n-----END CERTIFICATE-----\n"
BAD_SERVERS = [
    "https://[::1",
    "https://host:port",
    "ftp://x",
    "203.0.113.1",
    "https://",
    "https://a b",
    "https://\x1b[2J",
    "",
    "http://:80",
    "https://" + "a" * 5000,
    443,
    None,
    ["https://x"],
]
JUNK: list[Any] = [None, True, 0, -1, 1.5, "", "x", "\x00", "\x1b[31mred", "~nobody/x", [], {}, [1], {"a": 1}, "é" * 50, "9" * 5000]
KEYS = [
    "clusters",
    "users",
    "contexts",
    "current-context",
    "kind",
    "apiVersion",
    "name",
    "cluster",
    "user",
    "context",
    "server",
    "certificate-authority-data",
    "certificate-authority",
    "insecure-skip-tls-verify",
    "tls-server-name",
    "proxy-url",
    "token",
    "tokenFile",
    "exec",
    "command",
    "args",
    "env",
    "apiVersion",
    "client-certificate-data",
    "client-key-data",
    "auth-provider",
]


def contained_log() -> str:
    """What the probe pod of a contained IDE prints (every probe as expected): the run passes."""
    return "\n".join(
        LINE_PREFIX
        + json.dumps(
            {
                "name": p.name,
                "outcome": "blocked" if p.expect is Expect.BLOCKED else "reached",
                "detail": "timed out after 3s" if p.expect is Expect.BLOCKED else "resolves to 34.36.1.1",
            }
        )
        for p in probe_table(parse_peer(PEER))
    )


def document(server: str, user: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": CONTEXT,
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user if user is not None else {"token": "t"}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": "c", "user": "u"}}],
    }


def mutate(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """`value` with one random change somewhere inside: a value replaced, a key added or dropped."""
    if isinstance(value, dict) and value and depth < 6 and rng.random() < 0.7:
        key = rng.choice(list(value))
        value[key] = mutate(rng, value[key], depth + 1)
    elif isinstance(value, list) and value and depth < 6 and rng.random() < 0.7:
        index = rng.randrange(len(value))
        value[index] = mutate(rng, value[index], depth + 1)
    elif isinstance(value, dict) and rng.random() < 0.5:
        value[rng.choice(KEYS)] = rng.choice(JUNK)
    else:
        return rng.choice(JUNK)
    return value


def plugin(workdir: Path, name: str, body: str) -> str:
    script = workdir / f"{name}-{len(list(workdir.iterdir()))}"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return str(script)


def exec_user(command: str) -> dict[str, Any]:
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": command, "interactiveMode": "IfAvailable"}}


def twenty_thousand(server: str) -> str:
    lines = ["apiVersion: v1", "kind: Config", "current-context: ctx-19999", "clusters:", "- name: c", "  cluster:", f"    server: {server}", "users:"]
    for i in range(20_000):
        lines += [f"- name: u-{i}", "  user:", f"    token: tok-{i:08d}-abcdefghijklmnopqrstuvwxyz0123456789"]
    lines.append("contexts:")
    for i in range(20_000):
        lines += [f"- name: ctx-{i}", "  context:", "    cluster: c", f"    user: u-{i}"]
    return "\n".join(lines) + "\n"


def hostile_kubeconfig(rng: random.Random, workdir: Path, server: str) -> tuple[str, bytes | str]:
    """(the kind of case, the kubeconfig's content)."""
    answer = workdir / "answer"
    cases: list[tuple[str, Callable[[], bytes | str]]] = [
        ("random bytes", lambda: bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))),
        ("random YAML text", lambda: "".join(rng.choice("{}[]:,-&*!|>'\"#%@` \n\tab01\x1b") for _ in range(rng.randint(0, 200)))),
        ("list document", lambda: yaml.safe_dump([document(server)])),
        ("scalar document", lambda: rng.choice(["42\n", "just text\n", "~\n", "'quoted'\n"])),
        ("mutated document", lambda: yaml.safe_dump(mutate(rng, document(server)))),
        ("mutated JSON document", lambda: json.dumps(mutate(rng, document(server)))),
        ("bad server URL", lambda: json.dumps(document(rng.choice(BAD_SERVERS)))),  # type: ignore[arg-type]
        ("non-base64 CA", lambda: json.dumps(_with_ca(document(server), rng.choice(["%%%", "not base64!", "YQ", "\x00"])))),
        ("CA that is not PEM", lambda: json.dumps(_with_ca(document(server), base64.b64encode(b"garbage").decode()))),
        ("tokenFile FIFO", lambda: json.dumps(document(server, {"tokenFile": str(workdir / "fifo")}))),
        ("tokenFile /dev/zero", lambda: json.dumps(document(server, {"tokenFile": "/dev/zero"}))),
        ("tokenFile directory", lambda: json.dumps(document(server, {"tokenFile": str(workdir)}))),
        (
            "alias bomb",
            lambda: (
                "\n".join(["a0: &a0 [x, x, x, x, x, x, x, x, x, x]", *[f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]]) + "\n"
            ),
        ),
        ("deep nesting", lambda: "[" * rng.randint(65, 100_000) + "]" * 3),
        ("unknown context", lambda: json.dumps({**document(server), "contexts": [{"name": "gke_p-roject_zone_x", "context": {"cluster": "c"}}]})),
        ("plugin that hangs", lambda: json.dumps(document(server, exec_user(plugin(workdir, "hangs", "sleep 1000\n"))))),
        ("plugin that floods", lambda: json.dumps(document(server, exec_user(plugin(workdir, "floods", "exec yes\n"))))),
        (
            "plugin that fails",
            lambda: json.dumps(document(server, exec_user(plugin(workdir, "gke-gcloud-auth-plugin", "echo 'Reauthentication failed.\x1b[2J' >&2; exit 1\n")))),
        ),
        (
            "plugin answering garbage",
            lambda: (
                answer.write_text(rng.choice(["{", "[]", '{"kind": "ExecCredential"}', "\x1b[2J"])),
                json.dumps(document(server, exec_user(plugin(workdir, "odd", f"cat {answer}\n")))),
            )[1],
        ),
        ("plugin not installed", lambda: json.dumps(document(server, exec_user("no-such-plugin-" + str(rng.randrange(10**6)))))),
    ]
    kind, make = rng.choice(cases)
    return kind, make()


def _with_ca(doc: dict[str, Any], data: str) -> dict[str, Any]:
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = data
    return doc


def hostile_cluster(rng: random.Random) -> tuple[str, Cluster]:
    verb = rng.choice([("create", "jobs"), ("get", "jobs"), ("list", "pods"), ("get", "pods/log"), ("delete", "jobs")])
    return rng.choice(
        [
            ("403 on " + "/".join(verb), Cluster(log="", forbidden={verb})),
            ("Job Failed", Cluster(outcome="Failed", log="")),
            ("Job never finishes", Cluster(reads_until_done=0)),
            ("pod never scheduled", Cluster(reads_until_done=0, unschedulable="0/3 nodes are available\x1b[2J")),
            ("garbage log", Cluster(log="".join(rng.choice('ab \n\x1b{}"<>') for _ in range(rng.randint(0, 4000))))),
            ("token from a plugin", Cluster(log=contained_log())),
            ("contained IDE", Cluster(log=contained_log())),
        ]
    )


def fast_wait(wait_and_read: Any) -> Any:
    """The real wait loop on a clock that advances by each sleep (as tests/test_probe_runs.py does)."""

    def wrapped(cluster: Any, namespace: str, name: str, wait: float, interval: float, _sleep: Any, _clock: Any) -> Any:
        now = [0.0]

        def advance(seconds: float) -> None:
            now[0] += seconds

        return wait_and_read(cluster, namespace, name, wait, interval, advance, lambda: now[0])

    return wrapped


def run(argv: list[str]) -> tuple[str, float, str]:
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["probe", "prod", "--peer", PEER, *argv])
    except BaseException:
        return "traceback", time.monotonic() - start, traceback.format_exc()
    took = time.monotonic() - start
    printed = out.getvalue() + err.getvalue()
    if "Traceback" in printed or code == EXIT_BUG:
        return "traceback", took, printed
    outcome = {EXIT_OK: "pass", EXIT_FAILED: "verdict", EXIT_USAGE: "clear error", EXIT_NO_ACCESS: "no access"}.get(code, f"exit {code}")
    if code == 2 and not (err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1 and err.getvalue()[:-1].isprintable()):
        outcome = "unclear error"
    return outcome, took, printed


def main_fuzz() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=300, help="inputs to try (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    manifests = golden_manifests("prod")
    probe_run.render_stack = lambda _stack, _root: (manifests, CONTEXT)  # type: ignore[assignment]
    probe_run._wait_and_read = fast_wait(probe_run._wait_and_read)
    kubeconfig.EXEC_DEADLINE = EXEC_DEADLINE
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    over_bound: list[str] = []
    findings: list[str] = []
    slowest = (0.0, "")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary) / "work"
        workdir.mkdir()
        os.mkfifo(workdir / "fifo")
        path = Path(temporary) / "kubeconfig"
        for index in range(options.n):
            roll = rng.random()
            cluster = Cluster(log="")
            with serving_jobs(cluster) as server:
                if roll < 0.65:
                    kind, content = hostile_kubeconfig(rng, workdir, server)
                elif roll < 0.67:
                    kind, content = "20,000 users", twenty_thousand(server)
                else:
                    kind, cluster_ = hostile_cluster(rng)
                    cluster.__dict__.update(cluster_.__dict__)  # the served Cluster object stays the handler's
                    user = None
                    if kind == "token from a plugin":
                        answer = workdir / f"token-{index}"
                        answer.write_text(
                            json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {"token": "from-plugin"}})
                        )
                        user = exec_user(plugin(workdir, "good", f"cat {answer}\n"))
                    content = json.dumps(document(server, user))
                kinds[kind] += 1
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    path.write_text(content)
                outcome, took, printed = run(["--kubeconfig", str(path)])
            outcomes[outcome] += 1
            slowest = max(slowest, (took, kind))
            if outcome in ("traceback", "unclear error") or outcome.startswith("exit"):
                findings.append(f"{kind}: {str(content)[:300]!r}\n{printed[-2000:]}")
            if took > EXEC_DEADLINE + SLACK_S:
                over_bound.append(f"{kind}: {took:.2f} s > {EXEC_DEADLINE + SLACK_S:.2f} s")
    wall = time.monotonic() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"inputs tried: {options.n} (seed {options.seed}); {len(kinds)} kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"clear errors (exit 2, one printable line): {outcomes['clear error']}")
    print(f"verdicts (exit 1): {outcomes['verdict']}")
    print(f"no access (exit {EXIT_NO_ACCESS}): {outcomes['no access']}")
    print(f"passes (exit 0): {outcomes['pass']}")
    print(f"tracebacks: {outcomes['traceback']}")
    print(f"unclear errors or other exits: {outcomes['unclear error'] + sum(v for k, v in outcomes.items() if k.startswith('exit'))}")
    print(f"runs over {EXEC_DEADLINE:g} s plugin deadline + {SLACK_S:g} s: {len(over_bound)} (slowest {slowest[0]:.2f} s: {slowest[1]})")
    print(f"wall time: {wall:.1f} s")
    print(f"peak memory (ru_maxrss): {rss_after / 1024:.1f} MiB, {(rss_after - rss_before) / 1024:.1f} MiB above the start")
    for finding in [*findings, *over_bound][:5]:
        print("---\n" + finding)
    return 1 if findings or over_bound else 0


if __name__ == "__main__":
    sys.exit(main_fuzz())
