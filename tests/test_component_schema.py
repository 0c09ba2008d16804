"""The `coditect` package's schema, as the SDK infers it (the provider serves the same one), against the Python
types it comes from: every field of SocketIoAppArgs (nested TypedDicts too) is an input under its camelCase name,
with its type and its required flag; every typed output of SocketIoApp is an output. The committed
provider/schema.json and docs/component.md's table are current (`python -m ops.component_schema --write`)."""

from __future__ import annotations

import copy
import sys
import types
import typing
from collections.abc import Awaitable
from typing import Any, Literal

import pulumi
import pytest
from pydantic.alias_generators import to_camel

from coditect import SocketIoApp, SocketIoAppArgs, __version__
from ops.component_schema import PART, SCHEMA, TOKEN, schema, schema_is_current

SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return schema()


def _unwrap(annotation: Any) -> Any:
    """The value type under Required/NotRequired, Optional and pulumi.Input (T | Awaitable[T] | Output[T])."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Required, typing.NotRequired):
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        # pulumi.Input[T] is T | Awaitable[T] | "Output[T]" (a forward reference)
        plain = [a for a in members if typing.get_origin(a) not in (Awaitable, pulumi.Output) and not isinstance(a, typing.ForwardRef)]
        if len(plain) == 1:
            return _unwrap(plain[0])
    if origin is pulumi.Output:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _expected(annotation: Any) -> dict[str, Any]:
    """The schema property the SDK must infer for `annotation`: its type, or a $ref to the args type."""
    value = _unwrap(annotation)
    if value in SCALARS:
        return {"type": SCALARS[value]}
    if typing.get_origin(value) is Literal:
        return {"type": SCALARS[type(typing.get_args(value)[0])]}
    if typing.get_origin(value) is list:
        return {"type": "array", "items": _expected(typing.get_args(value)[0])}
    if typing.is_typeddict(value):
        return {"$ref": f"#/types/coditect:index:{value.__name__}"}
    raise AssertionError(f"no schema type known for {value!r}")


def _shape(prop: dict[str, Any]) -> dict[str, Any]:
    shape = {k: v for k, v in prop.items() if k in ("type", "$ref")}
    if "items" in prop:
        shape["items"] = _shape(prop["items"])
    return shape


def mismatches(spec: dict[str, Any], args: type, properties: dict[str, Any], required: list[str], where: str) -> list[str]:
    """Every difference between the TypedDict `args` and the schema's `properties`/`required`, recursively."""
    hints = dict(args.__annotations__)  # objects (no future import in coditect.args), Required kept
    problems = [f"{where}{name}: in the schema, not in {args.__name__}" for name in set(properties) - {to_camel(f) for f in hints}]
    for field, annotation in hints.items():
        name = to_camel(field)
        if name not in properties:
            problems.append(f"{where}{name}: {args.__name__}.{field} is not in the schema")
            continue
        if _shape(properties[name]) != _expected(annotation):
            problems.append(f"{where}{name}: schema {_shape(properties[name])}, args {_expected(annotation)}")
        needed = field in getattr(args, "__required_keys__", frozenset())
        if needed != (name in required):
            problems.append(f"{where}{name}: required {needed} in {args.__name__}, {name in required} in the schema")
        nested = _unwrap(annotation)
        nested = typing.get_args(nested)[0] if typing.get_origin(nested) is list else nested
        if typing.is_typeddict(nested):
            definition = spec["types"][f"coditect:index:{_unwrap(nested).__name__}"]
            problems += mismatches(spec, _unwrap(nested), definition.get("properties", {}), definition.get("required", []), f"{where}{name}.")
    return problems


def test_every_arg_is_an_input_with_its_type_and_required_flag(spec: dict[str, Any]) -> None:
    resource = spec["resources"][TOKEN]
    assert mismatches(spec, SocketIoAppArgs, resource["inputProperties"], resource["requiredInputs"], "") == []
    assert spec["name"] == "coditect" and spec["version"] == __version__


def test_the_comparison_finds_a_missing_a_retyped_and_an_unrequired_input(spec: dict[str, Any]) -> None:
    broken = copy.deepcopy(spec)
    resource = broken["resources"][TOKEN]
    del broken["types"]["coditect:index:BackendConfigArgs"]["properties"]["timeoutSec"]
    resource["inputProperties"]["namespace"] = {"type": "integer"}
    resource["requiredInputs"].remove("release")
    found = mismatches(broken, SocketIoAppArgs, resource["inputProperties"], resource["requiredInputs"], "")
    assert any(p.startswith("backendConfig.timeoutSec: ") for p in found), found
    assert any(p.startswith("namespace: schema {'type': 'integer'}") for p in found), found
    assert any(p.startswith("release: required True") for p in found), found


def test_every_typed_output_is_an_output(spec: dict[str, Any]) -> None:
    resource = spec["resources"][TOKEN]
    hints = {name: hint for name, hint in vars(SocketIoApp)["__annotations__"].items() if typing.get_origin(hint) is pulumi.Output}
    assert {to_camel(name) for name in hints} == set(resource["properties"])
    for name, hint in hints.items():
        optional = type(None) in typing.get_args(typing.get_args(hint)[0])
        assert _shape(resource["properties"][to_camel(name)]) == _expected(hint), name
        assert (to_camel(name) in resource["required"]) is not optional, name


def test_the_committed_schema_and_the_docs_table_are_current() -> None:
    assert schema_is_current(), f"{SCHEMA.relative_to(SCHEMA.parent.parent)} is stale: run `python -m ops.component_schema --write`"
    assert PART.is_current(), "docs/component.md's table is stale: run `python -m ops.component_schema --write`"


def test_the_schema_is_inferred_in_a_process_of_its_own() -> None:
    """The SDK's provider modules and Google's API clients cannot share a process (duplicate google.rpc.Status):
    inferring the schema must leave this one able to load the clients that `ops inspect` and the tests use."""
    schema()
    assert "coditect.provider" not in sys.modules and "pulumi.provider.experimental.component" not in sys.modules
    from google.cloud import compute_v1  # what the Compute stand-in loads

    assert compute_v1.BackendServiceGroupHealth is not None
