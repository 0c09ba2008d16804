"""The cluster preconditions P1-P6 (docs/containment.md, "What the cluster must provide") and the DNS resolver read live and compared
with the stack's declaration (coditect:cluster.preconditions, coditect:containment.dns).

Pure functions of (declaration, Container API v1 Cluster JSON): the fields are the API's own
(https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#Cluster).
A live check's text is "VALUE: detail", so a diagnosis can tell a cluster that lacks a feature (fix
the cluster) from a declaration that undersells it (fix the stack file).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livestate.container import ClusterRef
from livestate.diagnosis import Diagnosis
from livestate.model import Check, Layer, Status

Json = Mapping[str, Any]
if TYPE_CHECKING:
    from coditect.settings import ClusterPreconditions

COMPUTE_DEFAULT_SA = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")


@dataclass(frozen=True)
class ClusterDeclaration:
    """What the stack file declares its cluster provides, and whether the stack is prod."""

    preconditions: ClusterPreconditions
    prod: bool


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, Mapping) else None
    return data


def _pools(cluster: Json) -> list[Json]:
    return [p for p in cluster.get("nodePools") or [] if isinstance(p, Mapping)]


def _autopilot(cluster: Json) -> bool:
    return bool(_get(cluster, "autopilot.enabled"))


def _network_policy(cluster: Json) -> tuple[str, str]:
    datapath = _get(cluster, "networkConfig.datapathProvider") or "unset"
    calico = bool(_get(cluster, "networkPolicy.enabled"))
    detail = f"networkConfig.datapathProvider {datapath}, networkPolicy.enabled {str(calico).lower()}"
    if datapath == "ADVANCED_DATAPATH":
        return "dataplane-v2", detail
    return ("calico" if calico else "none"), detail


def _workload_identity(cluster: Json) -> tuple[bool, str]:
    pool = _get(cluster, "workloadIdentityConfig.workloadPool") or ""
    if _autopilot(cluster):
        return bool(pool), f"Autopilot, workloadPool {pool or 'unset'}"
    pools = _pools(cluster)
    other = [
        f"{p.get('name')} {_get(p, 'config.workloadMetadataConfig.mode') or 'unset'}"
        for p in pools
        if _get(p, "config.workloadMetadataConfig.mode") != "GKE_METADATA"
    ]
    modes = f"workloadMetadataConfig.mode not GKE_METADATA on {', '.join(other)}" if other else f"GKE_METADATA on {len(pools)}/{len(pools)} node pools"
    return bool(pool) and bool(pools) and not other, f"workloadPool {pool or 'unset'}; {modes}"


def _sandbox_pool(cluster: Json) -> tuple[bool, str]:
    if _autopilot(cluster):  # GKE Sandbox by runtimeClassName alone (https://cloud.google.com/kubernetes-engine/docs/how-to/sandbox-pods#autopilot)
        return True, "Autopilot runs runtimeClassName gvisor without a node pool"
    found = [p for p in _pools(cluster) if _get(p, "config.sandboxConfig.type") == "GVISOR"]
    usable = [p for p in found if str(_get(p, "config.imageType") or "").upper() == "COS_CONTAINERD"]
    if usable:
        return True, f"node pool {usable[0].get('name')}: sandboxConfig.type GVISOR, imageType COS_CONTAINERD"
    if found:
        return False, f"node pool {found[0].get('name')}: GVISOR on imageType {_get(found[0], 'config.imageType') or 'unset'} (needs COS_CONTAINERD)"
    return False, "no node pool with config.sandboxConfig.type GVISOR"


def _node_service_account(cluster: Json) -> tuple[bool, str]:
    default = [
        f"{p.get('name')} {_get(p, 'config.serviceAccount') or 'unset'}"
        for p in _pools(cluster)
        if (_get(p, "config.serviceAccount") or "default") == "default" or COMPUTE_DEFAULT_SA.match(str(_get(p, "config.serviceAccount")))
    ]
    if default:
        return False, f"the Compute Engine default service account on {', '.join(default)}"
    accounts = sorted({str(_get(p, "config.serviceAccount")) for p in _pools(cluster)})
    return bool(accounts), f"config.serviceAccount {', '.join(accounts) or 'unset (no node pools)'}"


def _kubelet_read_only_port(cluster: Json) -> tuple[bool, str]:
    """Open unless turned off: a pool's kubeletConfig overrides nodePoolDefaults; unset counts as open."""
    default = _get(cluster, "nodePoolDefaults.nodeConfigDefaults.nodeKubeletConfig.insecureKubeletReadonlyPortEnabled")
    if _autopilot(cluster):
        default = _get(cluster, "nodePoolAutoConfig.nodeKubeletConfig.insecureKubeletReadonlyPortEnabled")
    pools = {str(p.get("name")): _get(p, "config.kubeletConfig.insecureKubeletReadonlyPortEnabled") for p in _pools(cluster)}
    open_on = [name for name, value in pools.items() if (default if value is None else value) is not False]
    if not pools:
        open_on = ["nodePoolDefaults"] if default is not False else []
    if open_on:
        return True, f"insecureKubeletReadonlyPortEnabled not false on {', '.join(open_on)}"
    return False, "insecureKubeletReadonlyPortEnabled false on every node pool"


