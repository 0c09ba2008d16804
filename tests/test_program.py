"""The whole program, per stack, under mocks: the resource graph GKE needs, value by value."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ops.manifests import manifests_of
from ops.program import ProgramRun
from tests.conftest import stack_run

NAMESPACE = "kubernetes:core/v1:Namespace"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
BACKEND_CONFIG = "kubernetes:cloud.google.com/v1:BackendConfig"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"


def test_prod_reproduces_the_production_names(prod: ProgramRun) -> None:
    assert prod.one(NAMESPACE).inputs["metadata"]["name"] == "coditect-app"
    assert prod.one(DEPLOYMENT).inputs["metadata"]["name"] == "coditect-combined"
    assert prod.one(SERVICE).inputs["metadata"]["name"] == "coditect-combined-service"
    ingress = prod.one(INGRESS).inputs
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == ["coditect.ai"]
    for kind in (DEPLOYMENT, SERVICE, BACKEND_CONFIG, INGRESS, PDB, SERVICE_ACCOUNT):
        assert prod.one(kind).inputs["metadata"]["namespace"] == "coditect-app", kind
    assert {p.inputs["metadata"]["namespace"] for p in prod.of_type(NETWORK_POLICY)} == {"coditect-app"}


def test_backend_config_is_the_production_fix(prod: ProgramRun) -> None:
    spec = prod.one(BACKEND_CONFIG).inputs["spec"]
    assert spec["timeoutSec"] == 86400
    assert spec["sessionAffinity"] == {"affinityType": "CLIENT_IP", "affinityCookieTtlSec": 86400}
    assert 0 <= spec["connectionDraining"]["drainingTimeoutSec"] <= 3600
    assert prod.one(BACKEND_CONFIG).inputs["apiVersion"] == "cloud.google.com/v1"


def test_health_check_is_derived_from_the_deployment(any_stack: ProgramRun) -> None:
    health = any_stack.one(BACKEND_CONFIG).inputs["spec"]["healthCheck"]
    nginx = any_stack.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]["containers"][0]
    port = next(p for p in nginx["ports"] if p["name"] == nginx["readinessProbe"]["httpGet"]["port"])
    assert health["type"] == "HTTP"
    assert health["requestPath"] == nginx["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert health["port"] == port["containerPort"] == 8080
    assert health["timeoutSec"] <= health["checkIntervalSec"]


def test_service_carries_neg_and_the_backend_config_it_was_given(any_stack: ProgramRun) -> None:
    service = any_stack.one(SERVICE).inputs
    annotations = service["metadata"]["annotations"]
    assert json.loads(annotations["cloud.google.com/neg"]) == {"ingress": True}
    backend_config_name = any_stack.one(BACKEND_CONFIG).inputs["metadata"]["name"]
    assert json.loads(annotations["cloud.google.com/backend-config"]) == {"default": backend_config_name}
    assert service["spec"]["type"] == "ClusterIP"


def test_service_selects_the_deployment_pods_on_the_named_port(any_stack: ProgramRun) -> None:
    service = any_stack.one(SERVICE).inputs["spec"]
    template = any_stack.one(DEPLOYMENT).inputs["spec"]["template"]
    assert service["selector"].items() <= template["metadata"]["labels"].items()
    container_port_names = {p["name"] for c in template["spec"]["containers"] for p in c["ports"]}
    assert service["ports"][0]["targetPort"] == "http" and "http" in container_port_names


def test_ingress_is_gce_with_an_explicit_default_backend(any_stack: ProgramRun) -> None:
    ingress = any_stack.one(INGRESS).inputs
    service = any_stack.one(SERVICE).inputs
    assert ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"] == "gce"
    assert "ingressClassName" not in ingress["spec"]
    backend = {"service": {"name": service["metadata"]["name"], "port": {"name": service["spec"]["ports"][0]["name"]}}}
    assert ingress["spec"]["defaultBackend"] == backend
    for rule in ingress["spec"]["rules"]:
        assert rule["http"]["paths"] == [{"path": "/", "pathType": "Prefix", "backend": backend}]
    forbidden = [k for k in ingress["metadata"]["annotations"] if "backend-config" in k or "websocket" in k]
    assert forbidden == []


def test_deployment_is_hardened_and_drains(any_stack: ProgramRun) -> None:
    spec = any_stack.one(DEPLOYMENT).inputs["spec"]
    pod = spec["template"]["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == any_stack.one(SERVICE_ACCOUNT).inputs["metadata"]["name"]
    assert any_stack.one(SERVICE_ACCOUNT).inputs["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] >= 10000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    draining = any_stack.one(BACKEND_CONFIG).inputs["spec"]["connectionDraining"]["drainingTimeoutSec"]
    assert pod["terminationGracePeriodSeconds"] >= draining
    volumes = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    for container in pod["containers"]:
        sc = container["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"] == {"drop": ["ALL"]} and sc["runAsNonRoot"] is True
        assert container["readinessProbe"] and container["livenessProbe"]
        assert set(container["resources"]) == {"requests", "limits"}
        assert all(p["containerPort"] >= 1024 for p in container["ports"])
        sleep = container["lifecycle"]["preStop"]["exec"]["command"]
        assert sleep[0] == "sleep" and 0 < int(sleep[1]) < pod["terminationGracePeriodSeconds"]
        assert {m["name"] for m in container["volumeMounts"]} <= volumes | {v["name"] for v in pod["volumes"]}
        assert "@sha256:" in container["image"]


def test_pdb_and_network_policy_target_the_deployment_pods(any_stack: ProgramRun) -> None:
    labels = any_stack.one(DEPLOYMENT).inputs["spec"]["template"]["metadata"]["labels"]
    pdb = any_stack.one(PDB).inputs["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items() and pdb["minAvailable"] >= 1
    [policy] = [p.inputs["spec"] for p in any_stack.of_type(NETWORK_POLICY) if p.name == "network-policy"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    sources = [peer["ipBlock"]["cidr"] for peer in policy["ingress"][0]["from"]]
    assert sources == ["130.211.0.0/22", "35.191.0.0/16"]
    assert policy["ingress"][0]["ports"] == [{"port": 8080, "protocol": "TCP"}]


def test_every_child_is_parented_by_its_component(any_stack: ProgramRun) -> None:
    components = {r.type for r in any_stack.resources if not r.custom}
    core = {
        "coditect:index:SocketIoApp",  # the public component; every other is declared under it
        "coditect:index:AppNamespace",
        "coditect:index:CombinedDeployment",
        "coditect:index:BackendConfig",
        "coditect:index:NegService",
        "coditect:index:WebsocketIngress",
        "coditect:index:DisruptionBudget",
        "coditect:index:LoadBalancerNetworkPolicy",
        "coditect:index:NginxConfigMap",
        "coditect:index:StaticIp",
        "coditect:index:EgressPolicy",
        "coditect:index:NamespaceDefaultDeny",
        "coditect:index:InspectionMarker",
    }
    cloud = {"coditect:index:Tls", "coditect:index:CloudArmor", "coditect:index:SocketIOMonitoring"}
    gateway = {"coditect:index:WebsocketGateway", "coditect:index:CertificateMap"}  # frontDoors with gateway (staging)
    assert core <= components <= core | cloud | gateway
    for resource in any_stack.resources:
        if resource.custom and not resource.type.startswith("pulumi:providers:"):  # the stack's cluster provider sits at the root
            # The URN's type part is <parent type>$<type>: every resource sits under one of our components.
            parent_type, _, own_type = resource.urn.split("::")[2].rpartition("$")
            assert parent_type.startswith("coditect:index:") and own_type == resource.type, resource.urn


def test_exports_name_what_an_operator_needs(prod: ProgramRun) -> None:
    assert prod.exports == {
        "cluster": "gke_coditect-prod_us-central1_coditect-prod",
        "gcpProject": "coditect-prod",
        "namespace": "coditect-app",
        "deploymentName": "coditect-combined",
        "serviceName": "coditect-combined-service",
        "backendConfigName": "coditect-backend-config",
        "ingressName": "coditect-ingress",
        "socketioUrl": "https://coditect.ai/theia/socket.io/",
        "verifyCommand": "python -m ops verify https://coditect.ai/theia/socket.io/ --hold 40",
        "staticIpName": "coditect-prod-ip",
        "staticIpAddress": "<known after deploy: reserved IPv4 address>",
        "uptimeCheckPath": "/theia/socket.io/?EIO=4&transport=polling",
    }


def test_stacks_differ_only_where_environments_should() -> None:
    """Host, namespace, replicas, sizes and release differ; the GKE wiring is the same."""
    prod, staging = manifests_of(stack_run("prod")), manifests_of(stack_run("staging"))
    # Staging rehearses the Gateway beside the Ingress (frontDoors [ingress, gateway]); the rest is prod's shape.
    gateway_kinds = {"Gateway", "HTTPRoute", "GCPBackendPolicy", "HealthCheckPolicy", "GCPGatewayPolicy"}
    assert [m["kind"] for m in prod] == [m["kind"] for m in staging if m["kind"] not in gateway_kinds]
    by_kind = lambda ms, kind: next(m for m in ms if m["kind"] == kind)  # noqa: E731
    prod_bc, staging_bc = dict(by_kind(prod, "BackendConfig")["spec"]), dict(by_kind(staging, "BackendConfig")["spec"])
    # Each environment has its own Cloud Armor policy; everything else is the same.
    assert (prod_bc.pop("securityPolicy"), staging_bc.pop("securityPolicy")) == ({"name": "coditect-prod-armor"}, {"name": "coditect-staging-armor"})
    assert prod_bc == staging_bc
    assert by_kind(prod, "Service")["spec"] == by_kind(staging, "Service")["spec"]
    assert by_kind(prod, "Deployment")["spec"]["replicas"] == 3
    assert by_kind(staging, "Deployment")["spec"]["replicas"] == 2


def test_autoscaler_is_built_from_the_deployment_and_owns_replicas(run_with: Callable[..., ProgramRun]) -> None:
    def enable(raw: dict[str, Any]) -> None:
        raw["autoscaling"] = {"enabled": True, "minReplicas": 2, "maxReplicas": 5}

    run = run_with("staging", enable)
    hpa = run.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    deployment = run.one(DEPLOYMENT).inputs
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"]}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 5)
    assert "replicas" not in deployment["spec"]


def test_nginx_site_config_is_mounted_and_agrees_with_the_load_balancer(any_stack: ProgramRun) -> None:
    config_map = any_stack.one("kubernetes:core/v1:ConfigMap", "nginx-config").inputs
    site = config_map["data"]["default.conf"]
    bc = any_stack.one(BACKEND_CONFIG).inputs["spec"]
    pod = any_stack.one(DEPLOYMENT).inputs["spec"]["template"]
    nginx = pod["spec"]["containers"][0]
    assert f"listen {bc['healthCheck']['port']};" in site
    assert f"location = {bc['healthCheck']['requestPath']} {{" in site and 'return 200 "ok\\n";' in site
    assert "location /theia/socket.io/ {" in site and "proxy_pass http://127.0.0.1:3000;" in site
    assert "proxy_http_version 1.1;" in site and "proxy_set_header Upgrade $http_upgrade;" in site
    assert "proxy_set_header Connection $connection_upgrade;" in site
    assert f"proxy_read_timeout {bc['timeoutSec']}s;" in site and f"proxy_send_timeout {bc['timeoutSec']}s;" in site
    volume = next(v for v in pod["spec"]["volumes"] if v.get("configMap"))
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    assert {"name": volume["name"], "mountPath": "/etc/nginx/conf.d", "readOnly": True} in nginx["volumeMounts"]
    import hashlib

    assert pod["metadata"]["annotations"]["coditect.ai/nginx-config-sha256"] == hashlib.sha256(site.encode()).hexdigest()
