"""The whole application: every component wired from one Settings object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from components.backend_config import BackendConfig
from components.deployment import Autoscaler, CombinedDeployment, DisruptionBudget
from components.ingress import Route, WebsocketIngress
from components.namespace import AppNamespace
from components.network_policy import LoadBalancerNetworkPolicy
from components.service import NegService
from components.settings import Settings


@dataclass(frozen=True)
class App:
    settings: Settings
    namespace: AppNamespace
    deployment: CombinedDeployment
    backend_config: BackendConfig
    service: NegService
    ingress: WebsocketIngress
    disruption_budget: DisruptionBudget
    autoscaler: Optional[Autoscaler]
    network_policy: LoadBalancerNetworkPolicy

    @property
    def socketio_url(self) -> str:
        return f"https://{self.settings.hosts[0]}{self.settings.socketio.path}"


def build_app(settings: Settings) -> App:
    ns = AppNamespace("namespace", settings.namespace)
    deployment = CombinedDeployment(
        "combined",
        namespace=ns,
        settings=settings.deployment,
        release=settings.release,
        require_digest=settings.environment == "prod",
        autoscaled=settings.autoscaling.enabled,
    )
    backend_config = BackendConfig(
        "backend-config",
        namespace=ns,
        settings=settings.backend_config,
        health=deployment.health,
        min_session_sec=settings.socketio.min_session_sec,
    )
    service = NegService(
        "service", namespace=ns, settings=settings.service, deployment=deployment, backend_config=backend_config
    )
    ingress = WebsocketIngress(
        "ingress",
        namespace=ns,
        name=settings.ingress.name,
        default_route=Route(service),
        routes=tuple(Route(service, host=host) for host in settings.hosts),
        min_session_sec=settings.socketio.min_session_sec,
    )
    budget = DisruptionBudget("disruption-budget", deployment, settings.deployment.min_available)
    autoscaler = (
        Autoscaler(
            "autoscaler",
            deployment,
            settings.autoscaling.min_replicas,
            settings.autoscaling.max_replicas,
            settings.autoscaling.target_cpu_utilization,
        )
        if settings.autoscaling.enabled
        else None
    )
    policy = LoadBalancerNetworkPolicy("network-policy", deployment)
    return App(settings, ns, deployment, backend_config, service, ingress, budget, autoscaler, policy)