def _anonymous_auth(cluster: Json) -> tuple[bool, str]:
    mode = _get(cluster, "anonymousAuthenticationConfig.mode") or "unset"
    return mode == "LIMITED", f"anonymousAuthenticationConfig.mode {mode}"


def _dns_served(cluster: Json) -> tuple[str, str]:
    """The resolver the cluster's pods query. NodeLocal DNSCache (addonsConfig.dnsCacheConfig) answers
    first wherever it runs, and always in Autopilot; else Cloud DNS for GKE (networkConfig.dnsConfig
    clusterDns CLOUD_DNS) on the metadata address; else kube-dns
    (https://cloud.google.com/kubernetes-engine/docs/how-to/nodelocal-dns-cache,
    https://cloud.google.com/kubernetes-engine/docs/how-to/cloud-dns)."""
    cache = bool(_get(cluster, "addonsConfig.dnsCacheConfig.enabled"))
    provider = _get(cluster, "networkConfig.dnsConfig.clusterDns") or "unset"
    detail = f"addonsConfig.dnsCacheConfig.enabled {str(cache).lower()}, networkConfig.dnsConfig.clusterDns {provider}"
    if _autopilot(cluster):
        return "node-local", f"Autopilot (NodeLocal DNSCache always on), networkConfig.dnsConfig.clusterDns {provider}"
    if cache:
        return "node-local", detail
    return ("cloud-dns" if provider == "CLOUD_DNS" else "kube-dns"), detail


DNS_METRIC = "DNS resolver"
DNS_FIELD = "addonsConfig.dnsCacheConfig.enabled, networkConfig.dnsConfig.clusterDns (declared: containment.dns)"
DNS_WHY = "the IDE's egress allows DNS to another resolver than the cluster serves: every name lookup of the IDE fails"


def _dns_check(declaration: ClusterDeclaration, resource: str, cluster: Json) -> Check | None:
    declared = declaration.preconditions.dns
    if declared is None:
        return None  # preconditions outside a stack's settings declare no resolver
    served, detail = _dns_served(cluster)
    return Check(Layer.CLUSTER, DNS_METRIC, resource, DNS_FIELD, declared, f"{served}: {detail}", Status.OK if served == declared else Status.DRIFT, DNS_WHY)


@dataclass(frozen=True)
class Precondition:
    id: str
    metric: str
    key: str  # under coditect:cluster.preconditions
    field: str  # the Cluster fields read
    read: Callable[[Json], tuple[Any, str]]
    declared: Callable[[ClusterDeclaration], Any]
    good: Any  # the value containment needs
    why: str  # what a cluster without it means for the IDE
    fix: str  # how to give the cluster the feature ({name}, {location}, {project} filled in)


