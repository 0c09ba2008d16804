"""`python -m ops inspect`'s cluster layer, whole runs: the live cluster (Container API v1, through the
real `google-cloud-container` client against a strict stand-in) against the stack's declared
preconditions P1-P6, each mismatch one diagnosis (issue 15, part 4)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

import ops.inspect.run as inspect_run
from livestate.desired import StackTarget, with_cluster
from livestate.model import Layer
from ops.__main__ import main
from ops.errors import EXIT_NO_ACCESS
from ops.program import ROOT
from ops.stack_check import settings_for
from tests.inspect_cluster_helpers import CLUSTER, Json
from tests.standin.harness import Running, closed_port_url, golden_desired, running
from tests.standin.servers import ComputeHandler, _as_requested, serving, write_kubeconfig
from tests.standin.world import CONTEXT, PROJECT, World, fixture, healthy_world


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    """The prod stack (golden render, Pulumi.prod.yaml's declaration) against a converged world."""
    target = with_cluster(StackTarget(CONTEXT, PROJECT), settings_for("prod", ROOT)[2])
    monkeypatch.setattr(inspect_run, "desired_state", lambda stack, root: (golden_desired(), target))
    with running(healthy_world(), tmp_path) as standins:
        yield standins


def inspect(standins: Running, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Json, str]:
    code = main(["inspect", "prod", "--kubeconfig", str(standins.kubeconfig), "--gcp-endpoint", standins.compute_url, "--json", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else {}, captured.err


def cluster_rows(document: Json) -> dict[str, Json]:
    return {c["metric"]: c for c in document["checks"] if c["layer"] == "cluster"}


def test_a_cluster_that_provides_what_prod_declares_converges(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    code, document, _ = inspect(live, capsys)
    assert code == 0, document["diagnoses"]
    rows = cluster_rows(document)
    assert list(rows) == [
        "NetworkPolicy enforced",
        "Workload Identity",
        "gVisor node pool",
        "node service account",
        "kubelet read-only port",
        "limited anonymous access",
        "DNS resolver",
    ]
    assert rows["DNS resolver"]["live"] == ("node-local: addonsConfig.dnsCacheConfig.enabled true, networkConfig.dnsConfig.clusterDns KUBE_DNS")
    assert rows["NetworkPolicy enforced"]["live"].startswith("dataplane-v2: networkConfig.datapathProvider ADVANCED_DATAPATH")
    assert rows["Workload Identity"]["live"] == "true: workloadPool coditect-prod.svc.id.goog; GKE_METADATA on 2/2 node pools"
    assert document["layers"]["cluster"] is True
    reads = [(method, path) for api, method, path in live.world.requests if api == "container"]
    assert reads == [("GET", f"/v1/{CLUSTER}?%24alt=json%3Benum-encoding%3Dint")]  # one GetCluster, read-only


def _pool(world: World, name: str) -> Json:
    return next(p for p in world.cluster["nodePools"] if p["name"] == name)


def _set(path: str, value: Any) -> Callable[[World], None]:
    def change(world: World) -> None:
        node: Any = world.cluster
        *parents, last = path.split(".")
        for part in parents:
            node = _pool(world, part[5:]) if part.startswith("pool:") else node.setdefault(part, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value

    return change


def _both(*changes: Callable[[World], None]) -> Callable[[World], None]:
    def change(world: World) -> None:
        for one in changes:
            one(world)

    return change


# (case, the change to the live cluster, the failing metric, its live text starts with, the diagnosis cause and fix contain)
MISMATCHES = [
    (
        "legacy dataplane, no Calico",
        _set("networkConfig.datapathProvider", "LEGACY_DATAPATH"),
        "NetworkPolicy enforced",
        "none: ",
        "FAILURE (prod) P1 NetworkPolicy enforced: the cluster lacks it, so no NetworkPolicy",
        "--update-addons=NetworkPolicy=ENABLED",
    ),
    (
        "Calico where Dataplane V2 is declared",
        _both(_set("networkConfig.datapathProvider", "LEGACY_DATAPATH"), _set("networkPolicy", {"provider": "CALICO", "enabled": True})),
        "NetworkPolicy enforced",
        "calico: ",
        "the stack declares dataplane-v2, the cluster has calico",
        "preconditions.networkPolicy: calico",
    ),
    (
        "no workload pool",
        _set("workloadIdentityConfig", None),
        "Workload Identity",
        "false: workloadPool unset",
        "FAILURE (prod) P2 Workload Identity: the cluster lacks it, so pods reach the Compute Engine metadata server",
        "--workload-pool=coditect-prod.svc.id.goog",
    ),
    (
        "a node pool on GCE_METADATA",
        _set("nodePools.pool:ide-sandbox.config.workloadMetadataConfig", {"mode": "GCE_METADATA"}),
        "Workload Identity",
        "false: workloadPool coditect-prod.svc.id.goog; workloadMetadataConfig.mode not GKE_METADATA on ide-sandbox GCE_METADATA",
        "FAILURE (prod) P2",
        "--workload-metadata=GKE_METADATA",
    ),
    (
        "no gVisor pool",
        _set("nodePools.pool:ide-sandbox.config.sandboxConfig", None),
        "gVisor node pool",
        "false: no node pool",
        "P3 gVisor node pool: the cluster lacks it",
        "--sandbox type=gvisor",
    ),
    (
        "gVisor on Ubuntu",
        _set("nodePools.pool:ide-sandbox.config.imageType", "UBUNTU_CONTAINERD"),
        "gVisor node pool",
        "false: node pool ide-sandbox: GVISOR on imageType UBUNTU_CONTAINERD",
        "P3",
        "--image-type=cos_containerd",
    ),
    (
        "the default service account",
        _set("nodePools.pool:system.config.serviceAccount", "default"),
        "node service account",
        "false: the Compute Engine default service account on system default",
        "P4 node service account: the cluster lacks it",
        "--service-account=",
    ),
    (
        "the Compute default SA by email",
        _set("nodePools.pool:system.config.serviceAccount", "123456789012-compute@developer.gserviceaccount.com"),
        "node service account",
        "false: the Compute Engine default service account on system 123456789012-compute@",
        "P4",
        "roles/container.defaultNodeServiceAccount",
    ),
    (
        "read-only port on in a pool",
        _set("nodePools.pool:ide-sandbox.config.kubeletConfig", {"insecureKubeletReadonlyPortEnabled": True}),
        "kubelet read-only port",
        "true: insecureKubeletReadonlyPortEnabled not false on ide-sandbox",
        "P5 kubelet read-only port: the cluster lacks it",
        "--no-enable-insecure-kubelet-readonly-port",
    ),
    (
        "read-only port never set",
        _both(
            _set("nodePoolDefaults", None),
            _set("nodePools.pool:system.config.kubeletConfig", None),
            _set("nodePools.pool:ide-sandbox.config.kubeletConfig", None),
        ),
        "kubelet read-only port",
        "true: insecureKubeletReadonlyPortEnabled not false on system, ide-sandbox",
        "P5",
        "node-pools update POOL",
    ),
    (
        "anonymous access enabled",
        _set("anonymousAuthenticationConfig", {"mode": "ENABLED"}),
        "limited anonymous access",
        "false: anonymousAuthenticationConfig.mode ENABLED",
        "P6 limited anonymous access: the cluster lacks it",
        "--anonymous-authentication-config=LIMITED",
    ),
]


@pytest.mark.parametrize(("change", "metric", "live_text", "cause", "fix"), [m[1:] for m in MISMATCHES], ids=[m[0] for m in MISMATCHES])
def test_each_mismatch_is_one_diagnosis_naming_field_live_declared_and_fix(
    live: Running, capsys: pytest.CaptureFixture[str], change: Callable[[World], None], metric: str, live_text: str, cause: str, fix: str
) -> None:
    change(live.world)
    code, document, _ = inspect(live, capsys)
    assert code == 1
    failing = {m: c for m, c in cluster_rows(document).items() if c["status"] != "ok"}
    assert list(failing) == [metric]
    assert failing[metric]["live"].startswith(live_text)
    (diagnosis,) = [d for d in document["diagnoses"] if d["resource"] == "Cluster coditect-prod (coditect-prod, us-central1)"]
    assert cause in diagnosis["cause"] and fix in diagnosis["fix"]
    assert "gcloud container" in diagnosis["fix"] or "preconditions." in diagnosis["fix"]
    assert diagnosis["field"].endswith(")") and "declared: preconditions." in diagnosis["field"]
    assert (diagnosis["live"], diagnosis["desired"]) == (failing[metric]["live"], failing[metric]["target"])
    assert document["layers"] == {
        "cluster": False,
        "ingress translation": True,
        "backends": True,
        "backendconfig applied": True,
        "front end": True,
        "leftovers": True,
    }


# (case, the change to the live cluster, what it serves, the detail)
DNS_CLUSTERS = [
    (
        "Standard, NodeLocal DNSCache off, kube-dns",
        _set("addonsConfig.dnsCacheConfig.enabled", False),
        "kube-dns",
        "addonsConfig.dnsCacheConfig.enabled false, networkConfig.dnsConfig.clusterDns KUBE_DNS",
    ),
    (
        "Standard, no addonsConfig, no dnsConfig",
        _both(_set("addonsConfig", None), _set("networkConfig.dnsConfig", None)),
        "kube-dns",
        "addonsConfig.dnsCacheConfig.enabled false, networkConfig.dnsConfig.clusterDns unset",
    ),
    (
        "Standard, Cloud DNS without the cache",
        _both(_set("addonsConfig", None), _set("networkConfig.dnsConfig", {"clusterDns": "CLOUD_DNS"})),
        "cloud-dns",
        "addonsConfig.dnsCacheConfig.enabled false, networkConfig.dnsConfig.clusterDns CLOUD_DNS",
    ),
    ("Autopilot", _both(_set("addonsConfig", None), _set("autopilot", {"enabled": True})), "node-local", "Autopilot (NodeLocal DNSCache always on)"),
]


@pytest.mark.parametrize(("change", "served", "detail"), [c[1:] for c in DNS_CLUSTERS], ids=[c[0] for c in DNS_CLUSTERS])
def test_a_dns_declaration_the_cluster_does_not_serve_is_refused(
    live: Running, capsys: pytest.CaptureFixture[str], change: Callable[[World], None], served: str, detail: str
) -> None:
    change(live.world)
    code, document, _ = inspect(live, capsys)
    row = cluster_rows(document)["DNS resolver"]
    assert row["live"].startswith(f"{served}: {detail}") and row["target"] == "node-local"
    if served == "node-local":
        assert row["status"] == "ok"
        return
    assert code == 1 and row["status"] != "ok"
    (diagnosis,) = [d for d in document["diagnoses"] if d["field"].endswith("(declared: containment.dns)")]
    assert diagnosis["cause"].startswith(f"DNS resolver: the stack declares containment.dns node-local, the cluster serves {served}")
    assert diagnosis["fix"] == f"declare what the cluster serves: coditect:containment.dns: {served} in the stack file"


def test_no_such_cluster_is_missing(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    live.world.clusters.clear()
    code, document, _ = inspect(live, capsys)
    assert code == 1
    row = cluster_rows(document)["cluster exists"]
    assert (row["status"], row["target"]) == ("missing", CLUSTER)
    assert document["diagnoses"][0]["fix"] == "correct coditect:cluster.context in the stack file, or create the cluster"


def test_a_context_that_names_no_gke_cluster_is_reported(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    write_kubeconfig(live.kubeconfig, live.kube_url, "standin")
    code, document, _ = inspect(live, capsys, "--context", "standin")
    assert code == 1
    assert cluster_rows(document)["cluster identified"]["status"] == "missing"
    assert "gcloud container clusters get-credentials" in document["diagnoses"][0]["fix"]
    assert not [r for r in live.world.requests if r[0] == "container"]


def test_403_exits_no_access_naming_container_clusters_get(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    live.world.container_forbidden = True
    code, document, err = inspect(live, capsys)
    assert (code, document) == (EXIT_NO_ACCESS, {})
    assert f"no access: Kubernetes Engine API denied a read; grant IAM permission container.clusters.get on {CLUSTER}" in err
    assert 'Required "container.clusters.get" permission(s)' in err  # the API's own words follow


def test_container_api_unreachable(live: Running, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", "prod", "--kubeconfig", str(live.kubeconfig), "--gcp-endpoint", closed_port_url()])
    err = capsys.readouterr().err
    assert code == 1
    assert "error: Kubernetes Engine API at http://127.0.0.1:" in err and "is unreachable: ConnectionError" in err


def test_the_resource_hook_never_reads_the_cluster(live: Running) -> None:
    """The hook's target carries no declaration and its layers no cluster: only the inspect command reads it."""
    from livestate.inspector import Inspector

    for target, layers in ((StackTarget(CONTEXT, PROJECT), tuple(Layer)), (inspect_run.desired_state("prod", ROOT)[1], (Layer.TRANSLATION,))):
        inspector = Inspector(golden_desired(), target, str(live.kubeconfig), live.compute_url, 5.0)
        try:
            assert not [c for c in inspector.inspect("prod", layers).checks if c.layer is Layer.CLUSTER]
        finally:
            inspector.close()
    assert not [r for r in live.world.requests if r[0] == "container"]


def test_the_container_standin_is_strict() -> None:
    """Only GetCluster by its v1 resource path is served; the fixture must parse as a v1 Cluster."""
    with serving(ComputeHandler, healthy_world()) as gcp:
        assert json.load(urllib.request.urlopen(f"{gcp}/v1/{CLUSTER}"))["networkConfig"]["datapathProvider"] == "ADVANCED_DATAPATH"
        for path in (
            f"/v1/projects/{PROJECT}/zones/us-central1/clusters/coditect-prod",  # the zonal alias is not served
            f"/v1beta1/{CLUSTER}",
            f"/v1/projects/{PROJECT}/locations/us-central1/clusters",  # nor v1beta1, nor list
            f"/v1/{CLUSTER}/nodePools/system",
        ):
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(gcp + path)
            assert error.value.code == 404, path
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{gcp}/v1/projects/{PROJECT}/locations/us-central1/clusters/other")
        assert error.value.code == 404 and json.load(error.value)["error"]["status"] == "NOT_FOUND"
    with pytest.raises(json_format.ParseError):
        _as_requested({**fixture("container_cluster"), "datapathProvider": "ADVANCED_DATAPATH"}, {})  # a field Cluster does not have
