"""SocketIoApp: the whole application (namespace, Deployment, Service, front doors, Google Cloud
resources) as one public component, from the settings a consumer chooses (SocketIoAppArgs, generated
from coditect.settings.AppSettings: the stack settings' definition, so the same defaults and refusals).

Every object is judged by the GKE rules as one stack before any is declared (coditect.plan), then
declared under this component. The objects used to be declared at the stack root: each former
top-level child carries ``Alias(parent=ROOT_STACK_RESOURCE)``, and its own children inherit that alias
(pulumi/runtime/resource.py, all_aliases / inherited_child_alias; the engine does the same with alias
specs), so a deployed stack moves under the component without replacing anything.
"""

# No `from __future__ import annotations`: the component analyzer reads the output annotations as objects.

from collections.abc import Callable, Mapping
from typing import Any, TypedDict, cast

import pulumi
from pulumi import ResourceOptions
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from coditect import gke
from coditect.args import SocketIoAppArgs
from coditect.backend_config import BackendConfig
from coditect.base import InvariantError, type_token
from coditect.certificate_manager import CertificateMap
from coditect.deployment import Autoscaler, CombinedDeployment, DisruptionBudget
from coditect.front_doors import backend_config, front_doors
from coditect.gateway import WebsocketGateway
from coditect.gcp import CloudArmor, SocketIOMonitoring, StaticIp, Tls
from coditect.gke import Finding, Level
from coditect.gke.manifest import Manifest
from coditect.ingress import WebsocketIngress
from coditect.inspection import InspectionMarker
from coditect.namespace import AppNamespace
from coditect.network_policy import EgressPolicy, LoadBalancerNetworkPolicy, NamespaceDefaultDeny
from coditect.nginx import NginxConfigMap, NginxSite
from coditect.plan import declaration_plan
from coditect.service import NegService
from coditect.settings import GATEWAY, INGRESS, AppSettings
from coditect.settings.errors import Problem, problems, shown_value

Declared = Callable[[], list[Manifest]]
# The after-up hook, made once the stack's manifests are known: given what returns them when the hook runs.
AfterUp = Callable[[Declared], pulumi.ResourceHookBinding | None]
Refusal = Callable[[list[Finding]], Exception]


class SocketIoAppError(InvariantError):
    """The args of a SocketIoApp are refused: one line per problem, each naming args.<key> and the fix."""


def _path(parts: list[str]) -> str:
    return ".".join(to_camel(part) for part in parts)


UNKNOWN_SETTING = "is not a known setting (typo?)"  # coditect.settings.errors.problems' message for extra_forbidden


def problem_line(where: str, path: str, problem: Problem) -> str:
    """One refusal line for a problem of the args under the camelCase `path` ('' for the whole args):
    `args.<path>: <what is wrong>. Fix: <the change>`."""
    key = f"args.{path}" if path else "args"
    fix = f"remove {key} or correct its name" if problem.kind == "unknown" else f"set {key}"
    return f"{where}: {key}: {problem.message}{problem.got}. Fix: {fix}"


def unknown_arg_line(name: str, path: str, value: Any) -> str:
    """The line for a key that is no arg, at the camelCase `path` another language sent (the component
    provider's check, coditect.provider): the same words Python's args get from AppSettings."""
    got = "" if isinstance(value, Mapping) else f" (got {shown_value(value)})"
    return problem_line(f"SocketIoApp {name}", path, Problem(path, UNKNOWN_SETTING, "unknown", got))


def unknown_values(value: Any, parts: list[str]) -> list[str]:
    """The camelCase paths of every Output or awaitable in `value`: the rules judge plain values
    before anything is declared. A component provider passes an input as an Output when it carries
    dependencies or is secret, and as a plain value otherwise (pulumi/provider/server.py _select_value)."""
    if isinstance(value, pulumi.Output) or hasattr(value, "__await__"):
        return [_path(parts)]
    if isinstance(value, Mapping):
        return [p for key, item in value.items() for p in unknown_values(item, [*parts, str(key)])]
    if isinstance(value, (list, tuple)):
        return [p for index, item in enumerate(value) for p in unknown_values(item, [*parts[:-1], f"{parts[-1]}[{index}]"] if parts else [f"[{index}]"])]
    return []


