"""Values from a kubeconfig or a plugin made safe to print in a message."""

from __future__ import annotations

from typing import Any

from livestate.errors import clip


def show(value: object, limit: int = 200) -> str:
    """`value` as text safe to print: control characters escaped (a value from a file or a plugin could
    hold a terminal's escape sequences), at most `limit` characters."""
    text = str(value)
    return clip(text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text), limit)


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "a mapping"}.get(type(value), "a value")
