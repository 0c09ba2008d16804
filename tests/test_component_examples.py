"""The consumer examples: examples/python runs under Pulumi's mocks from its own directory, with only the package
importable (no `ops`, `livestate` or stack settings of this repository), and declares the app; examples/yaml
declares exactly one SocketIoApp whose properties the schema accepts. The engine suite runs the YAML one for real
(tests_engine/test_component_package.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import yaml

from ops.component_schema import TOKEN, schema
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"

# Runs examples/python/__main__.py as the language host would (cwd the project, run as __main__), under mocks,
# then prints what it registered and exported.
UNDER_MOCKS = """
import json, runpy, sys
import pulumi

registered, exported = [], {}

class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        registered.append({"type": args.typ, "name": args.name, "inputs": args.inputs})
        return args.name + "-id", args.inputs
    def call(self, args):
        return {}

pulumi.runtime.set_mocks(Mocks(), project="socketio-app-python", stack="dev", preview=False)
original_export = pulumi.export
def export(name, value):
    exported[name] = value
    original_export(name, value)
pulumi.export = export
runpy.run_path("__main__.py", run_name="__main__")
values = {}
def settle():
    for name, value in exported.items():
        pulumi.Output.from_input(value).apply(lambda v, n=name: values.__setitem__(n, v))
settle()
import asyncio
loop = asyncio.get_event_loop()
for _ in range(50):  # let the mocked registrations and the exports' applies settle
    loop.run_until_complete(asyncio.sleep(0.01))
print(json.dumps({"registered": registered, "exported": values, "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("ops", "livestate", "tests"))}, default=str))
"""


def _run_python_example() -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PULUMI_CONFIG")}
    env["PYTHONPATH"] = str(ROOT / "src")  # this checkout's package, nothing else of the repository
    ran = subprocess.run([sys.executable, "-c", UNDER_MOCKS], cwd=EXAMPLES / "python", env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    return dict(json.loads(ran.stdout.strip().splitlines()[-1]))


def test_the_python_example_declares_the_app_from_the_package_alone() -> None:
    result = _run_python_example()
    types = [r["type"] for r in result["registered"]]
    assert types.count(TOKEN) == 1
    assert {"kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:networking.k8s.io/v1:Ingress"} <= set(types)
    assert "cloud.google.com/v1:BackendConfig" in types or any("BackendConfig" in t for t in types)
    assert not [t for t in types if t.startswith("gcp:")], f"the GCP parts are off, yet declared: {[t for t in types if t.startswith('gcp:')]}"
    assert result["modules"] == [], f"the example imported the repository's own modules: {result['modules']}"
    exported = result["exported"]
    assert exported["namespace"] == "socketio-example"
    assert exported["url"] == "http://app.example.test/theia/socket.io/"  # gcp.tls is off: the Ingress serves HTTP only


def _yaml_program() -> dict[str, Any]:
    return dict(yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text(encoding="utf-8")))


def test_the_yaml_example_uses_the_package_from_provider() -> None:
    program = _yaml_program()
    assert program["runtime"] == "yaml"
    assert (EXAMPLES / "yaml" / program["packages"]["coditect"]).resolve() == ROOT / "provider"
    apps = [r for r in program["resources"].values() if r["type"] == TOKEN]
    assert len(apps) == 1


def _unknown_keys(properties: dict[str, Any], declared: dict[str, Any], spec: dict[str, Any], where: str) -> list[str]:
    unknown = []
    for key, value in properties.items():
        if key not in declared:
            unknown.append(f"{where}{key}")
            continue
        ref = declared[key].get("$ref")
        if ref and isinstance(value, dict):
            nested = spec["types"][ref.removeprefix("#/types/")].get("properties", {})
            unknown += _unknown_keys(value, nested, spec, f"{where}{key}.")
    return unknown


def test_the_yaml_examples_properties_are_the_schemas() -> None:
    """Every key the YAML example sets is an input of the schema (a misspelt key would be dropped silently)."""
    spec = schema()
    resource = spec["resources"][TOKEN]
    (app,) = [r for r in _yaml_program()["resources"].values() if r["type"] == TOKEN]
    assert set(resource["requiredInputs"]) <= set(app["properties"])
    assert _unknown_keys(app["properties"], resource["inputProperties"], spec, "") == []
    assert _unknown_keys({"nosuchKey": 1}, resource["inputProperties"], spec, "") == ["nosuchKey"]
