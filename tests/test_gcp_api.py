"""The Google Cloud resources against Google's own API types (discovery documents), offline."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ops import gcp_api
from ops.program import Captured
from ops.project_check import check_all
from tests.conftest import STACKS, copy_project, stack_run

SSL = "gcp:compute/sSLPolicy:SSLPolicy"
ARMOR = "gcp:compute/securityPolicy:SecurityPolicy"
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"


def gcp_resources(stack: str) -> list[Captured]:
    return [r for r in stack_run(stack).resources if r.custom and gcp_api.is_google_cloud(r.type)]


@pytest.mark.parametrize("stack", STACKS)
def test_every_google_cloud_resource_of_every_stack_matches_its_api_type(stack: str) -> None:
    resources = gcp_resources(stack)
    assert resources or stack == "dev", "prod and staging declare Google Cloud resources"
    for resource in resources:
        assert resource.type in gcp_api.API_TYPES, resource.type
        assert gcp_api.validate(resource.type, resource.name, resource.inputs) == [], resource.name


def test_every_type_the_program_declares_is_mapped() -> None:
    declared = {r.type for stack in STACKS for r in gcp_resources(stack)}
    assert declared <= set(gcp_api.API_TYPES)
    assert len(declared) == 11  # 7, and the Gateway's four Certificate Manager types (staging)


def _problems(resource_type: str, inputs: dict[str, Any]) -> list[str]:
    return [f"{p.field}: {p.message}" for p in gcp_api.validate(resource_type, "x", inputs)]


@pytest.mark.parametrize(
    ("resource_type", "inputs", "expected"),
    [
        (SSL, {"name": "ok", "profile": "MODERNE"}, "profile: is 'MODERNE', not one of the API's values: COMPATIBLE, CUSTOM, FIPS_202205, MODERN, RESTRICTED"),
        (SSL, {"name": "ok", "minTlsVersion": "TLS_9"}, "minTlsVersion: is 'TLS_9', not one of the API's values"),
        (SSL, {"name": "ok", "colour": "red"}, "colour: is not a field of SslPolicy"),
        (SSL, {"name": "ok", "id": "1"}, "id: is output only"),
        (SSL, {"name": "Not_A_Name"}, "name: is 'Not_A_Name', which does not match the API's pattern"),
        ("gcp:compute/globalAddress:GlobalAddress", {"addressType": "EXTERNAL"}, "name: is required by compute.addresses.insert"),
        (ARMOR, {"name": "a", "rules": [{"priority": 2**31, "action": "allow"}]}, "rules[0].priority: is 2147483648, outside the API's int32 range"),
        (ARMOR, {"name": "a", "rules": [{"priority": 1, "match": {"expr": {"expresion": "true"}}}]}, "rules[0].match.expr.expresion: is not a field of Expr"),
        (ARMOR, {"name": "a", "rules": {"priority": 1}}, "rules: is dict, the API expects a list"),
        ("gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig", {"period": "5m"}, "period: is '5m', the API expects a duration such as '300s'"),
        ("gcp:monitoring/alertPolicy:AlertPolicy", {"combiner": "XOR"}, "combiner: is 'XOR', not one of the API's values"),
        ("gcp:logging/metric:Metric", {"name": "m", "metricDescriptor": {"metricKind": "SOMETIMES"}}, "metricDescriptor.metricKind: is 'SOMETIMES'"),
        (
            DASHBOARD,
            {"dashboardJson": json.dumps({"gridLayout": {"widgets": [{"xyChart": {"dataSets": [{"targetAxis": "Y3"}]}}]}})},
            "gridLayout.widgets[0].xyChart.dataSets[0].targetAxis: is 'Y3'",
        ),
        (DASHBOARD, {"dashboardJson": "{not json"}, "dashboardJson: is not JSON"),
        ("gcp:storage/bucket:Bucket", {}, ": no Google API type is mapped for this resource type"),
    ],
)
def test_wrong_inputs_are_named_with_the_field(resource_type: str, inputs: dict[str, Any], expected: str) -> None:
    problems = _problems(resource_type, inputs)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("appended", "expected"),
    [
        (
            'gcp.compute.SSLPolicy("extra-ssl", name="extra-ssl", profile="MODERNE")',
            "[gcp-api] SSLPolicy extra-ssl (gcp:compute/sSLPolicy:SSLPolicy): profile: is 'MODERNE', not one of the API's values",
        ),
        (
            'gcp.compute.GlobalAddress("extra-ip", name="extra-ip", address_type="OUTSIDE")',
            "[gcp-api] GlobalAddress extra-ip (gcp:compute/globalAddress:GlobalAddress): addressType: is 'OUTSIDE'",
        ),
        (
            'gcp.storage.Bucket("extra-bucket", name="extra-bucket", location="US")',
            "[gcp-api] Bucket extra-bucket (gcp:storage/bucket:Bucket): (body): no Google API type is mapped",
        ),
    ],
)
def test_a_raw_google_cloud_resource_appended_to_the_program_fails_ops_check(tmp_path: Path, appended: str, expected: str) -> None:
    root = copy_project(tmp_path, extra_program=f"\nimport pulumi_gcp as gcp\n{appended}\n")
    output = io.StringIO()
    assert check_all(output, ["prod"], root) == 1
    assert expected in output.getvalue(), output.getvalue()
