"""Reading the stack's config: the `coditect:` keys the engine passes in, decoded, validated."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import ValidationError

from coditect import internals
from coditect.settings.errors import CONFIG_NAMESPACE, SettingsError, format_errors
from coditect.settings.root import Settings


def _decode(value: Any) -> Any:
    """Pulumi hands object and array config over as JSON text, scalars as plain text."""
    if not isinstance(value, str):
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, (dict, list)) else value


def project_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """The `coditect:` keys of an engine config map, without the namespace, decoded."""
    prefix = f"{CONFIG_NAMESPACE}:"
    return {key[len(prefix) :]: _decode(value) for key, value in config.items() if key.startswith(prefix)}


def raw_config() -> dict[str, Any]:
    """Every `coditect:` key the engine passed in, without the namespace, decoded."""
    return project_keys(internals.engine_config())


def parse_settings(raw: Mapping[str, Any], stack: str | None = None) -> Settings:
    try:
        return Settings.model_validate(dict(raw))
    except ValidationError as error:
        raise SettingsError(format_errors(error, stack)) from None


def load_settings() -> Settings:
    """Settings of the running stack (under the engine or under mocks)."""
    return parse_settings(raw_config(), pulumi.get_stack())
