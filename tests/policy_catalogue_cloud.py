"""Catalogue cases for the Google Cloud resources in front of the load balancer: Cloud Armor and SSL policies."""

from __future__ import annotations

from typing import Any

from tests.policy_catalogue_base import Case, add, gcp_object


def _waf_rule(priority: int) -> dict[str, Any]:
    return {
        "priority": priority,
        "action": "deny(403)",
        "description": "OWASP preconfigured WAF: sqli-v33-stable",
        "match": {"expr": {"expression": "evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': 1})"}},
    }


CLOUD_CASES: tuple[Case, ...] = (
    Case(
        "WAF bypass: an allow rule for Socket.IO placed before the WAF rules",
        "security-policy-waf-first",
        "rule 900 (allow) lets matching requests through before the WAF rules",
        add(
            "armor",
            gcp_object(
                "SecurityPolicy",
                {
                    "name": "web-armor",
                    "rules": [
                        {"priority": 900, "action": "allow", "match": {"expr": {"expression": "request.path.startsWith('/theia/socket.io/')"}}},
                        _waf_rule(1000),
                    ],
                },
            ),
        ),
    ),
    Case(
        "Cloud Armor rule description longer than the API allows",
        "security-policy-rule-description",
        "has a description of 90 characters; the API accepts at most 64",
        add("armor", gcp_object("SecurityPolicy", {"name": "web-armor", "rules": [{**_waf_rule(1000), "description": "x" * 90}]})),
    ),
    Case(
        "TLS 1.3 minimum on a MODERN SSL policy",
        "ssl-policy-tls13-profile",
        "accepts TLS 1.3 as the minimum only with profile RESTRICTED",
        add("ssl", gcp_object("SslPolicy", {"name": "web-ssl", "profile": "MODERN", "minTlsVersion": "TLS_1_3"})),
    ),
)
