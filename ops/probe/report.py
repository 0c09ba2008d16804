"""From the pod's log to a verdict per probe: expected, observed, and whether they agree.

A must-block probe that never got as far as a connection (its name did not resolve, the script
failed) proves nothing about the block: INCONCLUSIVE, and it fails the run like a WRONG one. Only a
timeout proves a policy block (Calico and Cilium drop denied packets); a refused connection means
the path is open and only the port closed: WRONG.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ops.probe.script import LINE_PREFIX
from ops.probe.table import Expect, Probe

OUTCOMES = {"reached", "blocked", "refused", "unresolved", "error"}
# A refused connection was answered by the destination: nothing in between dropped it.
PATH_OPEN = {"reached", "refused"}


class Verdict(StrEnum):
    AS_EXPECTED = "ok"
    WRONG = "WRONG"
    INCONCLUSIVE = "INCONCLUSIVE"
    NO_RESULT = "NO RESULT"


@dataclass(frozen=True)
class Observation:
    outcome: str  # one of OUTCOMES
    detail: str


@dataclass(frozen=True)
class Result:
    probe: Probe
    observed: Observation | None

    @property
    def verdict(self) -> Verdict:
        if self.observed is None:
            return Verdict.NO_RESULT
        outcome = self.observed.outcome
        if self.probe.expect is Expect.REACHABLE:
            return Verdict.AS_EXPECTED if outcome == "reached" else Verdict.WRONG
        if outcome == "blocked":
            return Verdict.AS_EXPECTED
        return Verdict.WRONG if outcome in PATH_OPEN else Verdict.INCONCLUSIVE


def parse_log(log: str) -> dict[str, Observation]:
    """The probe lines of a pod log by probe name; any other line (or a malformed one) is ignored."""
    found: dict[str, Observation] = {}
    for line in log.splitlines():
        if not line.startswith(LINE_PREFIX):
            continue
        try:
            record = json.loads(line[len(LINE_PREFIX) :])
        except ValueError:
            continue
        if not isinstance(record, Mapping):
            continue
        name, outcome, detail = record.get("name"), record.get("outcome"), record.get("detail")
        if isinstance(name, str) and outcome in OUTCOMES and isinstance(detail, str):
            found[name] = Observation(str(outcome), detail[:200])
    return found


def results(table: Iterable[Probe], log: str) -> list[Result]:
    observed = parse_log(log)
    return [Result(probe, observed.get(probe.name)) for probe in table]


def all_as_expected(found: Iterable[Result]) -> bool:
    return all(r.verdict is Verdict.AS_EXPECTED for r in found)


def text(found: list[Result], heading: str) -> str:
    rows = [
        (r.probe.name, r.probe.shown, r.probe.expect.value, f"{r.observed.outcome} ({r.observed.detail})" if r.observed else "-", r.verdict.value)
        for r in found
    ]
    head = ("PROBE", "TARGET", "EXPECTED", "OBSERVED", "VERDICT")
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines = [heading, "  " + "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    wrong = [r for r in found if r.verdict is not Verdict.AS_EXPECTED]
    lines.append("\nall probes as expected" if not wrong else f"\n{len(wrong)} of {len(found)} probes not as expected:")
    lines += [f"  - {r.probe.name}: expected {r.probe.expect.value}, {_observed(r)}; {r.probe.why}" for r in wrong]
    return "\n".join(lines)


def _observed(result: Result) -> str:
    if result.observed is None:
        return "the pod printed no result for it"
    if result.observed.outcome == "refused" and result.probe.expect is Expect.BLOCKED:
        return (
            f"observed refused ({result.observed.detail}): the path is open, no policy blocks it "
            "(a NetworkPolicy block drops the packets and the connection times out)"
        )
    return f"observed {result.observed.outcome} ({result.observed.detail})"


def as_json(found: list[Result], stack: str, job: str) -> str:
    return json.dumps(
        {
            "stack": stack,
            "job": job,
            "ok": all_as_expected(found),
            "probes": [
                {
                    "name": r.probe.name,
                    "target": r.probe.shown,
                    "expected": r.probe.expect.value,
                    "observed": r.observed.outcome if r.observed else None,
                    "detail": r.observed.detail if r.observed else None,
                    "verdict": r.verdict.value,
                }
                for r in found
            ],
        },
        indent=2,
    )
