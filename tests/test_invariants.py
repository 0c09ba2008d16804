"""Each invariant the components enforce: it fires (with a message naming resource and fix), and
valid input passes. Broken setups are declared through the real components under mocks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from coditect import gke
from coditect.app import build_app, nginx_site
from coditect.backend_config import BackendConfig
from coditect.base import InvariantError, pack_levels
from coditect.deployment import Autoscaler, CombinedDeployment, DisruptionBudget, HealthEndpoint, NamedPort
from coditect.ingress import IngressExtras, Route, WebsocketIngress
from coditect.namespace import AppNamespace
from coditect.nginx import NginxConfigMap
from coditect.plan import declaration_plan
from coditect.service import NegService
from coditect.settings import BackendConfigSettings, Settings, SettingsError, parse_settings
from coditect.target import Target
from ops.program import ProgramRun
from tests.conftest import ROOT, stack_settings_raw

RunComponents = Callable[..., ProgramRun]
RunWith = Callable[..., ProgramRun]


def settings(stack: str = "dev", edit: Callable[[dict[str, Any]], None] = lambda raw: None) -> Settings:
    raw = stack_settings_raw(stack)
    edit(raw)
    return parse_settings(raw, stack)


class Parts:
    """The components of a valid app, declared one by one so a test can swap any of them."""

    def __init__(self, s: Settings, ns_name: str | None = None) -> None:
        self.s = s
        self.ns = AppNamespace("ns", ns_name or s.namespace)
        self.deployment = CombinedDeployment("combined", self.ns, s.deployment, s.release)
        self.backend_config = BackendConfig("bc", self.ns, s.backend_config, self.deployment.health)
        self.service = NegService("svc", self.ns, s.service, self.deployment, self.backend_config)

    def ingress(self, *routes: Route, default: Route | None = None, extras: IngressExtras | None = None) -> WebsocketIngress:
        return WebsocketIngress(
            "ingress",
            self.ns,
            self.s.ingress.name,
            default or Route(self.service),
            routes or (Route(self.service, host=self.s.hosts[0]),),
            self.s.socketio.min_session_sec,
            extras or IngressExtras(),
        )


def refuses(run_components: RunComponents, program: Callable[[], None], *fragments: str) -> str:
    with pytest.raises(InvariantError) as raised:
        run_components(program)
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert "Fix" in message or "fix" in message
    return message


def test_valid_parts_declare_everything(run_components: RunComponents) -> None:
    run = run_components(lambda: Parts(settings()).ingress())
    assert len(run.of_type("kubernetes:networking.k8s.io/v1:Ingress")) == 1


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_committed_stacks_raise_no_invariant(run_components: RunComponents, stack: str) -> None:
    s = settings(stack)
    run = run_components(lambda: build_app(s, Target(stack, f"coditect-{stack}", s.cluster.context)), stack=stack)
    assert run.of_type("kubernetes:networking.k8s.io/v1:Ingress")


def test_route_to_a_service_name_is_impossible() -> None:
    with pytest.raises(InvariantError, match=r"coditect-api-v2.*not a NegService"):
        Route("coditect-api-v2")  # type: ignore[arg-type]


def test_route_to_a_service_in_another_namespace(run_components: RunComponents) -> None:
    def program() -> None:
        parts = Parts(settings())
        other = Parts(settings(), ns_name="coditect-other")
        parts.ingress(Route(other.service, host="dev.coditect.ai"))

    refuses(run_components, program, "Ingress coditect-dev/coditect-ingress", "outside namespace 'coditect-dev'")


def test_service_without_neg_behind_the_ingress(run_components: RunComponents) -> None:
    def program() -> None:
        parts = Parts(settings())
        parts.service = NegService("plain", parts.ns, parts.s.service, parts.deployment, parts.backend_config, neg=False)
        parts.ingress()

    refuses(run_components, program, "has no cloud.google.com/neg", "neg=True")


def test_service_without_backend_config_behind_the_ingress(run_components: RunComponents) -> None:
    def program() -> None:
        parts = Parts(settings())
        parts.service = NegService("bare", parts.ns, parts.s.service, parts.deployment, None)
        parts.ingress()

    refuses(run_components, program, "has no BackendConfig", "30 s timeout")


def test_service_with_a_backend_config_of_another_namespace(run_components: RunComponents) -> None:
    def program() -> None:
        parts = Parts(settings())
        other = Parts(settings(), ns_name="coditect-other")
        NegService("cross", parts.ns, parts.s.service, parts.deployment, other.backend_config)

    refuses(run_components, program, "backend_config is in namespace 'coditect-other'")


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("timeout_sec", 90000, "spec.timeoutSec is 90000, outside GKE's allowed range 1..86400"),
        ("timeout_sec", 0, "spec.timeoutSec is 0"),
        ("draining_timeout_sec", 86400, "drainingTimeoutSec is 86400, outside GKE's allowed range 0..3600"),
        ("session_affinity", "STICKY", "affinityType is 'STICKY'"),
        ("affinity_cookie_ttl_sec", 100000, "affinityCookieTtlSec is 100000"),
    ],
)
def test_backend_config_values_outside_gke_limits(run_components: RunComponents, field: str, value: Any, fragment: str) -> None:
    """The component checks the manifest itself, even when handed settings that skipped validation."""

    def program() -> None:
        s = settings()
        bad = s.backend_config.model_copy(update={field: value})
        BackendConfig("bc", AppNamespace("ns", s.namespace), bad, HealthEndpoint("/healthz", NamedPort("http", 8080)))

    refuses(run_components, program, "BackendConfig coditect-dev/coditect-backend-config", fragment)


@pytest.mark.parametrize(
    ("health", "fragment"),
    [
        (HealthEndpoint("healthz", NamedPort("http", 8080)), "requestPath is 'healthz'"),
        (HealthEndpoint("/healthz", NamedPort("http", 70000)), "spec.healthCheck.port is 70000"),
    ],
)
def test_health_check_path_and_port_limits(run_components: RunComponents, health: HealthEndpoint, fragment: str) -> None:
    def program() -> None:
        s = settings()
        BackendConfig("bc", AppNamespace("ns", s.namespace), s.backend_config, health)

    refuses(run_components, program, fragment)


def test_health_check_timeout_longer_than_interval(run_components: RunComponents) -> None:
    def program() -> None:
        s = settings()
        hc = s.backend_config.health_check.model_copy(update={"timeout_sec": 30, "check_interval_sec": 10})
        BackendConfig(
            "bc", AppNamespace("ns", s.namespace), s.backend_config.model_copy(update={"health_check": hc}), HealthEndpoint("/healthz", NamedPort("http", 8080))
        )

    refuses(run_components, program, "timeoutSec 30 is longer than checkIntervalSec 10")


def test_websocket_timeout_below_the_minimum_session(run_components: RunComponents) -> None:
    """A stack rule: only a BackendConfig behind an Ingress serves WebSockets."""

    def program() -> None:
        s = settings()
        Parts(s.model_copy(update={"backend_config": s.backend_config.model_copy(update={"timeout_sec": 30})})).ingress()

    refuses(run_components, program, "spec.timeoutSec 30 s is shorter than the minimum WebSocket session of 3600 s")


def test_several_replicas_without_affinity(run_components: RunComponents) -> None:
    def program() -> None:
        s = settings()
        s = s.model_copy(update={"backend_config": s.backend_config.model_copy(update={"session_affinity": "NONE"})})
        Parts(s).ingress()

    refuses(run_components, program, "session affinity NONE", "runs 2 replicas", "CLIENT_IP or GENERATED_COOKIE")


def test_health_check_disagreeing_with_the_readiness_probe(run_components: RunComponents) -> None:
    def program() -> None:
        parts = Parts(settings())
        parts.backend_config = BackendConfig(
            "bc2", parts.ns, parts.s.backend_config.model_copy(update={"name": "other-bc"}), HealthEndpoint("/ready", parts.deployment.serving_port)
        )
        parts.service = NegService("svc2", parts.ns, parts.s.service, parts.deployment, parts.backend_config)
        parts.ingress()

    refuses(run_components, program, "health check '/ready' on port 8080 disagrees with the readiness probe '/healthz'")


def test_grace_period_shorter_than_draining(run_components: RunComponents) -> None:
    def program() -> None:
        s = settings()
        s = s.model_copy(update={"deployment": s.deployment.model_copy(update={"termination_grace_period_seconds": 20, "pre_stop_seconds": 5})})
        Parts(s).ingress()

    refuses(run_components, program, "terminationGracePeriodSeconds 20 is shorter than", "drainingTimeoutSec 60")


def test_same_host_and_path_routed_twice(run_components: RunComponents) -> None:
    def program() -> None:
        parts = Parts(settings())
        parts.ingress(Route(parts.service, host="dev.coditect.ai"), Route(parts.service, host="dev.coditect.ai"))

    refuses(run_components, program, "host 'dev.coditect.ai' path '/' is routed twice")


@pytest.mark.parametrize(
    "annotation",
    [
        "cloud.google.com/websocket-max-idle-timeout",
        "cloud.google.com/backend-config",
        "beta.cloud.google.com/backend-config",
        "nginx.ingress.kubernetes.io/proxy-read-timeout",
    ],
)
def test_annotations_gke_ignores_on_an_ingress(run_components: RunComponents, annotation: str) -> None:
    def program() -> None:
        Parts(settings()).ingress(extras=IngressExtras(annotations={annotation: "3600"}))

    refuses(run_components, program, f"carries annotation {annotation}, which GKE ignores on an Ingress")


@pytest.mark.parametrize("kind", [DisruptionBudget, Autoscaler])
def test_pdb_and_hpa_need_a_declared_deployment(run_components: RunComponents, kind: type) -> None:
    def program() -> None:
        if kind is DisruptionBudget:
            DisruptionBudget("pdb", "coditect-combined", 1)  # type: ignore[arg-type]
        else:
            Autoscaler("hpa", "coditect-combined", 2, 4, 70)  # type: ignore[arg-type]

    refuses(run_components, program, "not a CombinedDeployment declared in this program")


def test_prod_images_must_be_pinned_by_digest(run_components: RunComponents) -> None:
    def program() -> None:
        s = settings("dev")
        release = s.release.model_copy(update={"images": s.release.images.model_copy(update={"ide": "theia:latest"})})
        # policy/config/prod.json makes the image-digest policy mandatory: the program passes its levels in.
        levels = pack_levels(ROOT / "policy" / "config" / "prod.json")
        with declaration_plan(gke.Context(), lambda findings: InvariantError("\n".join(f.message for f in findings)), levels):
            CombinedDeployment("combined", AppNamespace("ns", s.namespace), s.deployment, release)

    with pytest.raises(InvariantError, match="container 'ide' image 'theia:latest' is not pinned by digest"):
        run_components(program, stack="prod")


def test_a_component_on_its_own_reads_no_file_of_the_repository(run_components: RunComponents) -> None:
    """Outside a plan a component judges with the pack's own levels (digests advisory), whatever the stack."""

    def program() -> None:
        s = settings("dev")
        release = s.release.model_copy(update={"images": s.release.images.model_copy(update={"ide": "theia:latest"})})
        CombinedDeployment("combined", AppNamespace("ns", s.namespace), s.deployment, release)

    run = run_components(program, stack="prod")
    assert run.of_type("kubernetes:apps/v1:Deployment")


