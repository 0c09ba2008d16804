"""Containment of the pods that run their users' code: the reachability evaluator on probe tables and
generated policies, the stacks' egress, sandbox and identity, and the declared cluster preconditions."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coditect import gke
from coditect.gke import policies as gke_policies
from coditect.gke.reachability import Destination, address, allows, selector_matches
from coditect.settings import SettingsError, parse_settings
from ops.program import run_program
from tests.conftest import STACKS, engine_config, stack_run, stack_settings_raw
from tests.policy_catalogue import NS, Manifests, baseline, contained

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
LABELS = {"app": "web"}
KUBE_DNS = Destination(53, "UDP", pod_labels={"k8s-app": "kube-dns"}, namespace_labels={"kubernetes.io/metadata.name": "kube-system"})


def contained_manifests() -> Manifests:
    manifests = copy.deepcopy(baseline())
    contained(manifests)
    return manifests


def policies(manifests: Manifests) -> list[dict[str, Any]]:
    return [m for m in manifests.values() if m["kind"] == "NetworkPolicy"]


# (destination, allowed) for the contained baseline: DNS and the internet on 443, nothing else.
PROBES: list[tuple[Destination, bool]] = [
    (KUBE_DNS, True),
    (Destination(53, "TCP", pod_labels={"k8s-app": "kube-dns"}, namespace_labels={"kubernetes.io/metadata.name": "kube-system"}), True),
    (address("104.16.0.1", 443), True),  # a package registry
    (address("104.16.0.1", 80), False),
    (address("104.16.0.1", 443, "UDP"), False),
    (address("169.254.169.254", 80), False),
    (address("169.254.169.254", 8080), False),
    (address("169.254.169.252", 988), False),
    (address("169.254.169.254", 443), False),  # excepted whatever the port
    (address("10.0.0.5", 10250), False),  # a kubelet
    (address("10.8.0.1", 443), False),  # the cluster's service range
    (address("172.16.0.2", 443), False),
    (address("100.64.0.1", 443), False),
    (Destination(443, pod_labels={"app": "db"}, namespace_labels={"kubernetes.io/metadata.name": "other"}), False),
    (Destination(53, "UDP", pod_labels={"k8s-app": "kube-dns"}, namespace_labels={"kubernetes.io/metadata.name": "other"}), False),
]


@pytest.mark.parametrize(("destination", "expected"), PROBES, ids=[str(d) for d, _ in PROBES])
def test_probe_table_of_the_contained_ide(destination: Destination, expected: bool) -> None:
    assert allows(policies(contained_manifests()), LABELS, NS, destination) is expected


def test_without_any_egress_policy_everything_is_reachable() -> None:
    manifests = copy.deepcopy(baseline())
    assert all(allows(policies(manifests), LABELS, NS, d) for d, _ in PROBES)


def test_a_default_deny_alone_blocks_everything() -> None:
    manifests = contained_manifests()
    del manifests["egress"]
    assert not any(allows(policies(manifests), LABELS, NS, d) for d, _ in PROBES)


CIDRS = st.builds(lambda a, p: ipaddress.ip_network(f"{ipaddress.IPv4Address(a)}/{p}", strict=False), st.integers(0, 2**32 - 1), st.integers(0, 32))
RULES = st.lists(
    st.fixed_dictionaries({"cidr": CIDRS, "excepted": st.lists(CIDRS, max_size=2), "ports": st.lists(st.integers(1, 65535), max_size=2)}), max_size=3
)


def _policy(rules: list[dict[str, Any]]) -> dict[str, Any]:
    egress = []
    for rule in rules:
        excepted = [str(e) for e in rule["excepted"] if e.subnet_of(rule["cidr"]) and e != rule["cidr"]]
        egress.append({"to": [{"ipBlock": {"cidr": str(rule["cidr"]), "except": excepted}}], "ports": [{"port": p, "protocol": "TCP"} for p in rule["ports"]]})
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": NS},
        "spec": {"podSelector": {"matchLabels": LABELS}, "policyTypes": ["Egress"], "egress": egress},
    }


def _naive(rules: list[dict[str, Any]], ip: ipaddress.IPv4Address, port: int) -> bool:
    """The definition, written out: some rule with a matching port and a cidr holding the ip outside its excepts."""
    for rule in rules:
        excepted = [e for e in rule["excepted"] if e.subnet_of(rule["cidr"]) and e != rule["cidr"]]
        if (not rule["ports"] or port in rule["ports"]) and ip in rule["cidr"] and not any(ip in e for e in excepted):
            return True
    return False


@settings(max_examples=150, deadline=None)
@given(rules=RULES, ip=st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address), port=st.integers(1, 65535))
def test_reachability_is_the_definition(rules: list[dict[str, Any]], ip: ipaddress.IPv4Address, port: int) -> None:
    destination = Destination(port, "TCP", ip)
    assert allows([_policy(rules)], LABELS, NS, destination) is _naive(rules, ip, port)


@settings(max_examples=100, deadline=None)
@given(rules=RULES, extra=RULES, ip=st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address), port=st.integers(1, 65535))
def test_adding_rules_never_takes_reachability_away(rules: list[dict[str, Any]], extra: list[dict[str, Any]], ip: ipaddress.IPv4Address, port: int) -> None:
    destination = Destination(port, "TCP", ip)
    if allows([_policy(rules)], LABELS, NS, destination):
        assert allows([_policy(rules), _policy(extra)], LABELS, NS, destination)


# --- the program's stacks ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_contains_its_ide(stack: str) -> None:
    run = stack_run(stack)
    manifests = [r.inputs for r in run.resources if r.custom and r.type.startswith("kubernetes:")]
    context = gke.Context(containment=gke.Containment(sandbox_required=stack == "prod"))
    findings = [f for f in gke.evaluate(manifests, context) if f.rule in CONTAINMENT_RULES]
    assert [f for f in findings if f.level is gke.Level.MANDATORY] == []
    names = {p.inputs["metadata"]["name"] for p in run.of_type(NETWORK_POLICY)}
    assert {"coditect-combined-egress", "default-deny"} <= names
    deployment = run.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]
    assert deployment["metadata"]["labels"]["coditect.ai/runs-user-code"] == "true"
    assert deployment["spec"].get("runtimeClassName") == ("gvisor" if stack in {"staging", "prod"} else None)
    assert "coditect.ai/runs-user-code" not in run.one("kubernetes:apps/v1:Deployment").inputs["spec"]["selector"]["matchLabels"]


CONTAINMENT_RULES = {
    r.id
    for policy in (gke_policies.IDE_EGRESS, gke_policies.IDE_SANDBOX, gke_policies.IDE_IDENTITY, gke_policies.EGRESS_RULES_BOUNDED)
    for r in gke.rules_of(policy)
}


def test_the_rendered_egress_policy_passes_the_probe_table() -> None:
    run = stack_run("prod")
    manifests = [p.inputs for p in run.of_type(NETWORK_POLICY)]
    labels = run.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["metadata"]["labels"]
    for destination, expected in PROBES:
        if destination.ip is None and destination.namespace_labels != {"kubernetes.io/metadata.name": "kube-system"}:
            continue
        assert allows(manifests, labels, "coditect-app", destination) is expected, destination


# Advisory stack rules, each firing on the contained baseline with one change: with the catalogue, every
# rule of the registry fires in some test (tests/test_rule_registry.py).
STACK_FIRING: list[tuple[str, Callable[[Manifests], object]]] = [
    ("namespace-default-deny", lambda m: m.pop("default_deny")),
    ("shared-tenancy", lambda m: None),
]


@pytest.mark.parametrize(("rule", "edit"), STACK_FIRING, ids=[r for r, _ in STACK_FIRING])
def test_advisory_stack_rule_fires(rule: str, edit: Callable[[Manifests], object]) -> None:
    manifests = contained_manifests()
    edit(manifests)
    found = [f for f in gke.evaluate_stack(list(manifests.values())) if f.rule == rule]
    assert found and all(f.level is gke.Level.ADVISORY for f in found)


# --- the declared cluster ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda raw: raw["cluster"]["preconditions"].update({"networkPolicy": "none"}), "coditect:cluster.preconditions.networkPolicy: is none"),
        (lambda raw: raw["cluster"]["preconditions"].update({"workloadIdentity": False}), "coditect:cluster.preconditions.workloadIdentity: is false"),
        (lambda raw: raw["cluster"]["preconditions"].update({"sandboxNodePool": False}), "coditect:cluster.preconditions.sandboxNodePool: is false"),
        (lambda raw: raw["containment"].update({"sandbox": False}), "coditect:containment.sandbox: is false; prod runs"),
        (lambda raw: raw["containment"].update({"internetPorts": [53]}), "53 is DNS"),
        (lambda raw: raw["containment"].update({"clusterRanges": ["10.0.0.0/33"]}), "is not a CIDR range"),
    ],
)
def test_prod_refuses_a_cluster_that_would_make_containment_inert(edit: Callable[[dict[str, Any]], None], expected: str) -> None:
    raw = stack_settings_raw("prod")
    edit(raw)
    with pytest.raises(SettingsError, match=None) as raised:
        parse_settings(raw, "prod")
    assert expected in str(raised.value)


# --- DNS: the egress reaches exactly the resolver the cluster serves --------------------------------

NODE_LOCAL = "169.254.20.10"
METADATA = "169.254.169.254"
DNS_REACH = {  # containment.dns -> what the IDE pods may query on 53
    "node-local": {NODE_LOCAL: True, METADATA: False, "kube-dns pods": True},
    "kube-dns": {NODE_LOCAL: False, METADATA: False, "kube-dns pods": True},
    "cloud-dns": {NODE_LOCAL: False, METADATA: True, "kube-dns pods": False},
}


def _dns_run(dns: str) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """The prod stack rendered by the program under mocks with containment.dns set: its NetworkPolicies,
    the IDE pods' labels and every Kubernetes manifest."""
    raw = stack_settings_raw("prod")
    raw["containment"]["dns"] = dns
    run = run_program("prod", config=engine_config(raw))
    manifests = [r.inputs for r in run.resources if r.custom and r.type.startswith("kubernetes:")]
    labels = run.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["metadata"]["labels"]
    return [p.inputs for p in run.of_type(NETWORK_POLICY)], labels, manifests


