"""The rule registry drives the policy pack, the catalogue tests and docs/rules.md (tests/test_docs.py)."""

from __future__ import annotations

import re

from coditect_policies import POLICIES
from gke import Scope, all_rules, rules_of
from gke import policies as gke_policies
from gke.manifest import CLUSTER_SCOPED_KINDS, FRONTEND_CONFIG, MANAGED_CERTIFICATE
from tests.policy_catalogue import CASES
from tests.test_containment import STACK_FIRING
from tests.test_gke_rules import FIRING

KNOWN_KINDS = {"NetworkPolicy", "ServiceAccount", "RoleBinding", "ClusterRoleBinding","Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Service", "Ingress", "BackendConfig",
               "HorizontalPodAutoscaler", "PodDisruptionBudget", FRONTEND_CONFIG, MANAGED_CERTIFICATE, *CLUSTER_SCOPED_KINDS}


def test_every_rule_is_complete_and_registered_once() -> None:
    rules = all_rules()
    assert len({r.id for r in rules}) == len(rules) == 68
    for rule in rules:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.id), rule.id
        assert rule.summary and rule.source and rule.kinds <= KNOWN_KINDS, rule
        assert rule.policy in gke_policies.ALL, rule


def test_the_pack_publishes_one_policy_per_registry_policy_covering_every_rule_once() -> None:
    assert [(p.name, p.description) for p in POLICIES] == [(p.name, p.description) for p in gke_policies.ALL]
    assert all(rules_of(policy) for policy in gke_policies.ALL), "a policy without rules checks nothing"
    owned = [r.id for policy in gke_policies.ALL for r in rules_of(policy)]
    assert sorted(owned) == sorted(r.id for r in all_rules())
    for policy in gke_policies.ALL:
        assert {r.scope for r in rules_of(policy)} == {policy.scope}


def test_every_rule_fires_in_some_test() -> None:
    """Each rule has a case that fires it: the catalogue (through `ops check`) or the engine's own tests."""
    fired = {case.rule for case in CASES} | {rule for _, _, rule, _ in FIRING} | {rule for rule, _ in STACK_FIRING}
    assert fired - {r.id for r in all_rules()} == set(), "tests name rules the registry does not have"
    assert {r.id for r in all_rules()} - fired == set()


def test_stack_rules_are_the_ones_reading_several_kinds() -> None:
    for rule in all_rules():
        if rule.scope is Scope.RESOURCE:
            assert len({k for k in rule.kinds if k not in {"StatefulSet", "ReplicaSet", "DaemonSet"}}) == 1, rule.id
