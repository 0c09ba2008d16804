"""The policy pack without the Pulumi CLI: its policies run over what a program registered under mocks.

Same policy objects (``src/coditect/gke/pack.py``) the CLI loads with
``pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json``, same
config file, same enforcement levels. Differences from the real analyzer: props are the SDK
inputs (the provider has not checked them); at preview, values the cloud computes are unknown, and
a policy that meets one cannot run, as in the analyzer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from coditect import internals
from coditect.gke import Finding, Level
from coditect.gke.enforcement import PackConfigError, enforced_levels, read_pack_config
from coditect.gke.pack import POLICIES
from ops.program import ROOT, Captured

__all__ = ["PackConfigError", "Violation", "load_pack_config", "run_policies"]

CONFIG_DIR = ROOT / "policy" / "config"


@dataclass(frozen=True)
class Violation:
    policy: str
    level: Level
    message: str  # "[rule-id] Kind ns/name: problem Fix: fix"
    urn: str = ""
    finding: Finding | None = None  # what the pack's rule found (None only for a foreign policy's message)

    @property
    def rule(self) -> str | None:
        return self.finding.rule if self.finding is not None else None

    def __str__(self) -> str:
        return f"{self.message} (policy {self.policy}, {self.level.value})"


def load_pack_config(stack: str, config_dir: Path = CONFIG_DIR) -> dict[str, Any]:
    """policy/config/<stack>.json, the file passed as --policy-pack-config; {} when there is none."""
    return read_pack_config(config_dir / f"{stack}.json")


def _policy_config(policy: Any, config: dict[str, Any]) -> dict[str, Any]:
    """What the CLI hands a policy as its config: its entry of the file without the level."""
    entry = config.get(policy.name)
    return {k: v for k, v in entry.items() if k != "enforcementLevel"} if isinstance(entry, dict) else {}


def _holds_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_holds_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_unknown(v) for v in value)
    return bool(value == internals.UNKNOWN_STRING_VALUE)


def _collector(violations: list[Violation], policy: Any, level: Level, resource_urn: str = "") -> Callable[..., None]:
    """The report_violation callback of one policy: a resource policy's violations belong to the
    resource judged, a stack policy names the resource with its urn."""

    def report(message: str, urn: str | None = None) -> None:
        violations.append(Violation(policy.name, level, str(message), resource_urn or urn or "", getattr(message, "finding", None)))

    return report


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])


def run_policies(
    resources: list[Captured],
    pack_config: dict[str, Any] | None = None,
    unjudged: list[str] | None = None,
) -> list[Violation]:
    """Every policy of the pack over the custom resources a program registered. A resource policy
    that meets a value unknown at preview cannot run, as in the analyzer; `unjudged` collects those."""
    pack_config = pack_config or {}
    custom = [r for r in resources if r.custom]
    levels = enforced_levels(pack_config)
    active = [(p, levels[p.name], _policy_config(p, pack_config)) for p in POLICIES if p.name in levels]
    violations: list[Violation] = []
    # As the analyzer does: each resource through every resource policy, then the stack policies.
    for r in custom:
        props = internals.unknown_checking_proxy(r.inputs)
        for policy, level, config in active:
            if isinstance(policy, ResourceValidationPolicy):
                args = ResourceValidationArgs(r.type, props, r.urn, r.name, _options(), None, config)
                try:
                    policy.validate(args, _collector(violations, policy, level, r.urn))
                except internals.unknown_value_error():
                    if unjudged is not None:
                        unjudged.append(f"policy {policy.name} on {r.type} {r.name}")
    stack_resources = [PolicyResource(r.type, internals.unknown_checking_proxy(r.inputs), r.urn, r.name, _options(), None, None, [], {}) for r in custom]
    if unjudged is not None:
        # The stack policies judge nothing in a namespace holding a value unknown at preview.
        unsure = sorted(
            {str(r.inputs.get("metadata", {}).get("namespace", "default")) for r in custom if r.type.startswith("kubernetes:") and _holds_unknown(r.inputs)}
        )
        unjudged += [f"stack policies in namespace {namespace}" for namespace in unsure]
    for policy, level, config in active:
        if isinstance(policy, StackValidationPolicy):
            policy.validate(StackValidationArgs(stack_resources, config), _collector(violations, policy, level))
    return violations