@pytest.mark.parametrize("dns", list(DNS_REACH))
def test_each_dns_choice_renders_egress_to_its_resolver_alone_and_checks_clean(dns: str) -> None:
    network_policies, labels, manifests = _dns_run(dns)
    for protocol in ("UDP", "TCP"):
        for where, expected in DNS_REACH[dns].items():
            destination = (
                Destination(53, protocol, pod_labels=KUBE_DNS.pod_labels, namespace_labels=KUBE_DNS.namespace_labels)
                if where == "kube-dns pods"
                else address(where, 53, protocol)
            )
            assert allows(network_policies, labels, "coditect-app", destination) is expected, (dns, destination)
    for port in (80, 8080, 988, 443):  # the metadata server stays closed on every other port
        assert not allows(network_policies, labels, "coditect-app", address(METADATA, port))
    context = gke.Context(containment=gke.Containment(sandbox_required=True, dns=dns))
    findings = [f for f in gke.evaluate(manifests, context) if f.rule in CONTAINMENT_RULES and f.level is gke.Level.MANDATORY]
    assert findings == []


def test_a_policy_for_another_resolver_than_the_cluster_serves_is_refused() -> None:
    _, _, manifests = _dns_run("kube-dns")
    context = gke.Context(containment=gke.Containment(sandbox_required=True, dns="node-local"))
    found = [f for f in gke.evaluate(manifests, context) if f.rule == "egress-dns-allowed"]
    assert found and all("169.254.20.10:53" in f.problem for f in found)


