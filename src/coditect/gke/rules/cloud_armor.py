"""Cloud Armor security policies (compute.googleapis.com/v1 SecurityPolicy, as pulumi-gcp inputs)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import limits
from .. import policies as policy
from ..manifest import SECURITY_POLICY, Manifest, as_list, as_number, field_at, format_number
from ..model import Problem
from ..registry import resource_rule

KINDS = (SECURITY_POLICY,)
RULES_LANGUAGE = "cloud.google.com/armor/docs/rules-language-reference (only the highest-priority matching rule runs)"


def _rules(manifest: Manifest) -> list[Mapping[str, Any]]:
    return [r for r in as_list(field_at(manifest, "spec", "rules")) if isinstance(r, Mapping)]


def _expression(rule: Mapping[str, Any]) -> str:
    return str(field_at(rule, "match", "expr", "expression") or "")


def is_waf_rule(rule: Mapping[str, Any]) -> bool:
    return str(rule.get("action", "")).startswith("deny") and any(f in _expression(rule) for f in limits.WAF_EXPRESSION_FUNCTIONS)


def lets_through(rule: Mapping[str, Any]) -> bool:
    """The rule allows matching requests: an allow, or a ban/throttle whose conforming traffic is allowed."""
    action = str(rule.get("action", ""))
    if action in limits.ALLOWING_ACTIONS:
        return True
    return action in limits.CONFORM_ALLOWING_ACTIONS and field_at(rule, "rateLimitOptions", "conformAction") == "allow"


@resource_rule(
    "security-policy-waf-first",
    policy.CLOUD_ARMOR_RULES,
    KINDS,
    "No rule that lets requests through has a higher priority (lower number) than a WAF rule.",
    RULES_LANGUAGE,
)
def waf_first(manifest: Manifest) -> Iterator[Problem]:
    rules = _rules(manifest)
    waf = [(as_number(r.get("priority")), r) for r in rules if is_waf_rule(r)]
    waf_priorities = [p for p, _ in waf if p is not None]
    if not waf_priorities:
        return
    first_waf = min(waf_priorities)
    for rule in rules:
        priority = as_number(rule.get("priority"))
        if priority is not None and priority < first_waf and lets_through(rule):
            yield Problem(
                f"rule {format_number(priority)} ({rule.get('action')}) lets matching requests through before the WAF rules "
                f"(first at priority {format_number(first_waf)}); Cloud Armor runs only the highest-priority matching rule, "
                "so those requests skip the WAF.",
                f"give it a priority number above {format_number(max(waf_priorities))} (after every WAF rule).",
                subject=f"rules[priority={format_number(priority)}]",
            )


@resource_rule(
    "security-policy-rule-description",
    policy.CLOUD_ARMOR_RULES,
    KINDS,
    f"Every rule description has at most {limits.SECURITY_POLICY_RULE_DESCRIPTION_MAX} characters.",
    "pulumi-gcp SecurityPolicyRuleArgs.description (terraform-provider-google)",
)
def rule_description(manifest: Manifest) -> Iterator[Problem]:
    for rule in _rules(manifest):
        description = rule.get("description")
        if isinstance(description, str) and len(description) > limits.SECURITY_POLICY_RULE_DESCRIPTION_MAX:
            yield Problem(
                f"rule {rule.get('priority')} has a description of {len(description)} characters; the API accepts at most "
                f"{limits.SECURITY_POLICY_RULE_DESCRIPTION_MAX}.",
                "shorten the description.",
                subject=f"rules[priority={rule.get('priority')}].description",
            )
