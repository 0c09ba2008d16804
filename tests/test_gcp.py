"""The Google Cloud side: every resource and every cross-reference derived from the object it names."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from coditect.app import StackRefused
from coditect.gcp import handshake_expression, handshake_path, uptime_alert_condition
from coditect.settings import SettingsError
from ops.program import ProgramRun
from ops.verify import Options, Verifier
from tests.conftest import stack_run

GLOBAL_ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
UPTIME = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig"
ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"
LOG_METRIC = "gcp:logging/metric:Metric"
RunWith = Callable[..., ProgramRun]
RunComponents = Callable[..., ProgramRun]
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
CERTIFICATE = "kubernetes:networking.gke.io/v1:ManagedCertificate"
FRONTEND = "kubernetes:networking.gke.io/v1beta1:FrontendConfig"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
BACKEND_CONFIG = "kubernetes:cloud.google.com/v1:BackendConfig"


def ingress_annotations(run: ProgramRun) -> dict[str, str]:
    return run.one(INGRESS).inputs["metadata"]["annotations"]


def test_static_ip_name_in_the_ingress_is_the_address_name(prod: ProgramRun) -> None:
    address = prod.one(GLOBAL_ADDRESS).inputs
    assert ingress_annotations(prod)["kubernetes.io/ingress.global-static-ip-name"] == address["name"] == "coditect-prod-ip"
    assert address["addressType"] == "EXTERNAL"


def test_tls_certificate_frontend_config_and_ssl_policy_are_wired(prod: ProgramRun) -> None:
    certificate, frontend = prod.one(CERTIFICATE).inputs, prod.one(FRONTEND).inputs
    ssl_policy = prod.one(SSL_POLICY).inputs
    ingress = prod.one(INGRESS).inputs
    assert certificate["spec"]["domains"] == [rule["host"] for rule in ingress["spec"]["rules"]] == ["coditect.ai"]
    assert ingress_annotations(prod)["networking.gke.io/managed-certificates"] == certificate["metadata"]["name"]
    assert ingress_annotations(prod)["networking.gke.io/v1beta1.FrontendConfig"] == frontend["metadata"]["name"]
    assert certificate["metadata"]["namespace"] == frontend["metadata"]["namespace"] == ingress["metadata"]["namespace"]
    assert frontend["spec"]["sslPolicy"] == ssl_policy["name"]
    assert frontend["spec"]["redirectToHttps"] == {"enabled": True, "responseCodeName": "MOVED_PERMANENTLY_DEFAULT"}
    assert (ssl_policy["minTlsVersion"], ssl_policy["profile"]) == ("TLS_1_2", "MODERN")
    assert ingress_annotations(prod)["kubernetes.io/ingress.allow-http"] == "true", "the HTTPS redirect lives on the HTTP frontend"


def test_backend_config_names_the_cloud_armor_policy(prod: ProgramRun) -> None:
    policy = prod.one(SECURITY_POLICY).inputs
    assert prod.one(BACKEND_CONFIG).inputs["spec"]["securityPolicy"] == {"name": policy["name"]} == {"name": "coditect-prod-armor"}


def _rules(run: ProgramRun) -> list[dict[str, Any]]:
    return run.one(SECURITY_POLICY).inputs["rules"]


def test_cloud_armor_waf_rate_limit_and_default_allow(prod: ProgramRun) -> None:
    rules = {rule["priority"]: rule for rule in _rules(prod)}
    waf = [r for r in rules.values() if "evaluatePreconfiguredWaf" in r["match"].get("expr", {}).get("expression", "")]
    assert {r["match"]["expr"]["expression"].split("'")[1] for r in waf} == {"sqli-v33-stable", "xss-v33-stable", "lfi-v33-stable", "rce-v33-stable"}
    assert all(r["action"] == "deny(403)" and r["preview"] is False for r in waf)
    limit = rules[2000]
    assert max(r["priority"] for r in waf) < limit["priority"], "the WAF runs before anything that lets requests through"
    assert all(len(r.get("description", "")) <= 64 for r in rules.values())
    assert limit["match"]["expr"]["expression"] == handshake_expression("/theia/socket.io/")
    assert "!request.query.contains('sid=')" in limit["match"]["expr"]["expression"], "only handshakes, never a session's requests"
    assert limit["rateLimitOptions"]["rateLimitThreshold"] == {"count": 120, "intervalSec": 60}
    assert limit["rateLimitOptions"]["enforceOnKey"] == "IP" and limit["rateLimitOptions"]["exceedAction"] == "deny(429)"
    default = rules[2147483647]
    assert default["action"] == "allow" and default["match"]["config"]["srcIpRanges"] == ["*"]


def test_staging_runs_cloud_armor_in_preview() -> None:
    rules = _rules(stack_run("staging"))
    assert all(r["preview"] is True for r in rules if r["priority"] != 2147483647)


def test_uptime_check_probes_the_path_nginx_and_verify_serve(prod: ProgramRun) -> None:
    uptime = prod.one(UPTIME).inputs
    check = uptime["httpCheck"]
    assert check["path"] == handshake_path("/theia/socket.io/") == "/theia/socket.io/?EIO=4&transport=polling"
    site = prod.one("kubernetes:core/v1:ConfigMap", "nginx-config").inputs["data"]["default.conf"]
    assert f"location {check['path'].split('?')[0]} {{" in site
    verifier = Verifier(Options(f"https://{uptime['monitoredResource']['labels']['host']}/theia/socket.io/"))
    assert verifier.url("polling").startswith(f"https://coditect.ai{check['path']}&t=")
    assert (check["port"], check["useSsl"], check["validateSsl"], check["requestMethod"]) == (443, True, True, "GET")
    assert check["acceptedResponseStatusCodes"] == [{"statusValue": 200}]
    assert uptime["contentMatchers"] == [{"content": '"upgrades":["websocket"]', "matcher": "CONTAINS_STRING"}]
    assert uptime["period"] == "300s" and uptime["monitoredResource"]["type"] == "uptime_url"
    assert prod.exports["uptimeCheckPath"] == check["path"]


@pytest.mark.parametrize(
    ("period", "failed_periods", "regions", "threshold", "duration"),
    [(300, 3, 2, 1, 600), (300, 1, 2, 1, 0), (60, 5, 1, 0, 240), (900, 2, 3, 2, 900)],
)
def test_alert_condition_arithmetic(period: int, failed_periods: int, regions: int, threshold: int, duration: int) -> None:
    """N consecutive failing periods are N points spanning N - 1 periods; 'at least R regions' is 'count > R - 1'."""
    condition = uptime_alert_condition(period, failed_periods, regions)
    assert (condition.threshold, condition.duration_sec, condition.alignment_sec) == (threshold, duration, period)


def test_alert_fires_after_three_failed_checks_to_the_configured_channels(prod: ProgramRun) -> None:
    alert = prod.one(ALERT).inputs
    condition = alert["conditions"][0]["conditionThreshold"]
    # 3 consecutive 300 s periods in which at least 2 checker regions fail: 600 s of a violating count.
    assert condition["duration"] == "600s" and condition["aggregations"][0]["alignmentPeriod"] == "300s"
    assert (condition["comparison"], condition["thresholdValue"]) == ("COMPARISON_GT", 1)
    assert condition["aggregations"][0]["crossSeriesReducer"] == "REDUCE_COUNT_FALSE"
    assert alert["conditions"][0]["displayName"] == "handshake failing from 2+ regions in 3 consecutive checks"
    assert 'metric.type="monitoring.googleapis.com/uptime_check/check_passed"' in condition["filter"]
    assert 'check_id="<known after deploy: uptime check id>"' in condition["filter"]
    assert alert["notificationChannels"] == ["projects/coditect-prod/notificationChannels/4217706359143520512"]


def test_dashboard_charts_socketio_requests_by_code_and_uptime(prod: ProgramRun) -> None:
    metric = prod.one(LOG_METRIC).inputs
    assert metric["filter"] == 'resource.type="http_load_balancer" AND httpRequest.requestUrl:"/theia/socket.io/"'
    assert metric["labelExtractors"] == {"status": "EXTRACT(httpRequest.status)"}
    dashboard = json.loads(prod.one(DASHBOARD).inputs["dashboardJson"])
    assert "gridLayout" not in dashboard and dashboard["mosaicLayout"]["columns"] == 48
    widgets = [tile["widget"] for tile in dashboard["mosaicLayout"]["tiles"]]
    assert all(w["xyChart"]["dataSets"][0]["targetAxis"] == "Y1" for w in widgets), "stated, or the API's default shows as a diff"
    filters = [w["xyChart"]["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"] for w in widgets]
    assert "resource.type" not in filters[0]["filter"]
    assert f"logging.googleapis.com/user/{metric['name']}" in filters[0]["filter"]
    assert filters[0]["aggregation"]["groupByFields"] == ["metric.label.status"]
    assert "uptime_check/check_passed" in filters[1]["filter"]


def test_dev_runs_without_tls_cloud_armor_or_alerting() -> None:
    dev = stack_run("dev")
    for kind in (SSL_POLICY, SECURITY_POLICY, UPTIME, ALERT, CERTIFICATE, FRONTEND):
        assert dev.of_type(kind) == [], kind
    # Stated, not omitted: GKE detaches a policy only on an empty name and ignores a missing block.
    assert dev.one(BACKEND_CONFIG).inputs["spec"]["securityPolicy"] == {"name": ""}
    assert set(ingress_annotations(dev)) == {"kubernetes.io/ingress.class", "kubernetes.io/ingress.global-static-ip-name"}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("tls", "enabled"), False, "coditect:gcp.tls.enabled: is false; prod requires it"),
        (("tls", "redirectToHttps"), False, "coditect:gcp.tls.redirectToHttps: is false; prod requires it"),
        (("cloudArmor", "enabled"), False, "coditect:gcp.cloudArmor.enabled: is false; prod requires it"),
        (("monitoring", "enabled"), False, "coditect:gcp.monitoring.enabled: is false; prod requires it"),
        (("staticIp", "enabled"), False, "coditect:gcp.staticIp.enabled: is false; prod requires it"),
        (("monitoring", "notificationChannels"), [], "coditect:gcp.monitoring.notificationChannels: is empty"),
    ],
)
def test_prod_refuses_to_drop_a_required_feature(run_with: RunWith, path: tuple[str, str], value: Any, message: str) -> None:
    def edit(raw: dict) -> None:
        raw.setdefault("gcp", {}).setdefault(path[0], {})[path[1]] = value

    with pytest.raises(SettingsError) as raised:
        run_with("prod", edit)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("tls", "message"),
    [
        ({"allowHttp": False}, "coditect:gcp.tls.allowHttp: [frontendconfig-redirect-needs-http] Ingress coditect-dev/coditect-ingress: disables HTTP"),
        ({"enabled": False, "redirectToHttps": False, "allowHttp": False}, "coditect:gcp.tls.allowHttp: is false without TLS"),
        ({"enabled": False}, "coditect:gcp.tls.redirectToHttps: is true without TLS"),
    ],
)
def test_http_and_redirect_rules(run_with: RunWith, tls: dict, message: str) -> None:
    def edit(raw: dict) -> None:
        raw["gcp"] = {**raw.get("gcp", {}), "tls": tls}

    with pytest.raises(pulumi.RunError) as raised:  # a settings error, or the GKE rules' refusal under the setting's key
        run_with("dev", edit)
    assert message in str(raised.value)


def test_https_only_without_redirect_is_allowed(run_with: RunWith) -> None:
    def edit(raw: dict) -> None:
        raw["gcp"] = {**raw.get("gcp", {}), "tls": {"allowHttp": False, "redirectToHttps": False}}
        raw["frontDoors"] = ["ingress"]  # the Gateway always redirects (a refused combination: tests/test_gateway_settings.py)

    run = run_with("staging", edit)
    assert ingress_annotations(run)["kubernetes.io/ingress.allow-http"] == "false"
    assert run.one(FRONTEND).inputs["spec"]["redirectToHttps"]["enabled"] is False


def test_bad_notification_channel_is_named() -> None:
    from coditect.settings import parse_settings
    from tests.conftest import stack_settings_raw

    raw = stack_settings_raw("prod")
    raw["gcp"]["monitoring"]["notificationChannels"] = ["oncall@example.com"]
    with pytest.raises(SettingsError, match=r"coditect:gcp.monitoring.notificationChannels\[0\]: .*'oncall@example.com' is not projects/"):
        parse_settings(raw, "prod")


# --- what a real `pulumi up` would get wrong without these (sources in src/coditect/gke/limits.py) ----------


def test_turning_cloud_armor_off_detaches_first_and_deletes_in_a_second_step(run_with: RunWith) -> None:
    def detach(raw: dict) -> None:
        raw["gcp"]["cloudArmor"] = {"enabled": False}

    detached = run_with("staging", detach)
    assert detached.one(BACKEND_CONFIG).inputs["spec"]["securityPolicy"] == {"name": ""}
    assert detached.of_type(SECURITY_POLICY), "kept while GKE detaches it: Compute refuses to delete a policy in use"
    assert any("keepDetachedPolicy" in message and "detached" in message for message in detached.messages)

    def delete(raw: dict) -> None:
        raw["gcp"]["cloudArmor"] = {"enabled": False, "keepDetachedPolicy": False}

    deleted = run_with("staging", delete)
    assert deleted.of_type(SECURITY_POLICY) == []
    assert deleted.one(BACKEND_CONFIG).inputs["spec"]["securityPolicy"] == {"name": ""}


def test_request_logging_is_stated_in_every_backend_config(run_with: RunWith) -> None:
    for stack in ("dev", "staging", "prod"):
        assert stack_run(stack).one(BACKEND_CONFIG).inputs["spec"]["logging"] == {"enable": True, "sampleRate": 1.0}, stack

    def sample_half(raw: dict) -> None:
        raw["backendConfig"] = {**raw.get("backendConfig", {}), "logging": {"sampleRate": 0.5}}

    assert run_with("prod", sample_half).one(BACKEND_CONFIG).inputs["spec"]["logging"] == {"enable": True, "sampleRate": 0.5}


def test_request_logs_cannot_be_turned_off_under_monitoring(run_with: RunWith) -> None:
    def no_logs(raw: dict) -> None:
        raw["backendConfig"] = {**raw.get("backendConfig", {}), "logging": {"enable": False}}

    with pytest.raises(SettingsError, match=r"coditect:backendConfig\.logging\.enable: is false while gcp\.monitoring is on"):
        run_with("prod", no_logs)
    assert run_with("dev", no_logs).one(BACKEND_CONFIG).inputs["spec"]["logging"] == {"enable": False}


def test_a_tls_1_3_minimum_needs_the_restricted_profile_under_its_key(run_with: RunWith) -> None:
    """The ssl-policy-tls13-profile rule owns the check; its finding is reported under the setting."""
    with pytest.raises(StackRefused) as raised:
        run_with("prod", lambda raw: raw["gcp"].update({"tls": {"minTlsVersion": "TLS_1_3"}}))
    assert (
        "coditect:gcp.tls.sslPolicyProfile: [ssl-policy-tls13-profile] SslPolicy coditect-prod-ssl-policy: sets minTlsVersion TLS_1_3 "
        "with profile 'MODERN'; Compute accepts TLS 1.3 as the minimum only with profile RESTRICTED"
    ) in str(raised.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda raw: raw.update({"hosts": ["a" * 60 + ".coditect.ai"]}), "is longer than 63 characters, the most a ManagedCertificate domain may have"),
        (
            lambda raw: raw["gcp"].update({"cloudArmor": {"wafRules": ["sqli-v33-stable', {}) || true || evaluatePreconfiguredWaf('xss-v33-stable"]}}),
            "is not a Google preconfigured WAF rule set name such as sqli-v33-stable",
        ),
        (lambda raw: raw["gcp"].update({"cloudArmor": {"wafRules": []}}), "coditect:gcp.cloudArmor.wafRules: is empty with Cloud Armor on"),
    ],
)
def test_api_limits_are_refused_where_the_value_is_chosen(run_with: RunWith, edit: Callable[[dict], None], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        run_with("prod", edit)
    assert message in str(raised.value)


def test_tls_1_3_with_the_restricted_profile_is_accepted(run_with: RunWith) -> None:
    run = run_with("prod", lambda raw: raw["gcp"].update({"tls": {"minTlsVersion": "TLS_1_3", "sslPolicyProfile": "RESTRICTED"}}))
    assert (run.one(SSL_POLICY).inputs["minTlsVersion"], run.one(SSL_POLICY).inputs["profile"]) == ("TLS_1_3", "RESTRICTED")


def test_pod_nginx_keeps_connections_longer_than_the_load_balancer(prod: ProgramRun) -> None:
    site = prod.one("kubernetes:core/v1:ConfigMap", "nginx-config").inputs["data"]["default.conf"]
    assert "keepalive_timeout 620s;" in site, "above the load balancer's fixed 600 s backend keepalive"


def test_service_port_carries_no_app_protocol_gke_ignores(prod: ProgramRun) -> None:
    [port] = prod.one("kubernetes:core/v1:Service").inputs["spec"]["ports"]
    assert "appProtocol" not in port
