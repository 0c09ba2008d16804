"""The Google Cloud pieces around the Ingress, derived from the same settings as the app.

- ``StaticIp``: a global address whose *name* goes into the Ingress annotation.
- ``Tls``: ManagedCertificate for the hosts, an SSL policy, and a FrontendConfig with the HTTPS
  redirect and that SSL policy, all referenced from the Ingress.
- ``CloudArmor``: preconfigured WAF rules and a per-client handshake rate limit, attached to the
  backend through the BackendConfig's ``securityPolicy``.
- ``SocketIOMonitoring``: an uptime check of the Socket.IO handshake, an alert after N failed
  checks in a row, a log-based metric of the Socket.IO path by status, and a dashboard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from coditect.base import PART_OF, child_opts, manifest, to_plain, type_token
from coditect.gke import limits
from coditect.gke.manifest import SECURITY_POLICY, SSL_POLICY, gcp_manifest
from coditect.namespace import AppNamespace
from coditect.plan import declare
from coditect.settings import WAF_RULE_DESCRIPTION, CloudArmorSettings, MonitoringSettings, TlsSettings

MANAGED_CERTIFICATE_API = "networking.gke.io/v1"
FRONTEND_CONFIG_API = "networking.gke.io/v1beta1"


def handshake_path(socketio_path: str) -> str:
    """The request a browser's first Socket.IO call makes: what the uptime check probes and
    `ops verify` starts with."""
    return f"{socketio_path}?EIO=4&transport=polling"


class StaticIp(pulumi.ComponentResource):
    name: str
    address: gcp.compute.GlobalAddress

    def __init__(self, resource_name: str, name: str, opts: pulumi.ResourceOptions | None = None, front: str = "the Ingress's") -> None:
        super().__init__(type_token("StaticIp"), resource_name, None, opts)
        self.name = name

        def create() -> None:
            self.address = gcp.compute.GlobalAddress(
                resource_name,
                name=name,
                address_type="EXTERNAL",
                ip_version="IPV4",
                description=f"coditect: {front} load balancer IP (DNS points here)",
                opts=child_opts(self, protect=True),  # DNS depends on it: never replace by accident
            )
            self.register_outputs({"name": name, "address": self.address.address})

        declare(f"GlobalAddress {name}", [], create)

    def ingress_annotations(self) -> dict[str, str]:
        return {limits.GLOBAL_STATIC_IP_ANNOTATION: self.name}


class Tls(pulumi.ComponentResource):
    """Managed certificate, SSL policy and FrontendConfig (HTTPS redirect) for the Ingress."""

    namespace: AppNamespace
    certificate_name: str
    frontend_config_name: str
    ssl_policy: gcp.compute.SSLPolicy

    def __init__(
        self,
        resource_name: str,
        namespace: AppNamespace,
        prefix: str,
        hosts: tuple[str, ...],
        settings: TlsSettings,
        opts: pulumi.ResourceOptions | None = None,
        ingress: bool = True,
    ) -> None:
        super().__init__(type_token("Tls"), resource_name, None, opts)
        self.ingress = ingress  # False (a Gateway-only stack): the SSL policy alone, no ManagedCertificate or FrontendConfig
        self.namespace = namespace
        self.settings = settings
        self.hosts = hosts
        self.certificate_name = f"{prefix}-certificate"
        self.frontend_config_name = f"{prefix}-frontend"
        self.ssl_policy_name = f"{prefix}-ssl-policy"
        cert_meta = {"name": self.certificate_name, "namespace": namespace.name, "labels": dict(PART_OF)}
        cert_spec = {"domains": list(hosts)}
        self.certificate_manifest = manifest(MANAGED_CERTIFICATE_API, "ManagedCertificate", cert_meta, cert_spec)
        frontend_meta = {"name": self.frontend_config_name, "namespace": namespace.name, "labels": dict(PART_OF)}
        frontend_spec = {
            "sslPolicy": self.ssl_policy_name,
            "redirectToHttps": {"enabled": settings.redirect_to_https, "responseCodeName": "MOVED_PERMANENTLY_DEFAULT"},
        }
        self.frontend_manifest = manifest(FRONTEND_CONFIG_API, "FrontendConfig", frontend_meta, frontend_spec)

        ssl_policy = gcp_manifest(SSL_POLICY, {"name": self.ssl_policy_name, "profile": settings.ssl_policy_profile, "minTlsVersion": settings.min_tls_version})

        def create() -> None:
            self.ssl_policy = gcp.compute.SSLPolicy(
                f"{resource_name}-ssl-policy",
                name=self.ssl_policy_name,
                profile=settings.ssl_policy_profile,
                min_tls_version=settings.min_tls_version,
                opts=child_opts(self),
            )
            if not ingress:
                self.register_outputs({"sslPolicy": self.ssl_policy_name})
                return
            self.certificate = k8s.apiextensions.CustomResource(
                f"{resource_name}-certificate",
                api_version=MANAGED_CERTIFICATE_API,
                kind="ManagedCertificate",
                metadata=cert_meta,
                spec=cert_spec,
                opts=child_opts(self, [namespace]),
            )
            self.frontend_config = k8s.apiextensions.CustomResource(
                f"{resource_name}-frontend",
                api_version=FRONTEND_CONFIG_API,
                kind="FrontendConfig",
                metadata=frontend_meta,
                spec=frontend_spec,
                opts=child_opts(self, [namespace, self.ssl_policy]),
            )
            self.register_outputs({"certificate": self.certificate_name, "frontendConfig": self.frontend_config_name})

        declare(f"Tls {prefix}", [*self.manifests(), ssl_policy], create)

    def ingress_annotations(self) -> dict[str, str]:
        return {
            limits.MANAGED_CERTIFICATES_ANNOTATION: self.certificate_name,
            limits.FRONTEND_CONFIG_ANNOTATION: self.frontend_config_name,
            limits.ALLOW_HTTP_ANNOTATION: "true" if self.settings.allow_http else "false",
        }

    def manifests(self) -> list[dict]:
        return [self.certificate_manifest, self.frontend_manifest] if self.ingress else []


# Cloud Armor runs only the highest-priority matching rule: the WAF rules come first, and the
# handshake rate limit (whose conforming requests are allowed) after them, so nothing skips the WAF.
WAF_FIRST_PRIORITY = 1000
HANDSHAKE_LIMIT_PRIORITY = 2000
HANDSHAKE_LIMIT_DESCRIPTION = "Socket.IO handshakes per client IP (polling GET, no sid)"


class CloudArmor(pulumi.ComponentResource):
    """Cloud Armor policy for the Socket.IO backend: OWASP WAF rule sets, then a per-IP rate limit on
    Socket.IO handshakes, then the default allow."""

    name: str
    policy: gcp.compute.SecurityPolicy

    def __init__(self, resource_name: str, name: str, socketio_path: str, settings: CloudArmorSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("CloudArmor"), resource_name, None, opts)
        self.name = name
        preview = settings.mode == "preview"
        rules = [
            gcp.compute.SecurityPolicyRuleArgs(
                priority=WAF_FIRST_PRIORITY + i,
                action="deny(403)",
                preview=preview,
                description=WAF_RULE_DESCRIPTION.format(waf),
                match=gcp.compute.SecurityPolicyRuleMatchArgs(
                    expr=gcp.compute.SecurityPolicyRuleMatchExprArgs(expression=f"evaluatePreconfiguredWaf('{waf}', {{'sensitivity': 1}})")
                ),
            )
            for i, waf in enumerate(settings.waf_rules)
        ]
        rules.append(
            gcp.compute.SecurityPolicyRuleArgs(
                priority=HANDSHAKE_LIMIT_PRIORITY,
                action="rate_based_ban",
                preview=preview,
                description=HANDSHAKE_LIMIT_DESCRIPTION,
                match=gcp.compute.SecurityPolicyRuleMatchArgs(expr=gcp.compute.SecurityPolicyRuleMatchExprArgs(expression=handshake_expression(socketio_path))),
                rate_limit_options=gcp.compute.SecurityPolicyRuleRateLimitOptionsArgs(
                    conform_action="allow",
                    exceed_action="deny(429)",
                    enforce_on_key="IP",
                    rate_limit_threshold=gcp.compute.SecurityPolicyRuleRateLimitOptionsRateLimitThresholdArgs(
                        count=settings.rate_limit.handshakes_per_minute, interval_sec=60
                    ),
                    ban_duration_sec=settings.rate_limit.ban_duration_sec,
                ),
            )
        )
        rules.append(
            gcp.compute.SecurityPolicyRuleArgs(
                priority=limits.DEFAULT_RULE_PRIORITY,
                action="allow",
                description="default: allow",
                match=gcp.compute.SecurityPolicyRuleMatchArgs(
                    versioned_expr="SRC_IPS_V1", config=gcp.compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"])
                ),
            )
        )
        description = f"coditect Socket.IO backend ({settings.mode})"
        # What the rules judge: the inputs as the provider receives them.
        self.manifest = gcp_manifest(SECURITY_POLICY, {"name": name, "description": description, "rules": [to_plain(rule) for rule in rules]})

        def create() -> None:
            self.policy = gcp.compute.SecurityPolicy(resource_name, name=name, description=description, rules=rules, opts=child_opts(self))
            self.register_outputs({"name": name})

        declare(f"SecurityPolicy {name}", [self.manifest], create)


def handshake_expression(socketio_path: str) -> str:
    return f"request.path.startsWith('{socketio_path}') && request.query.contains('transport=polling') && !request.query.contains('sid=')"


class SocketIOMonitoring(pulumi.ComponentResource):
    """Uptime check of the handshake a browser makes, alerting and a dashboard."""

    def __init__(
        self, resource_name: str, host: str, socketio_path: str, settings: MonitoringSettings, prefix: str, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(type_token("SocketIOMonitoring"), resource_name, None, opts)
        self.path = handshake_path(socketio_path)

        def create() -> None:
            self.uptime = gcp.monitoring.UptimeCheckConfig(
                f"{resource_name}-uptime",
                display_name=f"{prefix} Socket.IO handshake https://{host}{socketio_path}",
                period=f"{settings.period_sec}s",
                timeout="10s",
                monitored_resource=gcp.monitoring.UptimeCheckConfigMonitoredResourceArgs(type="uptime_url", labels={"host": host}),
                http_check=gcp.monitoring.UptimeCheckConfigHttpCheckArgs(
                    path=self.path,
                    port=443,
                    use_ssl=True,
                    validate_ssl=True,
                    request_method="GET",
                    accepted_response_status_codes=[gcp.monitoring.UptimeCheckConfigHttpCheckAcceptedResponseStatusCodeArgs(status_value=200)],
                ),
                # The open packet of a server that can upgrade; an HTML page or an error never matches.
                content_matchers=[gcp.monitoring.UptimeCheckConfigContentMatcherArgs(content='"upgrades":["websocket"]', matcher="CONTAINS_STRING")],
                opts=child_opts(self),
            )
            condition = uptime_alert_condition(settings.period_sec, settings.failures_before_alert, settings.failing_regions)
            self.alert = gcp.monitoring.AlertPolicy(
                f"{resource_name}-alert",
                display_name=f"{prefix} Socket.IO handshake failing",
                combiner="OR",
                conditions=[
                    gcp.monitoring.AlertPolicyConditionArgs(
                        display_name=condition.display_name,
                        condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                            filter=self.uptime.uptime_check_id.apply(
                                lambda check_id: (
                                    'metric.type="monitoring.googleapis.com/uptime_check/check_passed" '
                                    f'AND metric.label.check_id="{check_id}" AND resource.type="uptime_url"'
                                )
                            ),
                            comparison="COMPARISON_GT",
                            threshold_value=condition.threshold,
                            duration=f"{condition.duration_sec}s",
                            aggregations=[
                                gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                                    alignment_period=f"{condition.alignment_sec}s",
                                    per_series_aligner="ALIGN_NEXT_OLDER",
                                    cross_series_reducer="REDUCE_COUNT_FALSE",
                                    group_by_fields=["resource.label.*"],
                                )
                            ],
                            trigger=gcp.monitoring.AlertPolicyConditionConditionThresholdTriggerArgs(count=1),
                        ),
                    )
                ],
                notification_channels=list(settings.notification_channels),
                documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
                    mime_type="text/markdown",
                    content=f"Run `python -m ops verify https://{host}{socketio_path}` to see which layer fails.",
                ),
                opts=child_opts(self, [self.uptime]),
            )
            self.metric_name = f"{prefix}-socketio-requests"
            self.metric = gcp.logging.Metric(
                f"{resource_name}-requests",
                name=self.metric_name,
                description="Load balancer requests to the Socket.IO path, by response code",
                filter=f'resource.type="http_load_balancer" AND httpRequest.requestUrl:"{socketio_path}"',
                metric_descriptor=gcp.logging.MetricMetricDescriptorArgs(
                    metric_kind="DELTA",
                    value_type="INT64",
                    labels=[gcp.logging.MetricMetricDescriptorLabelArgs(key="status", value_type="STRING", description="HTTP status")],
                ),
                label_extractors={"status": "EXTRACT(httpRequest.status)"},
                opts=child_opts(self),
            )
            self.dashboard = gcp.monitoring.Dashboard(
                f"{resource_name}-dashboard",
                dashboard_json=self.uptime.uptime_check_id.apply(lambda check_id: dashboard_json(prefix, self.metric_name, check_id)),
                opts=child_opts(self, [self.metric, self.uptime]),
            )
            self.register_outputs({"uptimeCheckPath": self.path})

        declare(f"SocketIOMonitoring {prefix}", [], create)


@dataclass(frozen=True)
class AlertCondition:
    """When the uptime alert fires, as Cloud Monitoring evaluates it.

    Each alignment period (the check period) gives one point per host: how many checker regions'
    latest check failed (ALIGN_NEXT_OLDER per region, then REDUCE_COUNT_FALSE across regions). A point
    violates when that count is above ``threshold`` (COMPARISON_GT), i.e. at least ``failing_regions``
    regions failed. The condition must hold for ``duration_sec``: N consecutive violating points span
    N - 1 periods, so N failed periods need a duration of (N - 1) periods, and N = 1 alerts on the
    first (AlertPolicy API reference: Aggregation, duration).
    """

    threshold: int
    duration_sec: int
    alignment_sec: int
    display_name: str


def uptime_alert_condition(period_sec: int, failed_periods: int, failing_regions: int) -> AlertCondition:
    return AlertCondition(
        threshold=failing_regions - 1,
        duration_sec=(failed_periods - 1) * period_sec,
        alignment_sec=period_sec,
        display_name=f"handshake failing from {failing_regions}+ regions in {failed_periods} consecutive checks",
    )


# The dashboard in mosaicLayout (gridLayout is superseded) with the values the Dashboards API fills in
# when they are absent stated, so a preview shows no diff on every run (terraform-provider-google
# #7242, #16173: targetAxis "Y1" among them; the API's defaults for plotType, chart mode and axis scale).
DASHBOARD_COLUMNS = 48
TILE_WIDTH, TILE_HEIGHT = 24, 16


def dashboard_json(prefix: str, metric_name: str, check_id: str) -> str:
    def chart(title: str, metric_filter: str, group_by: list[str], reducer: str, aligner: str) -> dict:
        return {
            "title": title,
            "xyChart": {
                "dataSets": [
                    {
                        "timeSeriesQuery": {
                            "timeSeriesFilter": {
                                "filter": metric_filter,
                                "aggregation": {
                                    "alignmentPeriod": "60s",
                                    "perSeriesAligner": aligner,
                                    "crossSeriesReducer": reducer,
                                    "groupByFields": group_by,
                                },
                            }
                        },
                        "plotType": "LINE",
                        "targetAxis": "Y1",
                    }
                ],
                "chartOptions": {"mode": "COLOR"},
                "timeshiftDuration": "0s",
                "yAxis": {"scale": "LINEAR"},
            },
        }

    charts = [
        # Log-based metric of the load balancer's request logs, by response code; no monitored-resource
        # clause: the metric name alone selects it.
        chart(
            "Socket.IO requests by response code",
            f'metric.type="logging.googleapis.com/user/{metric_name}"',
            ["metric.label.status"],
            "REDUCE_SUM",
            "ALIGN_RATE",
        ),
        chart(
            "Handshake uptime check (passed)",
            f'metric.type="monitoring.googleapis.com/uptime_check/check_passed" metric.label.check_id="{check_id}" resource.type="uptime_url"',
            ["resource.label.host"],
            "REDUCE_FRACTION_TRUE",
            "ALIGN_NEXT_OLDER",
        ),
    ]
    tiles = [
        {"xPos": (i % 2) * TILE_WIDTH, "yPos": (i // 2) * TILE_HEIGHT, "width": TILE_WIDTH, "height": TILE_HEIGHT, "widget": widget}
        for i, widget in enumerate(charts)
    ]
    return json.dumps({"displayName": f"{prefix} Socket.IO", "mosaicLayout": {"columns": DASHBOARD_COLUMNS, "tiles": tiles}}, sort_keys=True)
