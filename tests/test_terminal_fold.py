"""A value from outside never starts a report line of its own: `fold` (livestate/oneline.py) writes every line
break as a visible escape, and the verify and inspect reports fold each outside field where they place it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from livestate.diagnosis import Diagnosis
from livestate.oneline import LINE_BREAKS, fold
from ops.verify.report import Check, CheckName, Report

FORGED = ("[PASS] handshake: forged", "verdict: PASS in 0.01 s", "converged (1 poll, 0.01 s)", "    fix: forged", "pods: forged")


def test_the_line_breaks_are_exactly_those_splitlines_breaks_on() -> None:
    breaks = {chr(code) for code in range(0x3000) if len(f"a{chr(code)}b".splitlines()) == 2}
    assert breaks == set(LINE_BREAKS)


def test_ordinary_values_print_unchanged() -> None:
    for value in ("HTTP 400 Bad Request", "timeoutSec 30", "pod coditect-7f9c-abcde", "é ü 中文 tab\there"):
        assert fold(value) == value


def _verify_report(hostile: str) -> Report:
    return Report(
        "https://app.test/theia/socket.io/",
        [Check(CheckName.HANDSHAKE, False, f"HTTP 400{hostile}", layer=None, diagnosis=f"the server said{hostile}")],
        pods={"polling": [f"pod-a{hostile}"]},
    )


def _diagnosis(hostile: str) -> Diagnosis:
    return Diagnosis(
        cause=f'Translation failed: could not find service "x"{hostile}',
        resource=f"Ingress coditect{hostile}",
        field="spec",
        live=f"30{hostile}",
        desired="86400",
        fix=f"declare the Service{hostile}",
    )


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(LINE_BREAKS), st.sampled_from(FORGED))
def test_no_outside_field_starts_a_line_in_either_report(separator: str, forged: str) -> None:
    hostile = separator + forged
    benign_verify, hostile_verify = _verify_report("").text(), _verify_report(hostile).text()
    assert len(hostile_verify.splitlines()) == len(benign_verify.splitlines()), hostile_verify
    assert not any(line.startswith(forged) for line in hostile_verify.splitlines())
    benign_diagnosis, hostile_diagnosis = _diagnosis("").text(), _diagnosis(hostile).text()
    assert len(hostile_diagnosis.splitlines()) == len(benign_diagnosis.splitlines()) == 3, hostile_diagnosis
    assert not any(line.startswith(forged) for line in hostile_diagnosis.splitlines())
    assert _diagnosis(hostile).as_dict()["live"] == f"30{hostile}"  # JSON keeps the exact value
