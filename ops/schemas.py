"""Schema checks of rendered manifests: what `kubectl apply --dry-run` would reject, offline.

Built-in kinds go through ``kubernetes-validate`` (strict: unknown fields are errors) at the
Kubernetes version pinned in ``gke.limits``; GKE custom resources through their CRD's
``openAPIV3Schema`` (copies in ``schemas/crds/``). Gateway API kinds and GKE's Gateway policies go through
ops/gateway_schemas.py: the CRDs of the cluster's Gateway API bundle, defaults and CEL rules included.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

from coditect import internals
from coditect.gke import limits
from ops import gateway_schemas
from ops.program import YAML_LOADER

CRD_DIR = Path(__file__).resolve().parent.parent / "schemas" / "crds"


@dataclass(frozen=True)
class SchemaProblem:
    resource: str
    message: str

    def __str__(self) -> str:
        return f"{self.resource}: {self.message}"


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema for every CRD file shipped with the project."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.load(path.read_text(), Loader=YAML_LOADER)
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if schema:
                found[(f"{group}/{version['name']}", kind)] = schema
    return found


def _where(manifest: dict[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{manifest.get('kind')} {ns + '/' if ns else ''}{meta.get('name')}"


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def validate_manifest(manifest: dict[str, Any], kubernetes_version: str = limits.KUBERNETES_VERSION, bundle: str | None = None) -> list[SchemaProblem]:
    """`bundle`: the cluster's Gateway API CRD bundle ("v1.3.0"/"v1.5.1"); None judges Gateway kinds against every vendored one."""
    key = (str(manifest.get("apiVersion")), str(manifest.get("kind")))
    if gateway_schemas.handles(*key):
        return [SchemaProblem(_where(manifest), line) for line in gateway_schemas.validate(manifest, bundle)]
    if key in crd_schemas():
        return [
            SchemaProblem(_where(manifest), f"{_path(e)}: {e.message} (CRD schema {key[0]} {key[1]})")
            for e in sorted(_crd_validator(*key).iter_errors(manifest), key=lambda e: list(e.absolute_path))
        ]
    validator = _builtin_validator(*key, kubernetes_version)
    if validator is None:
        return [SchemaProblem(_where(manifest), f"no schema for {key[0]} {key[1]} in Kubernetes {kubernetes_version} or the shipped CRDs")]
    error = jsonschema.exceptions.best_match(validator.iter_errors(manifest))
    if error is None:
        return []
    return [SchemaProblem(_where(manifest), f"{_path(error)}: {error.message} (Kubernetes {kubernetes_version} schema, strict)")]


@cache
def _builtin_validator(api_version: str, kind: str, kubernetes_version: str) -> jsonschema.protocols.Validator | None:
    """kubernetes-validate's strict schema for a kind, compiled once; None when it has none."""
    schema = internals.kubernetes_strict_schema(api_version, kind, kubernetes_version)
    if schema is None:
        return None
    registry = Resource.from_contents(schema) @ _definitions_registry(kubernetes_version)
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


@cache
def _definitions_registry(kubernetes_version: str) -> Registry:
    """The shared definitions every built-in kind refers to, read and registered once."""
    return Resource.from_contents(internals.kubernetes_strict_definitions(kubernetes_version)) @ Registry()


@cache
def _crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    # CRD structural schemas are OpenAPI v3 (x-kubernetes-* keys are ignored by jsonschema).
    # The API server prunes unknown fields silently; a strict check reports them instead.
    root = gateway_schemas.close_objects(crd_schemas()[(api_version, kind)])
    # Every object has these at the top, whether or not the CRD lists them; the API server
    # validates metadata itself.
    root["properties"] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, **root.get("properties", {}), "metadata": {"type": "object"}}
    return jsonschema.Draft7Validator(root)


def validate_all(manifests: list[dict[str, Any]], kubernetes_version: str = limits.KUBERNETES_VERSION, bundle: str | None = None) -> list[SchemaProblem]:
    problems: list[SchemaProblem] = []
    for manifest in manifests:
        problems.extend(validate_manifest(manifest, kubernetes_version, bundle))
    return problems
