"""The shape a reader relies on in an API's answer, checked before the answer is used.

A shape is a tuple of (path, type): "spec.rules[].http.paths[].backend.service.name" with `str` says
spec.rules is a list, each rule, its http and each of its paths an object, and the name a string, where
present; "metadata.annotations.*" with `str` says every value of that map is a string. An absent or null field passes (the readers
treat it as unset); a field of another type is `Malformed`, naming the API, the object and the field
with its index (spec.rules[2].http is a list, not an object), so no reader meets a string where it
iterates objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from livestate.model import Malformed

Shape = tuple[tuple[str, type | tuple[type, ...]], ...]
TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", bool: "a boolean", float: "a number", type(None): "null"}


def _named(expected: type | tuple[type, ...]) -> str:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(TYPE_NAMES.get(k, k.__name__) for k in kinds)


def _found(value: Any) -> str:
    return TYPE_NAMES.get(type(value), type(value).__name__)


class _Wrong(Exception):
    def __init__(self, where: str, value: Any, expected: str) -> None:
        super().__init__(f"{where} is {_found(value)}, not {expected}")


def _nodes(node: Any, parts: list[str], where: str) -> Iterator[tuple[str, Any]]:
    """(path with indexes, value) of every node the path names below `node`; absent branches yield nothing,
    a "name[]" that is not a list raises."""
    if node is None:
        return
    if not parts:
        yield where, node
        return
    if not isinstance(node, dict):
        raise _Wrong(where or "the answer", node, "an object")  # every step of a path is an object
    part, rest = parts[0], parts[1:]
    if part == "*":  # every value of a map (annotations, neg-status's network_endpoint_groups)
        for name, value in node.items():
            yield from _nodes(value, rest, f"{where}[{json.dumps(name)}]")
        return
    key = part.removesuffix("[]")
    child = node.get(key)
    here = f"{where}.{key}" if where else key
    if not part.endswith("[]"):
        yield from _nodes(child, rest, here)
    elif child is not None:
        if not isinstance(child, list):
            raise _Wrong(here, child, "a list")
        for index, item in enumerate(child):
            if item is None and rest:  # an element the path goes through: a list of objects holds no null
                raise _Wrong(f"{here}[{index}]", item, "an object")
            yield from _nodes(item, rest, f"{here}[{index}]")


def check(obj: Any, shape: Shape, api: str, what: str) -> None:
    """Malformed at the first field whose type is not the shape's (a bool is no integer, as in JSON)."""
    if not isinstance(obj, dict):
        raise Malformed(api, what, f"the answer is {_found(obj)}, not an object")
    try:
        for path, expected in shape:
            for where, value in _nodes(obj, path.split("."), ""):
                if not isinstance(value, expected) or (isinstance(value, bool) and bool not in (expected if isinstance(expected, tuple) else (expected,))):
                    raise _Wrong(where, value, _named(expected))
    except _Wrong as wrong:
        raise Malformed(api, what, str(wrong)) from None


def json_annotation(obj: dict[str, Any] | None, key: str, shape: Shape, api: str, what: str) -> dict[str, Any]:
    """An annotation holding a JSON object (cloud.google.com/neg-status, ingress.kubernetes.io/backends), checked
    against `shape`; {} when the annotation is absent or empty, Malformed when it is not such an object."""
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    raw = annotations.get(key)
    if not raw:
        return {}
    where = f"{what} annotation {key}"
    try:
        parsed = json.loads(raw)
    except ValueError as error:
        raise Malformed(api, where, f"not JSON ({error}): {str(raw)[:60]!r}") from None
    if not isinstance(parsed, dict):
        raise Malformed(api, where, f"{_found(parsed)}, not a JSON object")
    check(parsed, shape, api, where)
    return parsed
