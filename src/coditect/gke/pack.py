"""The deployment checklist as CrossGuard policies, on any Kubernetes resource of a stack.

Every policy is derived from the rule registry (``gke``): one CrossGuard policy per ``gke.Policy``,
checking exactly the registry's rules of that policy, at its level, with its description. The same
rule code runs in the components and the offline check. Importable without starting the analyzer:
``__main__.py`` only builds the ``PolicyPack``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from . import Containment, Context, Finding, Level, Scope, evaluate_resource, evaluate_stack, gateway_limits, limits, rules_of
from . import policies as gke_policies
from .manifest import Manifest, as_manifest, field_at, is_judged_type, reference
from .model import Policy as RulePolicy  # pulumi_policy has a Policy of its own

PACK_NAME = "coditect-gke"
PULUMI_LEVEL = {Level.MANDATORY: EnforcementLevel.MANDATORY, Level.ADVISORY: EnforcementLevel.ADVISORY}

# What stack policies read from the pack config (--policy-pack-config policy/config/<stack>.json,
# written by `python -m ops render` from the stack's settings): the minimum session length, and what
# the stack declares about the pods that run user code. No defaults here: the stack's settings are
# the one owner of every value, and a policy run without them refuses instead of guessing.
# Shape of the file: https://www.pulumi.com/docs/iac/using-pulumi/crossguard/configuration/
# (top-level keys are policy names or "all"; a policy's entry holds enforcementLevel and its properties).
SESSION_PROPERTIES: dict[str, dict[str, Any]] = {
    "minSessionSec": {"type": "integer", "minimum": 1, "maximum": limits.TIMEOUT_SEC[1]},
}
CONTAINMENT_PROPERTIES: dict[str, dict[str, Any]] = {
    "sandboxRequired": {"type": "boolean"},
    "dns": {"type": "string"},  # the resolver's name; the stack's settings say which names exist
    "internetPorts": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 65535}},
    "clusterRanges": {"type": "array", "items": {"type": "string"}},
}
STACK_PROPERTIES: dict[str, dict[str, dict[str, Any]]] = {
    gke_policies.WEBSOCKET_SESSIONS.name: SESSION_PROPERTIES,
    **{
        p.name: CONTAINMENT_PROPERTIES
        for p in (
            gke_policies.IDE_EGRESS,
            gke_policies.IDE_SANDBOX,
            gke_policies.IDE_IDENTITY,
            gke_policies.NAMESPACE_DEFAULT_DENY,
            gke_policies.SHARED_TENANCY,
        )
    },
}
# Optional keys: a stack without a Gateway states no bundle, and the rules then allow only what every bundle accepts.
OPTIONAL_PROPERTIES: dict[str, dict[str, dict[str, Any]]] = {
    gke_policies.GATEWAY_ROUTING.name: {"gatewayBundle": {"type": "string", "enum": list(gateway_limits.GATEWAY_BUNDLES)}},
}
STACK_CONFIG = {
    name: PolicyConfigSchema(properties={**STACK_PROPERTIES.get(name, {}), **OPTIONAL_PROPERTIES.get(name, {})}, required=list(STACK_PROPERTIES.get(name, {})))
    for name in {**STACK_PROPERTIES, **OPTIONAL_PROPERTIES}
}
REFRESH = "run `python -m ops render <stack>` and pass --policy-pack-config policy/config/<stack>.json"


class PackConfigMissing(ValueError):
    """A stack policy's config lacks a value it judges with; the message names the key and the fix."""


def context_from(config: Mapping[str, Any], policy: str = "a stack policy") -> Context:
    """A stack policy's context from its config; PackConfigMissing when one of its keys is absent."""
    missing = [key for key in STACK_PROPERTIES.get(policy, {}) if key not in config]
    if missing:
        raise PackConfigMissing(f"the policy pack config gives {policy} no {', '.join(missing)}, so it cannot judge this stack. Fix: {REFRESH}.")
    session = config.get("minSessionSec")
    return Context(
        min_session_sec=int(session) if session is not None else None,
        containment=Containment(
            sandbox_required=bool(config["sandboxRequired"]),
            dns=str(config["dns"]),
            internet_ports=frozenset(int(p) for p in config["internetPorts"]),
            cluster_ranges=tuple(str(r) for r in config["clusterRanges"]),
        )
        if "dns" in config
        else Containment(),
        gateway_bundle=str(config["gatewayBundle"]) if config.get("gatewayBundle") is not None else None,
    )


