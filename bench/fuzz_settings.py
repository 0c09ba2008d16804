"""Fuzz the program's settings entry point: N mutated stack configs through the settings model and the
program under mocks (what `pulumi preview` runs), counting how each ended.

    python bench/fuzz_settings.py [N] [--seed S] [--program-every K]

Every input must end as a pass or as one clear refusal naming a `coditect:` or `gcp:` key (a
SettingsError or a refused stack); anything else is counted as a traceback, and must be 0, as must
the inputs whose settings parse takes over --time-bound seconds. Every other input breaks one
constrained string setting (found by walking the model) and must be refused: "mutants passed" is 0.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402

from coditect.settings import Settings, SettingsError, constrained_settings, parse_settings  # noqa: E402
from ops.program import read_yaml, run_program, stack_config  # noqa: E402

HOSTILE_VALUES: list[Any] = [
    True,
    False,
    None,
    0,
    -1,
    1,
    2**31,
    2**64,
    1.5,
    float("nan"),
    float("inf"),
    "",
    " ",
    "1.10",
    "NOT A REPO@sha256:" + "Z" * 64,
    "kube-system",
    "default",
    "x" * 300,
    "ü",
    "[::1",
    "a" * 64 + ".example.com",
    [],
    {},
    ["sqli-v33-stable') || true || ('"],
    {"unexpected": 1},
    "0.5",
    "-1",
    "1e9",
    "sha256:" + "0" * 64,
    # issue 19 class 9: a final newline, Unicode lookalikes, label values, ranges the API refuses, huge lists
    "coditect.ai\n",
    "sqli-v33-stable\n",
    "r.example/theia:v1\n",
    "r.example/theia:v1é",
    "соditect.ai",
    "1.0-",
    "1" * 64,
    ["coditect.ai\n"],
    ["0.0.0.0/0"],
    ["::/0"],
    ["10.0.0.0/08"],
    [f"h{i}.coditect.ai" for i in range(10_000)],
    ["projects/p/notificationChannels/1\n"],
    "/healthz\n",
    "250m\n",
    "gke_p_l_c\n",
]


def leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in leaves(item, (*path, key))] or [path]
    return [path]


def mutate(raw: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(leaves(raw))
        node = raw
        for key in path[:-1]:
            node = node[key]
        if path:
            node[path[-1]] = rng.choice(HOSTILE_VALUES)
    return raw


# Every constrained string setting, found by walking the model: a setting added later is fuzzed too.
CONSTRAINED = [(key, grammar, is_list) for key, grammar, is_list, _ in constrained_settings(Settings)]
LOOKALIKES = {"a": "а", "c": "с", "e": "е", "o": "о", "i": "і", "0": "０", "1": "١", ".": "。", "-": "‐", "/": "∕"}


def grammar_mutant(raw: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """`raw` with one constrained setting set to its grammar's example made invalid: a trailing or leading
    space or newline, a Unicode lookalike, or one character too many."""
    key, grammar, is_list = rng.choice(CONSTRAINED)
    value = grammar.example
    kind = rng.choice(["suffix", "prefix", "lookalike", "long"])
    spaces = ["\n", "\r\n", " ", "\t", "\u00a0", "\u200b"]
    positions = [i for i, char in enumerate(value) if char in LOOKALIKES]
    if kind == "suffix":
        value += rng.choice(spaces)
    elif kind == "prefix":
        value = rng.choice(spaces) + value
    elif kind == "lookalike" and positions:
        i = rng.choice(positions)
        value = value[:i] + LOOKALIKES[value[i]] + value[i + 1 :]
    else:
        value += "a" * (grammar.max_length - len(value) + 1)
    raw = copy.deepcopy(raw)
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = [value] if is_list else value
    return raw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--program-every", type=int, default=10, help="also run the whole program for every K-th input that parses")
    parser.add_argument("--time-bound", type=float, default=0.5, help="seconds one settings parse may take")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    stacks = ("dev", "staging", "prod")
    bases = {s: {k.split(":", 1)[1]: v for k, v in read_yaml(ROOT / f"Pulumi.{s}.yaml")["config"].items() if k.startswith("coditect:")} for s in stacks}
    counts = {"tried": 0, "clear errors": 0, "passes": 0, "tracebacks": 0, "program runs": 0, "over time bound": 0, "grammar mutants": 0, "mutants passed": 0}
    start = time.perf_counter()
    slowest = 0.0
    for i in range(args.n):
        stack = rng.choice(stacks)
        mutant = i % 2 == 1  # every other input breaks one constrained string setting
        raw = grammar_mutant(bases[stack], rng) if mutant else mutate(bases[stack], rng)
        counts["tried"] += 1
        counts["grammar mutants"] += mutant
        began = time.perf_counter()
        try:
            try:
                parse_settings(raw, stack)
            finally:
                took = time.perf_counter() - began
            if i % args.program_every == 0:
                counts["program runs"] += 1
                config, secrets = stack_config(stack)
                config.update({f"coditect:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()})
                run_program(stack, config=config, secret_keys=secrets)
            counts["passes"] += 1
            if mutant:
                counts["mutants passed"] += 1
                print(f"a broken constrained setting passed: {raw!r}", file=sys.stderr)
        except (SettingsError, pulumi.RunError) as error:
            if "coditect:" in str(error) or "gcp:" in str(error):
                counts["clear errors"] += 1
            else:
                counts["tracebacks"] += 1
                print(f"unclear refusal for {raw!r}: {error}", file=sys.stderr)
        except Exception as error:  # the fuzzer counts what escaped
            counts["tracebacks"] += 1
            print(f"{type(error).__name__} for {raw!r}: {error}", file=sys.stderr)
        if took > args.time_bound:
            counts["over time bound"] += 1
        slowest = max(slowest, took)
    elapsed = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for key, value in counts.items():
        print(f"{key:>14}: {value}")
    print(f"{'wall time':>14}: {elapsed:.1f} s (slowest settings parse {slowest * 1000:.1f} ms)")
    print(f"{'peak memory':>14}: {peak_mib:.0f} MiB")
    return 1 if counts["tracebacks"] or counts["over time bound"] or counts["mutants passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
