"""The policy pack without the Pulumi CLI: its policies run over what a program registered under mocks.

Same policy objects (``policy/coditect_policies.py``) the CLI loads with
``pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json``, same
config file, same enforcement levels. Differences from the real analyzer: props are the SDK
inputs (the provider has not checked them) and, since mocks run with preview off, nothing is unknown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from coditect_policies import POLICIES
from gke import Level
from ops.program import ROOT, Captured

CONFIG_DIR = ROOT / "policy" / "config"


@dataclass(frozen=True)
class Violation:
    policy: str
    level: Level
    message: str  # "[rule-id] Kind ns/name: problem Fix: fix"
    urn: str = ""

    def __str__(self) -> str:
        return f"{self.message} (policy {self.policy}, {self.level.value})"


class PackConfigError(Exception):
    pass


def load_pack_config(stack: str, config_dir: Path = CONFIG_DIR) -> dict[str, Any]:
    """policy/config/<stack>.json, the file passed as --policy-pack-config; {} when there is none."""
    path = config_dir / f"{stack}.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError as error:
        raise PackConfigError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise PackConfigError(f"{path} must be a JSON object of policy name -> settings")
    return data


def _level(policy: Any, config: dict[str, Any]) -> Level | None:
    """The policy's level after the pack config's overrides; None when disabled."""
    level = policy.enforcement_level or EnforcementLevel.ADVISORY
    for key in ("all", policy.name):
        entry = config.get(key)
        override = entry if isinstance(entry, str) else (entry or {}).get("enforcementLevel") if isinstance(entry, dict) else None
        if override:
            level = EnforcementLevel(override)
    if level == EnforcementLevel.DISABLED:
        return None
    return Level.MANDATORY if level in (EnforcementLevel.MANDATORY, EnforcementLevel.REMEDIATE) else Level.ADVISORY


def _policy_config(policy: Any, config: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    entry = config.get(policy.name)
    values = {k: v for k, v in entry.items() if k != "enforcementLevel"} if isinstance(entry, dict) else {}
    return {**defaults, **values}


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])


def run_policies(
    resources: list[Captured], pack_config: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None
) -> list[Violation]:
    """Every policy of the pack over the custom resources a program registered."""
    pack_config = pack_config or {}
    custom = [r for r in resources if r.custom]
    active = [(p, _level(p, pack_config), _policy_config(p, pack_config, defaults or {}))
              for p in POLICIES if _level(p, pack_config) is not None]
    violations: list[Violation] = []
    # As the analyzer does: each resource through every resource policy, then the stack policies.
    for r in custom:
        props = unknown_checking_proxy(r.inputs)
        for policy, level, config in active:
            if isinstance(policy, ResourceValidationPolicy):
                args = ResourceValidationArgs(r.type, props, r.urn, r.name, _options(), None, config)
                policy.validate(args, lambda message, urn=None, policy=policy, level=level, r=r:
                                violations.append(Violation(policy.name, level, message, r.urn)))
    stack_resources = [
        PolicyResource(r.type, unknown_checking_proxy(r.inputs), r.urn, r.name, _options(), None, None, [], {}) for r in custom
    ]
    for policy, level, config in active:
        if not isinstance(policy, ResourceValidationPolicy):
            policy.validate(StackValidationArgs(stack_resources, config), lambda message, urn=None, policy=policy, level=level:
                            violations.append(Violation(policy.name, level, message, urn or "")))
    return violations