def config_of(context: Context) -> dict[str, dict[str, Any]]:
    """The inverse of ``context_from``: each stack policy's properties for this context (what the
    pack config file holds besides levels)."""
    containment = context.containment
    values: dict[str, Any] = {
        "minSessionSec": context.min_session_sec,
        "sandboxRequired": containment.sandbox_required,
        "dns": containment.dns,
        "internetPorts": sorted(containment.internet_ports),
        "clusterRanges": list(containment.cluster_ranges),
        "gatewayBundle": context.gateway_bundle,
    }
    config = {name: {key: values[key] for key in properties if values[key] is not None} for name, properties in STACK_PROPERTIES.items()}
    for name, properties in OPTIONAL_PROPERTIES.items():  # only when stated: a stack without a Gateway keeps its file as it was
        optional = {key: values[key] for key in properties if values[key] is not None}
        if optional:
            config[name] = {**config.get(name, {}), **optional}
    return config


class FindingMessage(str):
    """A violation message that still carries its finding: the CLI's analyzer sees a plain string,
    the offline gate reads ``.finding`` instead of parsing the text."""

    finding: Finding

    def __new__(cls, finding: Finding) -> FindingMessage:
        message = super().__new__(cls, finding.message)
        message.finding = finding
        return message


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


def _resource_validator(policy: RulePolicy) -> Callable[[ResourceValidationArgs, Callable[..., None]], None]:
    rule_ids = frozenset(r.id for r in rules_of(policy))

    def validate(args: ResourceValidationArgs, report_violation: Callable[..., None]) -> None:
        manifest = as_manifest(args.resource_type, args.props)
        if manifest is None:
            return
        # Unknown values (preview) raise UnknownValueError: the analyzer reports "can't run policy
        # during preview" instead of a violation, never a false one.
        for finding in _RESOURCE_FINDINGS.get((args.props, args.urn), lambda: evaluate_resource(manifest)):
            if finding.rule in rule_ids:
                report_violation(FindingMessage(finding))

    return validate


class _Unknown:
    """Stand-in for a value unknown at preview time."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


def _materialize_item(container: Any, key: Any) -> tuple[Any, bool]:
    try:
        item = container[key]
    except UnknownValueError:
        return UNKNOWN, True
    return materialize(item)


def materialize(value: Any) -> tuple[Any, bool]:
    """Plain dicts/lists from the analyzer's proxies; unknown leaves become UNKNOWN."""
    if isinstance(value, Mapping):
        items = {key: _materialize_item(value, key) for key in value}
        return {key: plain for key, (plain, _) in items.items()}, any(unknown for _, unknown in items.values())
    if isinstance(value, Sequence) and not isinstance(value, str):
        elements = [_materialize_item(value, i) for i in range(len(value))]
        return [plain for plain, _ in elements], any(unknown for _, unknown in elements)
    return value, False


def _stack_validator(policy: RulePolicy) -> Callable[[StackValidationArgs, Callable[..., None]], None]:
    rule_ids = frozenset(r.id for r in rules_of(policy))

    def validate(args: StackValidationArgs, report_violation: Callable[..., None]) -> None:
        config = args.get_config() if hasattr(args, "get_config") else {}
        try:
            context = context_from(config, policy.name)
        except PackConfigMissing as missing:  # judged on defaults, a contained stack would pass uncontained pods
            report_violation(str(missing))
            return
        manifests: list[Manifest] = []
        urns: dict[str, str] = {}
        unsure_namespaces: set[str] = set()
        for resource in args.resources:
            if not is_judged_type(resource.resource_type):
                continue
            props, unknown = materialize(resource.props)
            manifest = as_manifest(resource.resource_type, props) or props
            namespace = field_at(manifest, "metadata", "namespace")
            if unknown:
                # Cross-references stay inside a namespace: judge nothing there until it is known.
                if namespace is UNKNOWN:
                    return
                unsure_namespaces.add(str(namespace or "default"))
            manifests.append(manifest)
            urns[reference(manifest)] = resource.urn
        findings = _STACK_FINDINGS.get((args.resources, context), lambda: evaluate_stack(manifests, context))
        for finding in findings:
            if finding.rule not in rule_ids:
                continue
            if any(finding.resource.split(" ", 1)[-1].startswith(f"{ns}/") for ns in unsure_namespaces):
                continue
            report_violation(FindingMessage(finding), urns.get(finding.resource))

    return validate


def build_policies() -> list[Policy]:
    policies: list[Policy] = []
    for policy in gke_policies.ALL:
        level = PULUMI_LEVEL[policy.level]
        if policy.scope is Scope.RESOURCE:
            policies.append(ResourceValidationPolicy(policy.name, policy.description, _resource_validator(policy), level))
        else:
            policies.append(
                StackValidationPolicy(policy.name, policy.description, _stack_validator(policy), level, config_schema=STACK_CONFIG.get(policy.name))
            )
    return policies


POLICIES = build_policies()
