"""Validation errors as one message: each problem on its own line, under its config key, with the fix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

CONFIG_NAMESPACE = "coditect"


# The error type of cross-field problems: its context carries (config key, problem) pairs, so each is
# reported under its own key without parsing a message.
CONFLICT_ERROR = "settings_conflict"


def conflict(problems: list[tuple[str, str]]) -> PydanticCustomError:
    return PydanticCustomError(CONFLICT_ERROR, "{count} settings conflict", {"count": len(problems), "problems": tuple(problems)})


class SettingsError(pulumi.RunError):
    """Stack configuration is invalid; the message lists every problem with its fix."""


def _key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        elif item in {"function-after", "function-before"} or str(item).startswith("function-"):
            continue
        else:
            parts.append(str(item))
    return ".".join(parts)


SHOWN_VALUE_MAX = 120


def shown_value(value: Any) -> str:
    """A value as an error shows it: its repr, cut to a readable length (a stack file can hold megabytes)."""
    text = repr(value)
    if len(text) <= SHOWN_VALUE_MAX:
        return text
    return f"{text[:SHOWN_VALUE_MAX]}... ({len(text)} characters)"


def format_errors(error: ValidationError, stack: str | None = None) -> str:
    stack_file = f"Pulumi.{stack}.yaml" if stack else "the stack file"
    lines = [f"Invalid stack configuration ({stack_file}):"]
    for item in error.errors():
        key = _key(tuple(item["loc"]))
        message = item["msg"].removeprefix("Value error, ")
        got = item.get("input")
        if item["type"] == CONFLICT_ERROR:  # cross-field rules: one line per offending key
            for rule_key, text in item.get("ctx", {}).get("problems", ()):
                full = f"{CONFIG_NAMESPACE}:{'.'.join(p for p in (key, rule_key) if p)}"
                lines.append(f"  - {full}: {text}. Fix: pulumi config set --path '{full}' <value> (or edit {stack_file})")
            continue
        full = f"{CONFIG_NAMESPACE}:{key}" if key else f"{CONFIG_NAMESPACE} (whole stack)"
        fix = f"pulumi config set --path '{full}' <value>" if key else f"edit {stack_file}"
        if item["type"] == "extra_forbidden":
            message = "is not a known setting (typo?)"
            fix = f"pulumi config rm --path '{full}', or correct its name in {stack_file}"
        elif item["type"] == "missing":
            message = "is required but not set"
        got_text = "" if item["type"] == "missing" or isinstance(got, Mapping) else f" (got {shown_value(got)})"
        lines.append(f"  - {full}: {message}{got_text}. Fix: {fix}")
    return "\n".join(lines)
