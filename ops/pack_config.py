"""policy/config/<stack>.json: the policy pack's config for a stack, generated from its settings.

`pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json` gives the
pack nothing but this file, so it holds everything the pack judges with beyond the manifests: the
values the components judge with (``coditect.app.stack_context``) and the per-stack enforcement
levels. `python -m ops render` writes it with the rendered files; `python -m ops check` and the
components read it; a stale file fails `ops check` and the tests with the refresh command.
Shape: https://www.pulumi.com/docs/iac/using-pulumi/crossguard/configuration/ (policy name or
"all" -> level, or an object of ``enforcementLevel`` and the policy's properties).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coditect.app import stack_context
from coditect.gke.pack import config_of
from coditect.settings import Settings

CONFIG_DIR = Path("policy") / "config"

# The one owner of every per-stack enforcement override (policy name -> Pulumi level).
STACK_LEVELS: Mapping[str, Mapping[str, str]] = {
    "prod": {"image-digest": "mandatory"},  # what was reviewed is what runs: no tags in prod
}


def config_path(root: Path, stack: str) -> Path:
    return root / CONFIG_DIR / f"{stack}.json"


def pack_config(settings: Settings, stack: str) -> dict[str, Any]:
    """The stack's --policy-pack-config: its levels, and each stack policy's properties from its settings."""
    levels = STACK_LEVELS.get(stack, {})
    properties = config_of(stack_context(settings))
    config: dict[str, Any] = {}
    for name in sorted(set(levels) | set(properties)):
        entry: dict[str, Any] = {"enforcementLevel": levels[name]} if name in levels else {}
        config[name] = {**entry, **properties.get(name, {})}
    return config


def pack_config_text(settings: Settings, stack: str) -> str:
    """The file's text, exactly as `render` writes it."""
    return json.dumps(pack_config(settings, stack), indent=2) + "\n"
