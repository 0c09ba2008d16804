"""Per-stack enforcement levels, read from the policy pack's config file.

The file is what ``pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json``
passes to the pack: a JSON object of policy name (or ``all``) to a level, or to an object with an
``enforcementLevel`` key. `python -m ops render` generates it from the stack's settings; the
components, the offline check and the CLI read the same file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .findings import Level
from .policies import ALL as ALL_POLICIES
from .policies import BY_NAME as POLICIES_BY_NAME

# Pulumi's enforcement levels (pulumi-policy EnforcementLevel): remediate is mandatory with a fix.
PULUMI_LEVELS: Mapping[str, Level | None] = {
    "advisory": Level.ADVISORY,
    "mandatory": Level.MANDATORY,
    "remediate": Level.MANDATORY,
    "disabled": None,
}
ALL_KEY = "all"


class PackConfigError(ValueError):
    """The pack config file cannot be used; the message names the file, the key and the fix."""


def read_pack_config(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; {} when the file does not exist."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:
        raise PackConfigError(f"{path} is not valid JSON ({error}). Fix: make it an object of policy name -> settings.") from None
    if not isinstance(data, dict):
        raise PackConfigError(f"{path} must be a JSON object of policy name -> settings, found {type(data).__name__}.")
    return data


def _override(entry: Any, where: str) -> str | None:
    value = entry if isinstance(entry, str) else entry.get("enforcementLevel") if isinstance(entry, Mapping) else None
    if value is not None and value not in PULUMI_LEVELS:
        raise PackConfigError(f"{where}: enforcementLevel {value!r} is not one of {', '.join(PULUMI_LEVELS)}.")
    return value


def policy_levels(config: Mapping[str, Any], source: str = "policy pack config") -> dict[str, Level | None]:
    """Policy name -> its level after the overrides (``all`` first, then the policy's own); None: disabled."""
    unknown = sorted(set(config) - set(POLICIES_BY_NAME) - {ALL_KEY})
    if unknown:
        raise PackConfigError(f"{source}: {', '.join(unknown)} is not a policy of the pack. Fix: use one of {', '.join(POLICIES_BY_NAME)} or {ALL_KEY!r}.")
    levels: dict[str, Level | None] = {}
    for policy in ALL_POLICIES:
        level: Level | None = policy.level
        for key in (ALL_KEY, policy.name):
            override = _override(config.get(key), f"{source} key {key!r}")
            if override is not None:
                level = PULUMI_LEVELS[override]
        levels[policy.name] = level
    return levels


def enforced_levels(config: Mapping[str, Any], source: str = "policy pack config") -> dict[str, Level]:
    """The levels of the enabled policies (what ``evaluate``'s ``levels`` takes); disabled ones left out."""
    return {name: level for name, level in policy_levels(config, source).items() if level is not None}