PRECONDITIONS = (
    Precondition(
        "P1",
        "NetworkPolicy enforced",
        "networkPolicy",
        "networkConfig.datapathProvider, networkPolicy.enabled",
        _network_policy,
        lambda d: d.preconditions.network_policy,
        "dataplane-v2",
        "no NetworkPolicy of this stack is enforced: the IDE's egress isolation and the default deny are inert",
        "Dataplane V2 is chosen at creation (gcloud container clusters create ... --enable-dataplane-v2); on this cluster enable Calico: "
        "gcloud container clusters update {name} --location {location} --project {project} --update-addons=NetworkPolicy=ENABLED, "
        "then the same with --enable-network-policy (recreates the nodes)",
    ),
    Precondition(
        "P2",
        "Workload Identity",
        "workloadIdentity",
        "workloadIdentityConfig.workloadPool, nodePools[].config.workloadMetadataConfig.mode",
        _workload_identity,
        lambda d: d.preconditions.workload_identity,
        True,
        "pods reach the Compute Engine metadata server and get the node service account's token",
        "gcloud container clusters update {name} --location {location} --project {project} --workload-pool={project}.svc.id.goog, "
        "then per node pool: gcloud container node-pools update POOL --cluster {name} --location {location} --workload-metadata=GKE_METADATA",
    ),
    Precondition(
        "P3",
        "gVisor node pool",
        "sandboxNodePool",
        "nodePools[].config.sandboxConfig.type, nodePools[].config.imageType",
        _sandbox_pool,
        lambda d: d.preconditions.sandbox_node_pool,
        True,
        "pods with runtimeClassName gvisor cannot be scheduled, and without it user code shares the node's kernel",
        "gcloud container node-pools create gvisor --cluster {name} --location {location} --project {project} "
        "--image-type=cos_containerd --sandbox type=gvisor (keep a non-sandbox pool for system pods)",
    ),
    Precondition(
        "P4",
        "node service account",
        "leastPrivilegeNodeServiceAccount",
        "nodePools[].config.serviceAccount",
        _node_service_account,
        lambda d: d.preconditions.least_privilege_node_service_account,
        True,
        "the nodes carry the Compute Engine default service account (Editor on the project unless revoked)",
        "a node pool's service account is fixed at creation: gcloud container node-pools create POOL --cluster {name} --location {location} "
        "--service-account=NODE_SA@{project}.iam.gserviceaccount.com (granted roles/container.defaultNodeServiceAccount only), "
        "move the workloads, delete the old pool",
    ),
    Precondition(
        "P5",
        "kubelet read-only port",
        "kubeletReadOnlyPort",
        "nodePoolDefaults...nodeKubeletConfig, nodePools[].config.kubeletConfig.insecureKubeletReadonlyPortEnabled",
        _kubelet_read_only_port,
        lambda d: d.preconditions.kubelet_read_only_port,
        False,
        "port 10255 on every node answers without authentication (pods, their specs, node details)",
        "gcloud container clusters update {name} --location {location} --project {project} --no-enable-insecure-kubelet-readonly-port, "
        "and per node pool: gcloud container node-pools update POOL --cluster {name} --location {location} --no-enable-insecure-kubelet-readonly-port",
    ),
    Precondition(
        "P6",
        "limited anonymous access",
        "limitedAnonymousAuth",
        "anonymousAuthenticationConfig.mode",
        _anonymous_auth,
        lambda d: d.preconditions.limited_anonymous_auth,
        True,
        "the API server serves anonymous requests beyond /healthz, /livez and /readyz",
        "gcloud container clusters update {name} --location {location} --project {project} --anonymous-authentication-config=LIMITED "
        "(GKE 1.32.2-gke.1234000 or later)",
    ),
)
BY_METRIC = {p.metric: p for p in PRECONDITIONS}
# Without these in prod every policy here is inert, whatever the stack file says.
REQUIRED_IN_PROD = frozenset({"P1", "P2"})


