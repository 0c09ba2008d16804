"""SocketIoApp served to every Pulumi language: the SDK's component provider (its schema inferred from
SocketIoAppArgs and SocketIoApp, pulumi.provider.experimental), with three corrections at the language boundary.

- Unknown keys: the SDK maps inputs by walking the schema's properties only (ComponentProvider.map_input_properties,
  pulumi/provider/experimental/component.py), so a misspelt `backendConfig: {timeoutSecs: 30}` would arrive as
  `{backend_config: {}}` and silently take the default. Every key the schema does not have is refused first, one
  line each naming args.<camelCase path>, in the words a Python program gets for the same key.

- Numbers: every number another language sends arrives as a float (google.protobuf.Struct holds only
  doubles), so `timeoutSec: 30` would reach the args as 30.0 and be refused as "not a valid integer". Where the
  schema says integer and the value is a whole number, it is passed on as an int; 30.5 stays a float, and is
  refused by the component as in Python.
- Refusals: the SDK wraps whatever a component's __init__ raises and reports it with its Python traceback
  (pulumi/provider/experimental/component.py, construct; pulumi/provider/server.py, Construct, ComponentInitError).
  A SocketIoAppError is the component's answer to bad args, so it is unwrapped and raised as it is: a
  pulumi.RunError, which Construct passes on without a traceback, so the CLI shows the same one line per
  problem a Python program gets. (InputPropertiesError, the SDK's own way, fails in SDK 3.272 itself:
  "'Status' object has no attribute 'trailing_metadata'".)

provider/__main__.py runs `serve`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pulumi.provider import main
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from coditect import __version__
from coditect.socketio_app import SocketIoApp, SocketIoAppError, unknown_arg_line

NAME = "coditect"
TOKEN = f"{NAME}:index:SocketIoApp"


def whole_numbers(value: Any, prop: dict[str, Any], types: dict[str, Any]) -> Any:
    """`value` with every whole float where `prop` (a schema property) says integer made an int."""
    if prop.get("type") == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if prop.get("type") == "array" and isinstance(value, list):
        return [whole_numbers(item, prop.get("items", {}), types) for item in value]
    ref = prop.get("$ref", "")
    if ref.startswith("#/types/") and isinstance(value, dict):
        return properties_with_whole_numbers(value, types[ref.removeprefix("#/types/")].get("properties", {}), types)
    return value


def properties_with_whole_numbers(values: dict[str, Any], properties: dict[str, Any], types: dict[str, Any]) -> dict[str, Any]:
    return {key: whole_numbers(item, properties.get(key, {}), types) for key, item in values.items()}


def unknown_keys(values: dict[str, Any], properties: dict[str, Any], types: dict[str, Any], where: str = "") -> list[tuple[str, Any]]:
    """Every key of `values` (and of the objects and lists in it) that `properties` (a schema's) does not have,
    as (camelCase path, value). An Output's keys cannot be seen here; the component refuses Outputs itself."""
    found: list[tuple[str, Any]] = []
    for key, item in values.items():
        path = f"{where}.{key}" if where else key
        prop = properties.get(key)
        if prop is None:
            found.append((path, item))
        else:
            found += _unknown_in(item, prop, types, path)
    return found


def _unknown_in(value: Any, prop: dict[str, Any], types: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    ref = prop.get("$ref", "")
    if ref.startswith("#/types/") and isinstance(value, dict):
        return unknown_keys(value, types[ref.removeprefix("#/types/")].get("properties", {}), types, path)
    if prop.get("type") == "array" and isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _unknown_in(item, prop.get("items", {}), types, f"{path}[{index}]")]
    if isinstance(prop.get("additionalProperties"), dict) and isinstance(value, dict):  # a map: any key, each value typed
        return [found for key, item in value.items() for found in _unknown_in(item, prop["additionalProperties"], types, f"{path}.{key}")]
    return []


class CoditectProvider(ComponentProvider):
    def __init__(self, version: str = __version__) -> None:
        super().__init__([SocketIoApp], NAME, version=version)
        spec = json.loads(self.schema or "{}")
        self._types: dict[str, Any] = spec.get("types", {})
        self._inputs: dict[str, Any] = spec.get("resources", {}).get(TOKEN, {}).get("inputProperties", {})

    def construct(self, name: str, resource_type: str, inputs: Any, options: Any = None) -> Any:
        if resource_type == TOKEN:
            unknown = unknown_keys(dict(inputs), self._inputs, self._types)
            if unknown:  # before the SDK's mapping, which would drop them
                raise SocketIoAppError("\n".join(unknown_arg_line(name, path, value) for path, value in unknown))
            inputs = properties_with_whole_numbers(dict(inputs), self._inputs, self._types)
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            if isinstance(error.inner, SocketIoAppError):
                raise error.inner from None
            raise


def serve(args: list[str]) -> None:
    """Serve the provider: the engine's address and flags as the language host passes them."""
    main(CoditectProvider(), args)


if __name__ == "__main__":
    serve(sys.argv[1:])
