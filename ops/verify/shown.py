"""Values from the user or a server as an error message shows them: short, whatever their length."""

from __future__ import annotations

from typing import Any

SHOWN_CHARS = 60


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """The repr of `value`, cut to `limit` characters: an error never echoes megabytes back."""
    text = repr(value)
    return f"{text[:limit]}… ({len(text)} characters)" if len(text) > limit else text