def app_settings(name: str, args: Mapping[str, Any]) -> AppSettings:
    """`args` judged by AppSettings, as the stack settings are: SocketIoAppError naming each args key."""
    where = f"SocketIoApp {name}"
    if not isinstance(args, Mapping):
        raise SocketIoAppError(f"{where}: args is {type(args).__name__}, not a mapping of settings. Fix: pass SocketIoAppArgs (a dict)")
    unknown = unknown_values(args, [])
    if unknown:
        raise SocketIoAppError(
            "\n".join(
                f"{where}: args.{key}: is an Output (a value another resource computes, or a secret): the GKE rules judge plain "
                "values before anything is declared. Fix: pass a plain value"
                for key in unknown
            )
        )
    try:
        return AppSettings.model_validate(dict(args))
    except ValidationError as error:
        lines = [problem_line(where, _path(problem.key.split(".")) if problem.key else "", problem) for problem in problems(error)]
        raise SocketIoAppError("\n".join(lines)) from None


# The stack setting behind the field each rule judges, for the objects SocketIoApp declares: a
# finding on them is reported under the key a user changes (the rules stay the one owner of the check).
CONFIG_KEY_OF_RULE: dict[str, str] = {
    "backendconfig-affinity-replicas": "backendConfig.sessionAffinity",
    "backendconfig-websocket-timeout": "backendConfig.timeoutSec",
    "backendconfig-health-check-timeout": "backendConfig.healthCheck.timeoutSec",
    "grace-period-covers-draining": "deployment.terminationGracePeriodSeconds",
    "prestop-covers-draining": "deployment.preStopSeconds",
    "frontendconfig-redirect-needs-http": "gcp.tls.allowHttp",
    "ingress-allow-http-without-tls": "gcp.tls.allowHttp",
    "ingress-duplicate-host": "hosts",
    "ssl-policy-tls13-profile": "gcp.tls.sslPolicyProfile",
    "image-digest": "release.images.{subject}",  # the finding's subject is the container: nginx or ide
    # The Gateway's objects (src/coditect/gateway.py), made from the same keys.
    "gcpbackendpolicy-websocket-timeout": "backendConfig.timeoutSec",
    "healthcheckpolicy-numbers": "backendConfig.healthCheck.timeoutSec",
    "httproute-redirect-bundle": "gateway.redirectStatusCode",
    "gateway-address-distinct": "gateway.staticIpName",
}


def config_key(finding: Finding) -> str | None:
    template = CONFIG_KEY_OF_RULE.get(finding.rule)
    if template is None:
        return None
    return template.format(subject=finding.subject or "")


def finding_line(name: str, finding: Finding) -> str:
    """A finding under the arg that causes it, with one Fix: the rule's own fix (in terms of the manifest)
    is folded into the change of that arg rather than printed as a second "Fix:"."""
    key = config_key(finding)
    if key is None:
        return f"SocketIoApp {name}: {finding.message}"
    return f"SocketIoApp {name}: args.{key}: [{finding.rule}] {finding.resource}: {finding.problem} Fix: change args.{key} ({finding.fix.rstrip('.')})"


def component_refusal(name: str) -> Refusal:
    """The findings of the GKE rules on what the args declare, each under the arg that causes it."""

    def refuse(findings: list[Finding]) -> Exception:
        return SocketIoAppError("\n".join(finding_line(name, finding) for finding in findings))

    return refuse


def stack_context(settings: AppSettings) -> gke.Context:
    """What the rules need to know beyond the manifests, from the settings (the offline check passes the
    same values to the policy pack as its config)."""
    containment = settings.containment
    return gke.Context(
        min_session_sec=settings.socketio.min_session_sec,
        containment=gke.Containment(
            sandbox_required=containment.sandbox,
            dns=containment.dns,
            internet_ports=frozenset(containment.internet_ports),
            cluster_ranges=containment.cluster_ranges,
        ),
        gateway_bundle=settings.gateway.bundle_version if GATEWAY in settings.front_doors else None,
    )


def socketio_url(settings: AppSettings) -> str:
    """The Socket.IO URL `ops verify` takes: https only with gcp.tls on. With it off the Ingress has no
    certificate and serves HTTP alone (a Gateway needs TLS, so the settings refuse it there)."""
    scheme = "https" if settings.gcp.tls.enabled else "http"
    return f"{scheme}://{settings.hosts[0]}{settings.socketio.path}"


class CertificateDnsRecord(TypedDict):
    """A record the Gateway's certificate needs (https://cloud.google.com/certificate-manager/docs/dns-authorizations)."""

    host: str
    """The host it authorizes."""
    name: str
    """The record's name (_acme-challenge.<host>.)."""
    type: str
    """The record's type: CNAME."""
    data: str
    """The record's value: the name under authorize.certificatemanager.goog it points to."""