def test_tag_images_are_allowed_outside_prod(run_components: RunComponents) -> None:
    def program() -> None:
        s = settings("dev")
        release = s.release.model_copy(update={"images": s.release.images.model_copy(update={"ide": "theia:1.5.0"})})
        CombinedDeployment("combined", AppNamespace("ns", s.namespace), s.deployment, release)

    run = run_components(program)
    assert run.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]["containers"][1]["image"] == "theia:1.5.0"


def test_invariant_errors_reach_pulumi_as_run_errors() -> None:
    """The Python language host prints a RunError's message without a traceback."""
    assert issubclass(InvariantError, pulumi.RunError)
    assert issubclass(SettingsError, pulumi.RunError)


def test_backend_config_settings_defaults_are_production() -> None:
    defaults = BackendConfigSettings()
    assert (defaults.timeout_sec, defaults.session_affinity, defaults.affinity_cookie_ttl_sec) == (86400, "CLIENT_IP", 86400)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"proxy_timeout_sec": 60}, "nginx proxy_read_timeout/proxy_send_timeout 60s is shorter than the BackendConfig timeoutSec 86400s"),
        ({"health_path": "/health"}, "nginx serves the health endpoint at '/health' but the health check probes '/healthz'"),
        ({"keepalive_timeout_sec": 65}, "nginx keepalive_timeout 65s is not longer than the load balancer's 600s backend keepalive"),
    ],
)
def test_nginx_disagreeing_with_the_backend_config(run_components: RunComponents, change: dict, fragment: str) -> None:
    from dataclasses import replace

    def program() -> None:
        s = settings()
        ns = AppNamespace("ns", s.namespace)
        nginx = NginxConfigMap("nginx", ns, "nginx", replace(nginx_site(s), **change))
        deployment = CombinedDeployment("combined", ns, s.deployment, s.release, nginx=nginx)
        bc = BackendConfig("bc", ns, s.backend_config, deployment.health)
        NegService("svc", ns, s.service, deployment, bc)

    refuses(run_components, program, "Service coditect-dev/coditect-combined-service joins a load balancer and pods that disagree", fragment)


def test_nginx_config_map_from_another_namespace(run_components: RunComponents) -> None:
    def program() -> None:
        s = settings()
        nginx = NginxConfigMap("nginx", AppNamespace("other", "coditect-other"), "nginx", nginx_site(s))
        CombinedDeployment("combined", AppNamespace("ns", s.namespace), s.deployment, s.release, nginx=nginx)

    refuses(run_components, program, "its nginx ConfigMap is in namespace 'coditect-other'")
