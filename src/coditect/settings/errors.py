"""Validation errors as one message: each problem on its own line, under its config key, with the fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Problem:
    """One problem of a validation error, under the dotted key it belongs to ('' for the whole)."""

    key: str
    message: str
    kind: str  # "conflict" (a cross-field rule), "unknown" (not a setting), "missing", or "value"
    got: str = ""  # " (got <value>)", or ""


def problems(error: ValidationError) -> list[Problem]:
    """Every problem of `error`, each cross-field rule's under its own key."""
    found: list[Problem] = []
    for item in error.errors():
        key = _key(tuple(item["loc"]))
        got = item.get("input")
        if item["type"] == CONFLICT_ERROR:  # cross-field rules: one line per offending key
            for rule_key, text in item.get("ctx", {}).get("problems", ()):
                found.append(Problem(".".join(p for p in (key, rule_key) if p), text, "conflict"))
            continue
        got_text = "" if isinstance(got, Mapping) else f" (got {shown_value(got)})"
        if item["type"] == "extra_forbidden":
            found.append(Problem(key, "is not a known setting (typo?)", "unknown", got_text))
        elif item["type"] == "missing":
            found.append(Problem(key, "is required but not set", "missing"))
        else:
            found.append(Problem(key, item["msg"].removeprefix("Value error, "), "value", got_text))
    return found


def format_errors(error: ValidationError, stack: str | None = None) -> str:
    stack_file = f"Pulumi.{stack}.yaml" if stack else "the stack file"
    lines = [f"Invalid stack configuration ({stack_file}):"]
    for problem in problems(error):
        if problem.kind == "conflict":
            full = f"{CONFIG_NAMESPACE}:{problem.key}"
            lines.append(f"  - {full}: {problem.message}. Fix: pulumi config set --path '{full}' <value> (or edit {stack_file})")
            continue
        full = f"{CONFIG_NAMESPACE}:{problem.key}" if problem.key else f"{CONFIG_NAMESPACE} (whole stack)"
        fix = f"pulumi config set --path '{full}' <value>" if problem.key else f"edit {stack_file}"
        if problem.kind == "unknown":
            fix = f"pulumi config rm --path '{full}', or correct its name in {stack_file}"
        lines.append(f"  - {full}: {problem.message}{problem.got}. Fix: {fix}")
    return "\n".join(lines)
