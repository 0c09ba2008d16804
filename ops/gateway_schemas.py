"""Gateway API and GKE Gateway policy objects checked offline against the CRDs a cluster really has.

Which Gateway API CRDs a GKE cluster has depends on its version (GKE installs and owns them with
``gatewayApiConfig.channel = CHANNEL_STANDARD``; https://docs.cloud.google.com/kubernetes-engine/docs/how-to/gatewayclass-capabilities
lists the bundle per GKE version), and the bundles differ in what they admit (RequestRedirect ``statusCode``
307/308 exist only from v1.5; ReferenceGrant ``v1`` only from v1.5). So ``gateway.networking.k8s.io`` kinds are
judged against one vendored bundle (``schemas/gateway-crds/gateway-api-<bundle>/``), or against every vendored
bundle when the stack does not say which, each refusal naming the bundle(s) that refuse. The GKE policies
(``networking.gke.io/v1`` GCPBackendPolicy, HealthCheckPolicy, GCPGatewayPolicy) come from ``schemas/gateway-crds/gke/``.

What the API server does on create, in its order (k8s.io/apiextensions-apiserver): drop ``status`` (the status
subresource ignores it on create), apply the schema's defaults (``pkg/apiserver/schema/defaulting``), then validate:
the structural schema with unknown fields refused (what ``--field-validation=Strict`` refuses), list-type map/set
uniqueness (``pkg/apiserver/schema/listtype``), and the CEL rules (ops/crd_cel.py).
"""

from __future__ import annotations

import copy
import ipaddress
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ops import crd_cel
from ops.program import YAML_LOADER

ROOT = Path(__file__).resolve().parent.parent / "schemas" / "gateway-crds"
BUNDLES = ("v1.3.0", "v1.5.1")
GATEWAY_GROUP = "gateway.networking.k8s.io"
GKE_GROUP = "networking.gke.io"
GKE = "gke"
GKE_SOURCE = "gke-gateway-api fc40d60"

Key = tuple[str, str]  # (apiVersion, kind)

# The string formats the API server checks (kube-openapi strfmt) that these CRDs use outside `status`: a Gateway
# address of type IPAddress (the default type) must be an IPv4 or IPv6 address (oneOf/anyOf in the schema).
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("ipv4", raises=ValueError)
def _ipv4(value: object) -> bool:
    return not isinstance(value, str) or isinstance(ipaddress.ip_address(value), ipaddress.IPv4Address)


@FORMATS.checks("ipv6", raises=ValueError)
def _ipv6(value: object) -> bool:
    return not isinstance(value, str) or isinstance(ipaddress.ip_address(value), ipaddress.IPv6Address)