def _with_egress(rule: dict[str, Any]) -> list[dict[str, Any]]:
    manifests = contained_manifests()
    manifests["egress"]["spec"]["egress"].append(rule)
    return list(manifests.values())


def _metadata_findings(manifests: list[dict[str, Any]], dns: str) -> list[gke.Finding]:
    context = gke.Context(containment=gke.Containment(dns=dns))
    return [f for f in gke.evaluate_stack(manifests, context) if f.rule == "egress-metadata-denied"]


CLOUD_DNS_RULE: dict[str, Any] = {
    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    "to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}],
}


def test_cloud_dns_on_the_metadata_address_is_allowed_on_port_53_alone() -> None:
    assert _metadata_findings(_with_egress(CLOUD_DNS_RULE), "cloud-dns") == []
    # the same block for a stack that does not declare Cloud DNS is one port away from the credentials
    assert _metadata_findings(_with_egress(CLOUD_DNS_RULE), "node-local")
    for port in (80, 8080, 988):
        rule = copy.deepcopy(CLOUD_DNS_RULE)
        rule["ports"].append({"port": port, "protocol": "TCP"})
        found = _metadata_findings(_with_egress(rule), "cloud-dns")
        assert found, port
        # `except` must be a strict subset of `cidr` (Kubernetes ValidateIPBlock): never suggest it here
        assert all("except" not in f.fix and "remove the ipBlock 169.254.169.254/32" in f.fix for f in found)


