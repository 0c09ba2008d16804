"""`ops inspect`'s cluster layer, the checks themselves: the declared preconditions P1-P6 against a
Container API v1 Cluster document, the diagnoses they give, the declaration read from the stack
files and the gcloud context names that identify a cluster (issue 15, part 4)."""

from __future__ import annotations

import pytest

from coditect.settings import ClusterPreconditions
from livestate.container import ClusterReader, ClusterRef, cluster_of
from livestate.desired import StackTarget, with_cluster
from livestate.model import Status, Unreachable
from livestate.preconditions import ClusterDeclaration, cluster_checks, diagnoses
from ops.program import ROOT
from ops.stack_check import settings_for
from tests.inspect_cluster_helpers import PROD, REF
from tests.standin.harness import closed_port_url
from tests.standin.world import fixture


def test_a_dns_declaration_the_cluster_serves_passes() -> None:
    for dns, cluster in (
        ("node-local", fixture("container_cluster")),
        ("cloud-dns", {**fixture("container_cluster"), "addonsConfig": {}, "networkConfig": {"dnsConfig": {"clusterDns": "CLOUD_DNS"}}}),
        ("kube-dns", {**fixture("container_cluster"), "addonsConfig": {"dnsCacheConfig": {"enabled": False}}}),
    ):
        preconditions = PROD.preconditions.model_copy()
        preconditions._dns = dns
        (check,) = [c for c in cluster_checks(ClusterDeclaration(preconditions, prod=True), REF, cluster) if c.metric == "DNS resolver"]
        assert check.ok and check.live.startswith(f"{dns}: "), dns


def test_a_declaration_that_undersells_the_cluster_is_a_stale_declaration() -> None:
    """A non-prod stack declaring nothing, on a cluster that has everything: each precondition differs, and the fix is the stack file."""
    declaration = ClusterDeclaration(ClusterPreconditions(), prod=False)
    checks = list(cluster_checks(declaration, REF, fixture("container_cluster")))
    assert [c.status for c in checks] == [Status.DRIFT] * 6
    found = diagnoses(checks, declaration, REF)
    assert [d.fix for d in found] == [
        f"declare what the cluster does: coditect:cluster.preconditions.{key}: {value} in the stack file"
        for key, value in (
            ("networkPolicy", "dataplane-v2"),
            ("workloadIdentity", "true"),
            ("sandboxNodePool", "true"),
            ("leastPrivilegeNodeServiceAccount", "true"),
            ("kubeletReadOnlyPort", "false"),
            ("limitedAnonymousAuth", "true"),
        )
    ]
    assert found[0].cause == "P1 NetworkPolicy enforced: the stack declares none, the cluster has dataplane-v2"


def test_prod_without_enforcement_fails_whatever_the_declaration_says() -> None:
    """The settings refuse a prod stack declaring no NetworkPolicy enforcement; the check does not rely on it."""
    declaration = ClusterDeclaration(ClusterPreconditions(), prod=True)
    cluster = {**fixture("container_cluster"), "networkConfig": {"datapathProvider": "LEGACY_DATAPATH"}, "workloadIdentityConfig": {}}
    checks = {c.metric: c for c in cluster_checks(declaration, REF, cluster)}
    assert (checks["NetworkPolicy enforced"].target, checks["NetworkPolicy enforced"].status) == ("none", Status.DRIFT)
    assert (checks["Workload Identity"].target, checks["Workload Identity"].status) == ("false", Status.DRIFT)
    causes = [d.cause for d in diagnoses(list(checks.values()), declaration, REF)]
    assert causes[0].startswith("FAILURE (prod) P1") and causes[1].startswith("FAILURE (prod) P2")
    dev = {c.metric: c.status for c in cluster_checks(ClusterDeclaration(ClusterPreconditions(), prod=False), REF, cluster)}
    assert dev["NetworkPolicy enforced"] is Status.OK and dev["Workload Identity"] is Status.OK  # declared none, has none


def test_autopilot_has_workload_identity_and_gvisor_without_node_pool_settings() -> None:
    cluster = {**fixture("container_cluster"), "autopilot": {"enabled": True}}
    for pool in cluster["nodePools"]:
        pool["config"] = {"serviceAccount": "gke-nodes@coditect-prod.iam.gserviceaccount.com", "kubeletConfig": {"insecureKubeletReadonlyPortEnabled": False}}
    checks = {c.metric: c for c in cluster_checks(PROD, REF, cluster)}
    assert checks["Workload Identity"].ok and checks["gVisor node pool"].ok


def test_reader_unreachable_names_the_api() -> None:
    with pytest.raises(Unreachable) as down:
        ClusterReader(closed_port_url(), timeout=2).get(REF)
    assert down.value.api == "Kubernetes Engine API"


@pytest.mark.parametrize(
    ("context", "ref"),
    [
        ("gke_coditect-prod_us-central1_coditect-prod", ClusterRef("coditect-prod", "us-central1", "coditect-prod")),
        ("gke_my-project-123_europe-west1-b_c", ClusterRef("my-project-123", "europe-west1-b", "c")),
        ("coditect-prod", None),
        ("gke_coditect-prod_us-central1", None),
        ("gke_coditect-prod_us-central1_name_extra", None),
        ("gke_Coditect_us-central1_x", None),
        ("gke_coditect-prod_us-central1_ends-", None),
        ("gke_p_us-central1_x", None),
    ],
)
def test_cluster_of_parses_gcloud_context_names_only(context: str, ref: ClusterRef | None) -> None:
    assert cluster_of(context) == ref


def test_the_declaration_is_the_stack_files() -> None:
    settings = settings_for("dev", ROOT)[2]
    target = with_cluster(StackTarget("gke_coditect-dev_us-central1_coditect-dev", "coditect-dev"), settings)
    assert target.cluster == ClusterDeclaration(settings.cluster.preconditions, prod=False)
    assert target == StackTarget("gke_coditect-dev_us-central1_coditect-dev", "coditect-dev")  # the declaration does not identify the target
    assert PROD.prod and PROD.preconditions.network_policy == "dataplane-v2"
