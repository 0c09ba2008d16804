"""SocketIoApp served to every Pulumi language: the SDK's component provider (its schema inferred from
SocketIoAppArgs and SocketIoApp, pulumi.provider.experimental), with two corrections at the language boundary.

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
from coditect.socketio_app import SocketIoApp, SocketIoAppError

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


class CoditectProvider(ComponentProvider):
    def __init__(self, version: str = __version__) -> None:
        super().__init__([SocketIoApp], NAME, version=version)
        spec = json.loads(self.schema or "{}")
        self._types: dict[str, Any] = spec.get("types", {})
        self._inputs: dict[str, Any] = spec.get("resources", {}).get(TOKEN, {}).get("inputProperties", {})

    def construct(self, name: str, resource_type: str, inputs: Any, options: Any = None) -> Any:
        inputs = properties_with_whole_numbers(dict(inputs), self._inputs, self._types) if resource_type == TOKEN else inputs
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