def nginx_site(settings: AppSettings) -> NginxSite:
    """nginx in the pod, from the same settings as the health check and the BackendConfig."""
    return NginxSite(
        listen_port=settings.deployment.serving_port,
        health_path=settings.deployment.health_path,
        socketio_path=settings.socketio.path,
        upstream_port=settings.deployment.ide_port,
        proxy_timeout_sec=settings.backend_config.timeout_sec,
    )


def _cloud_armor(settings: AppSettings, opts: ResourceOptions) -> CloudArmor | None:
    """The policy while it is attached, and while it is detached but not yet deleted (two steps:
    Compute refuses to delete a policy a backend service still uses, and GKE detaches asynchronously)."""
    armor, name = settings.gcp.cloud_armor, f"{settings.gcp_prefix}-armor"
    if not armor.enabled and not armor.keep_detached_policy:
        return None
    if not armor.enabled:
        pulumi.log.warn(
            f"Cloud Armor policy {name} is detached from the backend (gcp.cloudArmor.enabled is false) and kept. Once GKE has "
            "applied the BackendConfig (the backend service shows no securityPolicy), set gcp.cloudArmor.keepDetachedPolicy "
            "to false and run pulumi up again to delete it."
        )
    return CloudArmor("cloud-armor", name, settings.socketio.path, armor, opts=opts)