def _value_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _enforces(precondition: Precondition, value: Any) -> bool:
    return value != "none" if precondition.id == "P1" else value == precondition.good


def cluster_checks(declaration: ClusterDeclaration, ref: ClusterRef | None, cluster: Json | None) -> Iterator[Check]:
    """`ref` None: the kubeconfig context names no GKE cluster; `cluster` None: the Container API has none by that name."""
    if ref is None:
        yield Check(
            Layer.CLUSTER,
            "cluster identified",
            "kubeconfig context",
            "coditect:cluster.context",
            "gke_PROJECT_LOCATION_NAME",
            "another name",
            Status.MISSING,
            "only a context named by gcloud container clusters get-credentials says which GKE cluster to read",
        )
        return
    resource = f"Cluster {ref.name} ({ref.project}, {ref.location})"
    if cluster is None:
        yield Check(
            Layer.CLUSTER,
            "cluster exists",
            resource,
            "name",
            ref.resource,
            "none",
            Status.MISSING,
            "the Container API has no such cluster: the context's project, location or name is wrong",
        )
        return
    for precondition in PRECONDITIONS:
        value, detail = precondition.read(cluster)
        declared = precondition.declared(declaration)
        status = Status.OK if value == declared else Status.DRIFT
        if declaration.prod and precondition.id in REQUIRED_IN_PROD and not _enforces(precondition, value):
            status = Status.DRIFT
        yield Check(
            Layer.CLUSTER,
            precondition.metric,
            resource,
            f"{precondition.field} (declared: preconditions.{precondition.key})",
            _value_text(declared),
            f"{_value_text(value)}: {detail}",
            status,
            precondition.why,
        )
    dns = _dns_check(declaration, resource, cluster)
    if dns is not None:
        yield dns


def diagnoses(checks: Iterable[Check], declaration: ClusterDeclaration, ref: ClusterRef | None) -> list[Diagnosis]:
    return [diagnosis(c, declaration, ref) for c in checks if c.layer is Layer.CLUSTER and not c.ok]


def diagnosis(check: Check, declaration: ClusterDeclaration, ref: ClusterRef | None) -> Diagnosis:
    """A cluster check that failed: the cluster lacks what containment needs (fix the cluster) or the
    declaration says other than the cluster does (fix the stack file)."""
    if check.metric == DNS_METRIC:  # any resolver serves the IDE, so long as its egress reaches that one
        served = check.live.split(":", 1)[0]
        return Diagnosis(
            f"{DNS_METRIC}: the stack declares containment.dns {check.target}, the cluster serves {served}, so {DNS_WHY}",
            f"declare what the cluster serves: coditect:containment.dns: {served} in the stack file",
            check.resource,
            check.field,
            check.live,
            check.target,
        )
    precondition = BY_METRIC.get(check.metric)
    if precondition is None or ref is None:  # not identified, or not found
        fix = (
            "name the context gke_PROJECT_LOCATION_NAME (gcloud container clusters get-credentials NAME --location LOCATION --project PROJECT)"
            if check.metric == "cluster identified"
            else "correct coditect:cluster.context in the stack file, or create the cluster"
        )
        return Diagnosis(f"{check.metric}: {check.hint}", fix, check.resource, check.field, check.live, check.target)
    live_text = check.live.split(":", 1)[0]
    value = {"true": True, "false": False}.get(live_text, live_text)
    if _enforces(precondition, value):
        cause = f"{precondition.id} {check.metric}: the stack declares {check.target}, the cluster has {live_text}"
        fix = f"declare what the cluster does: coditect:cluster.preconditions.{precondition.key}: {live_text} in the stack file"
    else:
        failure = declaration.prod and precondition.id in REQUIRED_IN_PROD
        cause = f"{'FAILURE (prod) ' if failure else ''}{precondition.id} {check.metric}: the cluster lacks it, so {precondition.why}"
        fix = precondition.fix.format(name=ref.name, location=ref.location, project=ref.project)
    return Diagnosis(cause, fix, check.resource, check.field, check.live, check.target)
