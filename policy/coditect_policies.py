"""The deployment checklist as CrossGuard policies, on any Kubernetes resource of a stack.

Every policy runs the same rule code as the components and the offline check (``gke.rules``);
a policy is a named group of rule ids with one enforcement level and a description of why the
rules matter (the GKE behaviour behind them). Importable without starting the analyzer:
``__main__.py`` only builds the ``PolicyPack``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from gke import Finding, limits, rules
from gke.rules import Manifest

PACK_NAME = "coditect-gke"
DEFAULT_MIN_SESSION_SEC = limits.DEFAULT_MIN_SESSION_SEC
MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY


@dataclass(frozen=True)
class Rule:
    """A named group of gke.rules ids, checked per resource or over the whole stack."""

    name: str
    description: str
    rule_ids: frozenset[str]
    level: EnforcementLevel
    scope: str  # "resource" or "stack"


RULES: tuple[Rule, ...] = (
    # --- per resource ---------------------------------------------------------------------
    Rule("backendconfig-limits",
         "BackendConfig values inside GKE's limits. GLBC rejects a bad affinity type or cookie TTL and then fails the whole "
         "Ingress; the Compute API rejects drainingTimeoutSec > 3600 and health-check timeout > interval at sync time "
         "(ingress-gce pkg/backendconfig/validation.go; Compute BackendService).",
         frozenset({"backendconfig-spec", "backendconfig-timeout-range", "backendconfig-draining-range", "backendconfig-affinity-type",
                    "backendconfig-cookie-ttl-range", "backendconfig-health-check-type", "backendconfig-health-check-path",
                    "backendconfig-health-check-port", "backendconfig-health-check-range", "backendconfig-health-check-timeout",
                    "backendconfig-logging-sample-rate", "backendconfig-iap-cdn"}),
         MANDATORY, "resource"),
    Rule("backendconfig-explicit",
         "timeoutSec and healthCheck set explicitly. Without timeoutSec Compute keeps 30 s, the lifetime of every WebSocket on "
         "the external ALB; without healthCheck GKE probes '/' and a redirect there marks pods UNHEALTHY. Removing a block later "
         "does not reset what GKE applied (ingress-gce pkg/backends/features).",
         frozenset({"backendconfig-timeout-explicit", "backendconfig-health-check-explicit"}), MANDATORY, "resource"),
    Rule("backendconfig-draining",
         "connectionDraining set explicitly, so pods being replaced finish their requests.",
         frozenset({"backendconfig-draining-explicit"}), ADVISORY, "resource"),
    Rule("backendconfig-cookie-ttl",
         "affinityCookieTtlSec only with GENERATED_COOKIE: Compute applies it to cookie affinity only.",
         frozenset({"backendconfig-cookie-ttl-unused"}), ADVISORY, "resource"),
    Rule("service-gke-annotations",
         "Service annotations GKE parses: NEG and backend-config must be valid JSON naming something; backend-config port keys "
         "are Service port names or numbers; app-protocols values HTTP/HTTPS/HTTP2 (ingress-gce pkg/annotations/service.go; "
         "translation errors 'BackendConfig annotation is invalid json', 'could not parse app-protocols').",
         frozenset({"service-neg-annotation", "service-backend-config-annotation", "service-backend-config-port", "service-app-protocols"}),
         MANDATORY, "resource"),
    Rule("service-websocket-protocol",
         "No HTTP2 backend protocol on a WebSocket port: upgrades then fail with 502 (kubernetes/ingress-gce#855).",
         frozenset({"service-app-protocols-websocket"}), MANDATORY, "resource"),
    Rule("service-controller-annotations",
         "cloud.google.com/neg-status is written by the NEG controller; a manifest must not own it.",
         frozenset({"service-neg-status-owned"}), ADVISORY, "resource"),
    Rule("ingress-gce-class",
         "kubernetes.io/ingress.class: gce and no spec.ingressClassName: GKE ignores an Ingress with only ingressClassName, "
         "silently (ingress-gce pkg/utils/utils.go IsGCEIngress; kubernetes/ingress-gce#1891).",
         frozenset({"ingress-class"}), MANDATORY, "resource"),
    Rule("ingress-class-hygiene",
         "The class annotation set explicitly and no ignored ingressClassName beside it.",
         frozenset({"ingress-class-name-ignored", "ingress-class-explicit"}), ADVISORY, "resource"),
    Rule("ingress-ignored-annotations",
         "No annotations GKE ignores on an Ingress: backend-config is read from the Service only, "
         "cloud.google.com/websocket-max-idle-timeout does not exist, nginx.ingress.kubernetes.io/* belongs to another "
         "controller. Each one means a setting someone believes is applied is not (ingress-gce pkg/annotations/ingress.go).",
         frozenset({"ingress-ignored-annotation"}), MANDATORY, "resource"),
    Rule("ingress-default-backend",
         "An explicit spec.defaultBackend: otherwise GKE needs kube-system/default-http-backend and fails the whole Ingress "
         "when it is missing (ingress-gce translator.go).",
         frozenset({"ingress-default-backend"}), MANDATORY, "resource"),
    Rule("ingress-spec",
         "Ingress rules GKE can translate: service backends only, an http block per rule, one rule per host (the last wins), "
         "valid pathType, one static-IP annotation, TLS when HTTP is off (ingress-gce translator.go, gceurlmap.go, l7.go).",
         frozenset({"ingress-rule-http", "ingress-duplicate-host", "ingress-path-type", "ingress-backend-service", "ingress-static-ip",
                    "ingress-allow-http-without-tls"}),
         MANDATORY, "resource"),
    Rule("container-hardening",
         "Containers with readiness and liveness probes, cpu/memory requests and limits, and a hardened security context.",
         frozenset({"container-probes", "container-resources", "container-security-context"}), ADVISORY, "resource"),
    Rule("image-digest",
         "Images pinned by digest, so what was reviewed is what runs (made mandatory for prod by policy/config/prod.json).",
         frozenset({"image-digest"}), ADVISORY, "resource"),
    # --- over the stack -------------------------------------------------------------------
    Rule("ingress-backends-exist",
         "Every Ingress backend names a Service declared in the Ingress's namespace, on one of its ports. One missing Service "
         "fails the whole Ingress ('Translation failed: could not find service'), so no BackendConfig reaches the load "
         "balancer: the coditect-api-v2 outage (ingress-gce translator.go; kubernetes/ingress-gce#646).",
         frozenset({"ingress-backend-service-exists", "ingress-backend-port-exists"}), MANDATORY, "stack"),
    Rule("ingress-references",
         "The FrontendConfig and ManagedCertificates an Ingress names exist in its namespace, and HTTP stays on while the "
         "FrontendConfig redirects to HTTPS (GKE puts the redirect on the HTTP frontend; managed-certs is all-or-nothing; "
         "ingress-gce controller.go, l7.go; gke-managed-certs sync.go).",
         frozenset({"ingress-frontend-config-exists", "ingress-managed-certificate-exists", "frontendconfig-redirect-needs-http"}),
         MANDATORY, "stack"),
    Rule("ingress-services-ready",
         "Services behind the Ingress have NEG (a ClusterIP without it fails translation) and a BackendConfig (otherwise "
         "30 s timeout and no affinity).",
         frozenset({"ingress-service-neg", "ingress-service-backend-config"}), MANDATORY, "stack"),
    Rule("backendconfig-references",
         "A Service's backend-config annotation names a BackendConfig declared in the Service's namespace "
         "('no BackendConfig for service port exists' fails the Ingress).",
         frozenset({"service-backend-config-exists"}), MANDATORY, "stack"),
    Rule("service-endpoints",
         "A Service selects the pods of a declared Deployment and targets a port a container declares; otherwise its NEG is empty.",
         frozenset({"service-selector-matches", "service-target-port"}), MANDATORY, "stack"),
    Rule("autoscaler-disruption-targets",
         "HPAs and PDBs target a workload declared in the stack; orphans scale or protect nothing.",
         frozenset({"hpa-target-exists", "pdb-target-exists"}), MANDATORY, "stack"),
    Rule("websocket-sessions",
         "Socket.IO sessions survive: sticky sessions with more than one replica, a backend timeout covering the minimum "
         "session (on the external ALB it is the WebSocket's maximum lifetime), a health check agreeing with the readiness "
         "probe, and a grace period covering connection draining.",
         frozenset({"backendconfig-affinity-replicas", "backendconfig-websocket-timeout", "health-check-matches-readiness",
                    "grace-period-covers-draining"}),
         MANDATORY, "stack"),
)

CONFIG_SCHEMA = PolicyConfigSchema(
    properties={"minSessionSec": {"type": "integer", "minimum": 1, "maximum": 86400, "default": DEFAULT_MIN_SESSION_SEC}},
)


def _message(finding: Finding) -> str:
    return f"[{finding.rule}] {finding}"


def is_kubernetes(resource_type: str, props: Mapping[str, Any]) -> bool:
    return resource_type.startswith("kubernetes:") and not resource_type.startswith("pulumi:providers:")


class _LastResult:
    """The findings for the object last evaluated. Every policy of the pack looks at the same
    resource (or stack) in turn, so the rules run once per object instead of once per policy."""

    def __init__(self) -> None:
        self.key: Any = None
        self.value: list[Finding] = []

    def get(self, key: Any, compute: Callable[[], list[Finding]]) -> list[Finding]:
        if self.key is None or self.key[0] is not key[0] or self.key[1:] != key[1:]:
            self.value, self.key = compute(), key
        return self.value


_RESOURCE_FINDINGS = _LastResult()
_STACK_FINDINGS = _LastResult()


def _resource_validator(rule: Rule) -> Callable[[ResourceValidationArgs, Callable[..., None]], None]:
    def validate(args: ResourceValidationArgs, report_violation: Callable[..., None]) -> None:
        if not is_kubernetes(args.resource_type, args.props):
            return
        # Unknown values (preview) raise UnknownValueError: the analyzer reports "can't run policy
        # during preview" instead of a violation, never a false one.
        for finding in _RESOURCE_FINDINGS.get((args.props, args.urn), lambda: rules.resource(args.props)):
            if finding.rule in rule.rule_ids:
                report_violation(_message(finding))

    return validate


class _Unknown:
    """Stand-in for a value unknown at preview time."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