class SocketIoApp(pulumi.ComponentResource):
    """A real-time (Socket.IO / WebSocket) web application on GKE behind Google's L7 load balancer: the
    IDE and nginx in one hardened Deployment, its NEG Service, the Ingress with its BackendConfig and/or
    the Gateway, and the Google Cloud resources around them (static IP, TLS, Cloud Armor, monitoring),
    refused before anything is declared when GKE would break on them. The Kubernetes provider comes
    from opts (providers); the component creates none."""

    namespace: pulumi.Output[str]
    """The Namespace every object is in."""
    service_name: pulumi.Output[str]
    """The NEG Service the front doors route to."""
    ingress_name: pulumi.Output[str | None]
    """The Ingress, when frontDoors has ingress."""
    backend_config_name: pulumi.Output[str | None]
    """The Ingress's BackendConfig, when frontDoors has ingress."""
    gateway_name: pulumi.Output[str | None]
    """The Gateway, when frontDoors has gateway."""
    static_ip_address: pulumi.Output[str | None]
    """The Ingress's reserved IPv4 address (point DNS for every host here), when frontDoors has ingress and gcp.staticIp is on."""
    gateway_ip_address: pulumi.Output[str | None]
    """The Gateway's reserved IPv4 address (test it, then move DNS here), when frontDoors has gateway."""
    gateway_certificate_dns_records: pulumi.Output[list[CertificateDnsRecord] | None]
    """The CNAME records to create so the Gateway's certificate becomes ACTIVE (one per host), when frontDoors has gateway."""
    url: pulumi.Output[str]
    """The Socket.IO URL to verify (ops verify <url>): https://<first host><socketio.path>, http:// when gcp.tls is off."""
    # Each address output is None while that address is only kept for a rollback (front_doors._addresses): nothing serves it.

    def __init__(
        self,
        name: str,
        args: SocketIoAppArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        levels: Mapping[str, Level] | None = None,
        after_up: AfterUp | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        """`levels`: the policies' enforcement levels (coditect.base.pack_levels); None: the pack's own.
        `after_up`: makes the after-up inspection hook from the declared manifests (bound to the
        InspectionMarker, the stack's last object); None declares none. `refusal`: the error for the
        GKE rules' mandatory findings; None names each by its args key."""
        settings = app_settings(name, args)  # before anything is registered: refused args declare nothing
        super().__init__(type_token("SocketIoApp"), name, None, opts)
        self.settings = settings
        with declaration_plan(stack_context(settings), refusal or component_refusal(name), dict(levels) if levels is not None else None) as plan:
            hooks = after_up(lambda: plan.manifests) if after_up else None
            self._declare(settings, hooks)
        self._outputs()

    def _child(self, **options: Any) -> ResourceOptions:
        """A former top-level object: under this component, aliased to its URN at the stack root."""
        return ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)], **options)

    def _declare(self, settings: AppSettings, hooks: pulumi.ResourceHookBinding | None) -> None:
        on_cluster = self._child
        ns = AppNamespace("namespace", settings.namespace, opts=on_cluster())
        nginx = NginxConfigMap("nginx-config", ns, f"{settings.deployment.name}-nginx", nginx_site(settings), opts=on_cluster())
        deployment = CombinedDeployment(
            "combined",
            namespace=ns,
            settings=settings.deployment,
            release=settings.release,
            nginx=nginx,
            autoscaled=settings.autoscaling.enabled,
            sandboxed=settings.containment.sandbox,
            opts=on_cluster(),
        )
        gcp_settings, prefix = settings.gcp, settings.gcp_prefix
        cloud_armor = _cloud_armor(settings, on_cluster())
        config = backend_config(settings, ns, deployment, cloud_armor, on_cluster)
        service = NegService("service", namespace=ns, settings=settings.service, deployment=deployment, backend_config=config, opts=on_cluster())
        doors = front_doors(settings, ns, service, cloud_armor, on_cluster)
        monitoring = (
            SocketIOMonitoring("monitoring", settings.hosts[0], settings.socketio.path, gcp_settings.monitoring, prefix, opts=on_cluster())
            if gcp_settings.monitoring.enabled
            else None
        )
        budget = DisruptionBudget("disruption-budget", deployment, settings.deployment.min_available, opts=on_cluster())
        autoscaler = (
            Autoscaler(
                "autoscaler",
                deployment,
                settings.autoscaling.min_replicas,
                settings.autoscaling.max_replicas,
                settings.autoscaling.target_cpu_utilization,
                opts=on_cluster(),
            )
            if settings.autoscaling.enabled
            else None
        )
        inspection = InspectionMarker("inspection", ns, config, service, doors.ingress, hooks, on_cluster(), gateway=doors.gateway)
        policy = LoadBalancerNetworkPolicy("network-policy", deployment, opts=on_cluster())
        EgressPolicy("egress-policy", deployment, settings.containment, opts=on_cluster())
        NamespaceDefaultDeny("default-deny", ns, opts=on_cluster())
        self.namespace_component: AppNamespace = ns
        self.deployment: CombinedDeployment = deployment
        self.backend_config: BackendConfig | None = config
        self.service: NegService = service
        self.nginx: NginxConfigMap = nginx
        self.ingress: WebsocketIngress | None = doors.ingress
        self.disruption_budget: DisruptionBudget = budget
        self.autoscaler: Autoscaler | None = autoscaler
        self.network_policy: LoadBalancerNetworkPolicy = policy
        self.static_ip: StaticIp | None = doors.static_ip
        self.tls: Tls | None = doors.tls
        self.cloud_armor: CloudArmor | None = cloud_armor
        self.monitoring: SocketIOMonitoring | None = monitoring
        self.inspection: InspectionMarker | None = inspection
        self.gateway: WebsocketGateway | None = doors.gateway
        self.gateway_static_ip: StaticIp | None = doors.gateway_static_ip
        self.certificate_map: CertificateMap | None = doors.certificate_map

    @property
    def socketio_url(self) -> str:
        return socketio_url(self.settings)

    def _outputs(self) -> None:
        """The typed outputs, registered last (after every child is declared)."""

        def known(value: str | None) -> pulumi.Output[str | None]:
            return pulumi.Output.from_input(value)

        self.namespace = pulumi.Output.from_input(self.namespace_component.name)
        self.service_name = pulumi.Output.from_input(self.service.name)
        self.ingress_name = known(self.ingress.name if self.ingress else None)
        self.backend_config_name = known(self.backend_config.name if self.backend_config else None)
        self.gateway_name = known(self.gateway.name if self.gateway else None)
        # An address kept only for a rollback (front_doors._addresses) serves nothing: no output, so no DNS points at it.
        serving_ip = self.static_ip if self.static_ip and INGRESS in self.settings.front_doors else None
        gateway_ip = self.gateway_static_ip if self.gateway_static_ip and self.gateway else None
        self.static_ip_address = serving_ip.address.address if serving_ip else known(None)
        self.gateway_ip_address = gateway_ip.address.address if gateway_ip else known(None)
        # CertificateMap makes each record with exactly CertificateDnsRecord's keys (certificate_manager.DnsRecord).
        records = cast(pulumi.Output[list[CertificateDnsRecord] | None], self.certificate_map.dns_records) if self.gateway and self.certificate_map else None
        self.gateway_certificate_dns_records = records if records is not None else pulumi.Output.from_input(None)
        self.url = pulumi.Output.from_input(self.socketio_url)
        self.register_outputs(
            {
                "namespace": self.namespace,
                "serviceName": self.service_name,
                "ingressName": self.ingress_name,
                "backendConfigName": self.backend_config_name,
                "gatewayName": self.gateway_name,
                "staticIpAddress": self.static_ip_address,
                "gatewayIpAddress": self.gateway_ip_address,
                "gatewayCertificateDnsRecords": self.gateway_certificate_dns_records,
                "url": self.url,
            }
        )