def test_the_fix_for_a_wide_block_still_excepts_link_local() -> None:
    manifests = contained_manifests()
    manifests["egress"]["spec"]["egress"][1]["to"][0]["ipBlock"]["except"] = PRIVATE_NO_LINK_LOCAL
    found = _metadata_findings(list(manifests.values()), "node-local")
    assert found and all(f.fix.startswith("add 169.254.0.0/16 to the ipBlock's except") for f in found)


PRIVATE_NO_LINK_LOCAL = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]


# --- label selectors with matchExpressions ---------------------------------------------------------

KEYS, VALUES = st.sampled_from(["app", "tier", "x"]), st.sampled_from(["web", "api", "db"])
LABEL_SETS = st.dictionaries(KEYS, VALUES, max_size=3)
REQUIREMENTS = st.one_of(
    st.fixed_dictionaries({"key": KEYS, "operator": st.sampled_from(["In", "NotIn"]), "values": st.lists(VALUES, min_size=1, max_size=2)}),
    st.fixed_dictionaries({"key": KEYS, "operator": st.sampled_from(["Exists", "DoesNotExist"])}),
)


def _by_definition(match: dict[str, str], requirements: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    """kubernetes.io labels: every matchLabels pair present, and every requirement of its operator met."""
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for r in requirements:
        present, value = r["key"] in labels, labels.get(r["key"])
        met = {
            "In": present and value in r.get("values", []),
            "NotIn": not (present and value in r.get("values", [])),
            "Exists": present,
            "DoesNotExist": not present,
        }[r["operator"]]
        if not met:
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(match=LABEL_SETS, requirements=st.lists(REQUIREMENTS, max_size=3), labels=LABEL_SETS)
def test_selector_evaluation_is_the_definition(match: dict[str, str], requirements: list[dict[str, Any]], labels: dict[str, str]) -> None:
    selector = {"matchLabels": match, "matchExpressions": requirements}
    assert selector_matches(selector, labels) is _by_definition(match, requirements, labels)


@pytest.mark.parametrize(
    "requirement",
    [
        {"key": "app", "operator": "Matches", "values": ["web"]},  # unknown operator
        {"key": "app", "operator": "In", "values": []},  # In without values
        {"key": "app", "operator": "Exists", "values": ["web"]},  # Exists with values
        {"operator": "In", "values": ["web"]},  # no key
    ],
)
def test_an_unresolvable_selector_is_assumed_to_select_when_judging_what_is_allowed(requirement: dict[str, Any]) -> None:
    assert selector_matches({"matchExpressions": [requirement]}, LABELS) is None
    opener = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "opener", "namespace": NS},
        "spec": {
            "podSelector": {"matchExpressions": [requirement]},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"port": 80}], "to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}]}],
        },
    }
    manifests = [*contained_manifests().values(), opener]
    assert any("169.254.169.254:80" in f.problem for f in _metadata_findings(manifests, "node-local"))
    # ...but never counts as isolating the pods: without the stack's own policies they are not isolated for certain
    alone = [m for m in manifests if m["kind"] != "NetworkPolicy"] + [opener]
    assert [f.rule for f in gke.evaluate_stack(alone) if f.rule == "ide-egress-isolated"]
    assert allows([opener], LABELS, NS, address("10.0.0.1", 443))


def test_a_selector_that_excludes_the_pods_drops_its_policy() -> None:
    selector = {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}
    assert selector_matches(selector, LABELS) is False
    assert selector_matches({}, LABELS) is True
