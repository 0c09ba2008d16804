"""The rule registry drives the policy pack, the catalogue tests and docs/rules.md (tests/test_docs.py)."""

from __future__ import annotations

import re

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from coditect.gke import Level, Policy, Scope, all_rules, rules_of
from coditect.gke import policies as gke_policies
from coditect.gke.gateway_limits import API_VERSIONS as GATEWAY_API_VERSIONS
from coditect.gke.gateway_limits import SECRET
from coditect.gke.manifest import CLUSTER_SCOPED_KINDS, FRONTEND_CONFIG, MANAGED_CERTIFICATE
from coditect.gke.pack import POLICIES
from tests.policy_catalogue import CASES
from tests.test_containment import STACK_FIRING
from tests.test_gateway_rules import GATEWAY_FIRING
from tests.test_gke_rules import FIRING

GATEWAY_KINDS = {*GATEWAY_API_VERSIONS, SECRET}
KNOWN_KINDS = {
    "NetworkPolicy",
    "ServiceAccount",
    "RoleBinding",
    "ClusterRoleBinding",
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "DaemonSet",
    "Service",
    "Ingress",
    "BackendConfig",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    FRONTEND_CONFIG,
    MANAGED_CERTIFICATE,
    *CLUSTER_SCOPED_KINDS,
    *GATEWAY_KINDS,
}


def test_every_rule_is_complete_and_registered_once() -> None:
    rules = all_rules()
    assert len({r.id for r in rules}) == len(rules) == 94
    for rule in rules:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.id), rule.id
        assert rule.summary and rule.source and rule.kinds <= KNOWN_KINDS, rule
        assert rule.policy in gke_policies.ALL, rule


def test_the_pack_publishes_one_policy_per_registry_policy_covering_every_rule_once() -> None:
    """Three sources that could drift apart: the Policy objects gke/policies.py defines, the policies the
    rule modules register their rules with, and what the pack publishes (name, description, level, kind)."""
    defined = {value for value in vars(gke_policies).values() if isinstance(value, Policy)}
    registered = {r.policy for r in all_rules()}
    assert defined == registered, "every policy gke.policies defines has rules, and every rule's policy is defined there"
    assert len(gke_policies.ALL) == len(defined) and set(gke_policies.ALL) == defined, "coditect.gke.policies.ALL lists each defined policy once"
    published = {p.name: p for p in POLICIES}
    assert len(published) == len(POLICIES) and set(published) == {p.name for p in registered}
    pulumi_level = {Level.MANDATORY: EnforcementLevel.MANDATORY, Level.ADVISORY: EnforcementLevel.ADVISORY}
    kind = {Scope.RESOURCE: ResourceValidationPolicy, Scope.STACK: StackValidationPolicy}
    for policy in registered:
        pack = published[policy.name]
        assert (pack.description, pack.enforcement_level) == (policy.description, pulumi_level[policy.level]), policy.name
        assert isinstance(pack, kind[policy.scope]), f"{policy.name}: a {policy.scope.value} policy published as {type(pack).__name__}"
    owned = [r.id for policy in gke_policies.ALL for r in rules_of(policy)]
    assert sorted(owned) == sorted(r.id for r in all_rules())
    for policy in gke_policies.ALL:
        assert {r.scope for r in rules_of(policy)} == {policy.scope}


def test_every_rule_fires_in_some_test() -> None:
    """Each rule has a case that fires it: the catalogue (through `ops check`) or the engine's own tests."""
    fired = {case.rule for case in CASES} | {rule for _, _, rule, _ in FIRING} | {rule for rule, _ in STACK_FIRING} | {rule for rule, _ in GATEWAY_FIRING}
    assert fired - {r.id for r in all_rules()} == set(), "tests name rules the registry does not have"
    assert {r.id for r in all_rules()} - fired == set()


def test_stack_rules_are_the_ones_reading_several_kinds() -> None:
    for rule in all_rules():
        if rule.scope is Scope.RESOURCE:
            assert len({k for k in rule.kinds if k not in {"StatefulSet", "ReplicaSet", "DaemonSet"}}) == 1, rule.id
