"""Small pieces the rule modules share."""

from __future__ import annotations

from typing import Any

from gke.manifest import as_number
from gke.registry import Problem


def out_of_range(field: str, value: Any, bounds: tuple[int, int], fix_hint: str = "") -> Problem | None:
    """A problem when ``field`` is set but is not a whole number inside ``bounds`` (absent is the caller's)."""
    if value is None:
        return None
    number = as_number(value)
    low, high = bounds
    if number is None or number != int(number) or not low <= number <= high:
        return Problem(f"{field} is {value!r}, outside GKE's allowed range {low}..{high}.",
                       f"set {field} to a whole number from {low} to {high}{fix_hint}.", subject=field)
    return None
