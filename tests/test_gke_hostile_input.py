"""The rule engine on hostile input: every field of staging's rendered Gateway-side objects and its BackendConfig
set to a value of the wrong type or out of any range (None, text, a list, a mapping, nan, inf, -1, 1e300, true)
never raises; what is wrong comes back as findings, never as a traceback from inside a rule."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from coditect import gke
from coditect.gke.manifest import as_number, format_number
from tests.conftest import ROOT

KINDS = ("Gateway", "HTTPRoute", "GCPBackendPolicy", "HealthCheckPolicy", "GCPGatewayPolicy", "BackendConfig")
HOSTILE: tuple[Any, ...] = (None, "abc", [], {}, float("nan"), float("inf"), -1, 1e300, True)
CONTEXT = gke.Context(min_session_sec=3_600, gateway_bundle="v1.3.0")
DOCUMENTS = [d for d in yaml.safe_load_all((ROOT / "rendered" / "staging" / "kubernetes.yaml").read_text()) if d]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _paths(value, (*path, key))


TARGETS = [(i, p) for i, d in enumerate(DOCUMENTS) if d.get("kind") in KINDS for p in _paths(d) if p[0] != "apiVersion"]


def test_the_golden_has_every_kind_fuzzed() -> None:
    assert {DOCUMENTS[i]["kind"] for i, _ in TARGETS} == set(KINDS) and len(TARGETS) > 100


@settings(max_examples=200, deadline=None)
@given(target=st.sampled_from(TARGETS), value=st.sampled_from(HOSTILE))
def test_no_hostile_field_makes_a_rule_raise(target: tuple[int, tuple[Any, ...]], value: Any) -> None:
    index, path = target
    manifests = copy.deepcopy(DOCUMENTS)
    node = manifests[index]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    gke.evaluate(manifests, CONTEXT)  # findings are fine; an exception is the defect


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 10**400, True, "1", None])
def test_as_number_refuses_what_is_no_finite_number(value: Any) -> None:
    assert as_number(value) is None


def test_as_number_and_format_number_keep_finite_numbers() -> None:
    assert as_number(3) == 3.0 and as_number(-1.5) == -1.5 and as_number(1e300) == 1e300
    assert format_number(86400.0) == "86400" and format_number(0.5) == "0.5" and format_number(math.inf) == "inf"


@pytest.mark.parametrize(
    "kind, path, value, rule",
    [
        ("BackendConfig", ("spec", "connectionDraining", "drainingTimeoutSec"), float("inf"), None),
        ("GCPBackendPolicy", ("spec", "default", "logging", "sampleRate"), float("nan"), "gcpbackendpolicy-logging"),
        ("HealthCheckPolicy", ("spec", "default", "config", "type"), [], "healthcheckpolicy-config"),
        ("BackendConfig", ("spec", "healthCheck", "checkIntervalSec"), "abc", None),
    ],
)
def test_the_reviewed_crashes_are_findings(kind: str, path: tuple[str, ...], value: Any, rule: str | None) -> None:
    manifests = copy.deepcopy(DOCUMENTS)
    node = next(d for d in manifests if d["kind"] == kind)
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    found = gke.evaluate(manifests, CONTEXT)
    assert found, (kind, path, value)  # something names the bad value
    if rule is not None:
        assert rule in {f.rule for f in found}