def materialize(value: Any) -> tuple[Any, bool]:
    """Plain dicts/lists from the analyzer's proxies; unknown leaves become UNKNOWN."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        unknown = False
        for key in value:
            try:
                item = value[key]
            except UnknownValueError:
                out[key], unknown = UNKNOWN, True
                continue
            out[key], inner = materialize(item)
            unknown |= inner
        return out, unknown
    if isinstance(value, Sequence) and not isinstance(value, str):
        items, unknown = [], False
        for i in range(len(value)):
            try:
                item = value[i]
            except UnknownValueError:
                items.append(UNKNOWN)
                unknown = True
                continue
            plain, inner = materialize(item)
            items.append(plain)
            unknown |= inner
        return items, unknown
    return value, False


def _stack_validator(rule: Rule) -> Callable[[StackValidationArgs, Callable[..., None]], None]:
    def validate(args: StackValidationArgs, report_violation: Callable[..., None]) -> None:
        config = args.get_config() if hasattr(args, "get_config") else {}
        min_session = int(config.get("minSessionSec", DEFAULT_MIN_SESSION_SEC))
        manifests: list[Manifest] = []
        urns: dict[str, str] = {}
        unsure_namespaces: set[str] = set()
        for resource in args.resources:
            if not is_kubernetes(resource.resource_type, resource.props):
                continue
            manifest, unknown = materialize(resource.props)
            namespace = rules.dig(manifest, "metadata", "namespace")
            if unknown:
                # Cross-references stay inside a namespace: judge nothing there until it is known.
                if namespace is UNKNOWN:
                    return
                unsure_namespaces.add(str(namespace or "default"))
            manifests.append(manifest)
            urns[rules.rid(manifest)] = resource.urn
        findings = _STACK_FINDINGS.get((args.resources, min_session), lambda: rules.stack(manifests, min_session))
        for finding in findings:
            if finding.rule not in rule.rule_ids:
                continue
            if any(finding.resource.split(" ", 1)[-1].startswith(f"{ns}/") for ns in unsure_namespaces):
                continue
            report_violation(_message(finding), urns.get(finding.resource))

    return validate


def build_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    policies: list[ResourceValidationPolicy | StackValidationPolicy] = []
    for rule in RULES:
        if rule.scope == "resource":
            policies.append(ResourceValidationPolicy(rule.name, rule.description, _resource_validator(rule), rule.level))
        else:
            policies.append(StackValidationPolicy(
                rule.name, rule.description, _stack_validator(rule), rule.level,
                config_schema=CONFIG_SCHEMA if rule.name == "websocket-sessions" else None,
            ))
    return policies


POLICIES = build_policies()
RULES_BY_NAME = {rule.name: rule for rule in RULES}
