"""Backend health as the load balancer sees it now (backendServices.getHealth per NEG), not the
ingress.kubernetes.io/backends annotation, which says HEALTHY once any one endpoint is and is rewritten
only once per sync: through google-auth's session, as google-cloud-compute's REST transport reads it, against the strict stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from livestate.compute import ComputeReader
from livestate.model import Unreachable
from tests import test_inspect as inspect_tests
from tests.standin.harness import Running
from tests.standin.servers import ComputeHandler, serving
from tests.standin.world import PROJECT, healthy_world
from tests.test_inspect import failing, report

live = inspect_tests.live  # the stack on the healthy stand-ins (a fixture)


def health(document: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in document["checks"] if c["metric"] == "backend health")


def test_all_endpoints_healthy_passes(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    code, document = report(live, capsys)
    assert code == 0, failing(document)
    assert health(document)["live"] == "HEALTHY (3/3 endpoints)"
    groups = {str(b["group"]) for b in live.world.backend_service["backends"]}
    assert sum(1 for _, method, path in live.world.requests if method == "POST" and path.endswith("/getHealth")) == len(groups)


def test_one_unhealthy_endpoint_is_diagnosed_by_name_although_the_annotation_says_healthy(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    world = live.world
    (statuses,) = [s for s in world.health.values() if len(s) == 2]
    statuses[1]["healthState"] = "UNHEALTHY"  # 10.8.2.17, pod coditect-combined-7d9c8b6f5d-8fj4w
    assert "HEALTHY" in world.ingress["metadata"]["annotations"]["ingress.kubernetes.io/backends"]
    code, document = report(live, capsys)
    assert code == 1
    check = failing(document)["backend health"]
    assert check["live"] == "UNHEALTHY 1/3 endpoints: 10.8.2.17:8080 (pod coditect-combined-7d9c8b6f5d-8fj4w) UNHEALTHY"
    (diagnosis,) = [d for d in document["diagnoses"] if d["resource"] == check["resource"]]
    assert "10.8.2.17:8080 (pod coditect-combined-7d9c8b6f5d-8fj4w)" in diagnosis["cause"] and diagnosis["fix"]


def test_no_endpoint_in_any_neg_is_missing(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    live.world.health.clear()
    code, document = report(live, capsys)
    assert code == 1 and failing(document)["backend health"]["status"] == "missing"


def test_the_standin_serves_gethealth_only_as_the_api_does() -> None:
    """The request body is a ResourceGroupReference naming one of the service's backends; anything else is a 400."""
    world = healthy_world()
    name = world.backend_service_name
    with serving(ComputeHandler, world) as url:
        reader = ComputeReader(PROJECT, url)
        group = str(world.backend_service["backends"][1]["group"])
        assert [e["ipAddress"] for e in reader.group_health(name, group) or []] == ["10.8.3.9"]
        assert reader.group_health("k8s1-no-such-service", group) is None
        with pytest.raises(Unreachable, match="HTTP 400"):
            reader.group_health(name, group + "-other")