def _load(folder: Path) -> dict[Key, dict[str, Any]]:
    found: dict[Key, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.yaml")):
        crd = yaml.load(path.read_text(), Loader=YAML_LOADER)
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if schema and version.get("served", True):
                found[(f"{group}/{version['name']}", kind)] = schema
    return found


def close_objects(node: Any) -> Any:
    """A structural schema as the apiserver applies it: an object with properties and no
    x-kubernetes-preserve-unknown-fields refuses unknown fields (every CRD's, not only the Gateway's)."""
    if isinstance(node, dict):
        out = {k: close_objects(v) for k, v in node.items()}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [close_objects(v) for v in node]
    return node


@cache
def schemas(source: str) -> dict[Key, dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema of one vendored source: a bundle ("v1.5.1") or GKE's policies ("gke")."""
    return _load(ROOT / ("gke" if source == GKE else f"gateway-api-{source}"))


def handles(api_version: str, kind: str) -> bool:
    """True for what this module judges: every gateway.networking.k8s.io kind and the vendored GKE policy kinds."""
    group = api_version.rpartition("/")[0]
    return group == GATEWAY_GROUP or (group == GKE_GROUP and kind in {k for _, k in schemas(GKE)})


def validate(manifest: dict[str, Any], bundle: str | None) -> list[str]:
    """The API server's refusals of `manifest` on create, one line each ("<field path>: <why> (<which CRD>)")."""
    key = (str(manifest.get("apiVersion")), str(manifest.get("kind")))
    if key[0].rpartition("/")[0] == GKE_GROUP:
        return _against(manifest, key, GKE, f"CRD {key[0]} {key[1]}, {GKE_SOURCE}")
    if bundle is not None and bundle not in BUNDLES:
        return [f"unknown Gateway API bundle {bundle!r}: the vendored bundles are {', '.join(BUNDLES)} (set gateway.bundleVersion to the cluster's)"]
    refused_by: dict[str, list[str]] = {}
    for each in (bundle,) if bundle else BUNDLES:
        for line in _against(manifest, key, each, f"CRD {key[0]} {key[1]}"):
            refused_by.setdefault(line, []).append(each)
    return [f"{line[:-1]}, Gateway API {' and '.join(names)})" for line, names in refused_by.items()]


def _against(manifest: dict[str, Any], key: Key, source: str, label: str) -> list[str]:
    table = schemas(source)
    if key not in table:
        served = sorted(f"{v} {k}" for v, k in table if k == key[1])
        offer = f"served: {', '.join(served)}" if served else f"vendored kinds: {', '.join(sorted({k for _, k in table}))}"
        return [f"(top level): {key[0]} {key[1]} is not served ({offer}) ({label})"]
    root = table[key]
    obj = copy.deepcopy(manifest)
    obj.pop("status", None)  # the status subresource drops it on create
    apply_defaults(obj, root)
    lines = [
        f"{_path(e.absolute_path)}: {e.message}" for e in sorted(_validator(source, key).iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    ]
    lines += list(_list_type_problems(obj, root, ""))
    lines += [str(f) for f in crd_cel.validate(obj, root)]
    return [f"{line} ({label})" for line in lines]


@cache
def _validator(source: str, key: Key) -> jsonschema.protocols.Validator:

    root = close_objects(schemas(source)[key])
    # The API server validates metadata itself; apiVersion and kind are on every object.
    root["properties"] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, **root.get("properties", {}), "metadata": {"type": "object"}}
    return jsonschema.Draft7Validator(root, format_checker=FORMATS)


def apply_defaults(value: Any, schema: dict[str, Any]) -> None:
    """Structural defaulting in place: an absent (or null, when not nullable) property with a ``default`` gets a copy
    of it, then its children are defaulted, top-down (apiextensions-apiserver pkg/apiserver/schema/defaulting/algorithm.go)."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name, sub in properties.items():
            if "default" in sub and (name not in value or (value[name] is None and not sub.get("nullable"))):
                value[name] = copy.deepcopy(sub["default"])
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            sub = properties.get(name) if name in properties else (extra if isinstance(extra, dict) else None)
            if sub is not None:
                apply_defaults(item, sub)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])


def _list_type_problems(value: Any, schema: dict[str, Any], path: str) -> Iterator[str]:
    """x-kubernetes-list-type map (unique keys) and set (unique items), as apiextensions-apiserver pkg/apiserver/schema/listtype."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            sub = properties.get(name) if name in properties else (extra if isinstance(extra, dict) else None)
            if isinstance(sub, dict):
                yield from _list_type_problems(item, sub, f"{path}.{name}" if path else name)
        return
    if not isinstance(value, list):
        return
    list_type, keys = schema.get("x-kubernetes-list-type"), schema.get("x-kubernetes-list-map-keys") or []
    seen: set[str] = set()
    for index, item in enumerate(value):
        if list_type == "map" and isinstance(item, dict):
            identity = json.dumps({k: item.get(k) for k in keys}, sort_keys=True)
        elif list_type == "set":
            identity = json.dumps(item, sort_keys=True)
        else:
            identity = ""
        if identity and identity in seen:
            yield f"{path}[{index}]: Duplicate value: {identity}"
        seen.add(identity)
        if isinstance(schema.get("items"), dict):
            yield from _list_type_problems(item, schema["items"], f"{path}[{index}]")


def _path(parts: Any) -> str:
    """A jsonschema path in the API server's notation: spec.listeners[0].tls."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
