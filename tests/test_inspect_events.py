"""Which events and annotations `ops inspect` believes, through the real `kubernetes` client and
google-auth's session against the strict stand-ins: events outlive the fix that answers them,
a recreated Ingress is a new object, and allow-http "false" drops the HTTP annotations."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from livestate.desired import allows_http
from tests import test_inspect as inspect_tests
from tests.standin.harness import Running, golden_desired, running
from tests.standin.world import fixture, healthy_world
from tests.test_inspect import failing, report, use_desired

EVENT_LAST_SEEN = "2026-11-27T10:12:40Z"  # lastTimestamp of the k8s_event_translation_failed fixture


live = inspect_tests.live  # the stack on the healthy stand-ins (a fixture)


def changed_at(world_ingress: dict[str, Any], time: str) -> None:
    """The Ingress updated at `time`, recorded as the apiserver does (a managedFields entry)."""
    world_ingress["metadata"]["managedFields"] = [
        {"manager": "pulumi-kubernetes", "operation": "Apply", "apiVersion": "networking.k8s.io/v1", "time": "2026-11-20T11:02:44Z"},
        {"manager": "pulumi-kubernetes", "operation": "Apply", "apiVersion": "networking.k8s.io/v1", "time": time},
    ]


def test_a_warning_older_than_the_fix_with_gke_converged_is_converged(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    live.world.add("events", fixture("k8s_event_translation_failed"))
    changed_at(live.world.ingress, "2026-11-27T10:20:00Z")
    code, document = report(live, capsys)
    assert code == 0, failing(document)


def test_a_stale_warning_counts_while_the_url_map_misses_the_backend_service(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    world = live.world
    world.add("events", fixture("k8s_event_translation_failed"))
    changed_at(world.ingress, "2026-11-27T10:20:00Z")
    url_map = world.compute[("urlMaps", world.ingress["metadata"]["annotations"]["ingress.kubernetes.io/url-map"])]
    other = url_map["defaultService"].rsplit("/", 1)[0] + "/k8s1-c2a4e1f0-coditect-app-default-http-backend-80-0a1b2c3d"
    url_map["defaultService"] = other
    for matcher in url_map["pathMatchers"]:
        matcher["defaultService"] = other
        for rule in matcher["pathRules"]:
            rule["service"] = other
    code, document = report(live, capsys)
    assert code == 1
    assert "could not find service" in failing(document)["translation and sync errors"]["live"]


def test_a_warning_after_the_last_change_is_diagnosed(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    live.world.add("events", fixture("k8s_event_translation_failed"))
    changed_at(live.world.ingress, "2026-11-27T09:00:00Z")
    code, document = report(live, capsys)
    assert code == 1
    assert "could not find service" in failing(document)["translation and sync errors"]["live"]


def test_a_fresh_event_series_counts_by_its_last_observed_time(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    event = fixture("k8s_event_translation_failed")
    event["series"] = {"count": 40, "lastObservedTime": "2026-11-27T10:40:00.000000Z"}
    live.world.add("events", event)
    changed_at(live.world.ingress, "2026-11-27T10:20:00Z")
    code, document = report(live, capsys)
    assert code == 1 and "translation and sync errors" in failing(document)


def test_the_events_of_a_recreated_ingress_are_not_inherited(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    old = fixture("k8s_event_translation_failed")
    old["involvedObject"]["uid"] = "5b1f0c2e-0000-4d7a-9c3b-1e2d3f4a5b6c"  # the Ingress deleted before this one was created
    old["lastTimestamp"] = "2026-12-01T00:00:00Z"  # newer than the live Ingress: only the uid tells them apart
    live.world.add("events", old)
    code, document = report(live, capsys)
    assert code == 0, failing(document)
    (query,) = [parse_qs(urlsplit(path).query) for api, _, path in live.world.requests if "/events" in path]
    assert f"involvedObject.uid={live.world.ingress['metadata']['uid']}" in query["fieldSelector"][0]


def without_http(world_ingress: dict[str, Any]) -> None:
    """The Ingress as ingress-gce leaves it with allow-http "false": no HTTP proxy or forwarding rule annotation."""
    annotations = world_ingress["metadata"]["annotations"]
    annotations["kubernetes.io/ingress.allow-http"] = "false"
    for key in ("forwarding-rule", "target-proxy", "redirect-url-map"):
        annotations.pop(f"ingress.kubernetes.io/{key}")


def test_allow_http_false_expects_only_the_https_pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use_desired(monkeypatch, dataclasses.replace(golden_desired(), allow_http=False, redirect_to_https=False))
    world = healthy_world()
    without_http(world.ingress)
    with running(world, tmp_path) as standins:
        code, document = report(standins, capsys)
    assert code == 0, failing(document)
    written = next(c for c in document["checks"] if c["metric"] == "load balancer written back")
    assert written["target"] == "5 annotations"


def test_allow_http_false_still_needs_the_https_pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use_desired(monkeypatch, dataclasses.replace(golden_desired(), allow_http=False, redirect_to_https=False))
    world = healthy_world()
    without_http(world.ingress)
    world.ingress["metadata"]["annotations"].pop("ingress.kubernetes.io/https-target-proxy")
    with running(world, tmp_path) as standins:
        code, document = report(standins, capsys)
    assert code == 1
    assert failing(document)["load balancer written back"]["live"] == "absent: https-target-proxy"


def test_http_allowed_expects_the_http_pair(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    live.world.ingress["metadata"]["annotations"].pop("ingress.kubernetes.io/forwarding-rule")
    code, document = report(live, capsys)
    assert code == 1
    assert failing(document)["load balancer written back"]["live"] == "absent: forwarding-rule"


@pytest.mark.parametrize(("value", "allowed"), [(None, True), ("true", True), ("false", False), ("False", False), ("0", False), ("no", True)])
def test_allow_http_is_read_as_ingress_gce_reads_it(value: str | None, allowed: bool) -> None:
    assert allows_http({} if value is None else {"kubernetes.io/ingress.allow-http": value}) is allowed
