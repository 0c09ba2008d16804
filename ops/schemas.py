"""Schema checks of rendered manifests: what `kubectl apply --dry-run` would reject, offline.

Built-in kinds go through ``kubernetes-validate`` (strict: unknown fields are errors) at the
Kubernetes version pinned in ``gke.limits``; GKE custom resources through their CRD's
``openAPIV3Schema`` (copies in ``schemas/crds/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from gke import limits

CRD_DIR = Path(__file__).resolve().parent.parent / "schemas" / "crds"


@dataclass(frozen=True)
class SchemaProblem:
    resource: str
    message: str

    def __str__(self) -> str:
        return f"{self.resource}: {self.message}"


@lru_cache(maxsize=None)
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema for every CRD file shipped with the project."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
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


def validate_manifest(manifest: dict[str, Any], kubernetes_version: str = limits.KUBERNETES_VERSION) -> list[SchemaProblem]:
    key = (str(manifest.get("apiVersion")), str(manifest.get("kind")))
    schema = crd_schemas().get(key)
    if schema is not None:
        validator = jsonschema.Draft7Validator(_crd_schema_for_jsonschema(schema))
        return [
            SchemaProblem(_where(manifest), f"{_path(e)}: {e.message} (CRD schema {key[0]} {key[1]})")
            for e in sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
        ]
    try:
        kubernetes_validate.validate(manifest, kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [SchemaProblem(_where(manifest), f"{_path(error)}: {error.message} (Kubernetes {kubernetes_version} schema, strict)")]
    except kubernetes_validate.SchemaNotFoundError:
        return [SchemaProblem(_where(manifest), f"no schema for {key[0]} {key[1]} in Kubernetes {kubernetes_version} or the shipped CRDs")]
    return []


@lru_cache(maxsize=None)
def _crd_schema_cache() -> dict[int, dict[str, Any]]:
    return {}


def _crd_schema_for_jsonschema(schema: dict[str, Any]) -> dict[str, Any]:
    """CRD structural schemas are OpenAPI v3; x-kubernetes-* keys are ignored by jsonschema.
    Unknown fields are pruned by the API server, which a strict check reports instead."""
    cache = _crd_schema_cache()
    if id(schema) not in cache:
        cache[id(schema)] = _close_objects(schema)
    return cache[id(schema)]


def _close_objects(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _close_objects(v) for k, v in node.items()}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out \
                and not out.get("x-kubernetes-preserve-unknown-fields"):
            # metadata is validated by the API server itself; keep it open.
            if set(out["properties"]) >= {"apiVersion", "kind"}:
                out["properties"] = {**out["properties"], "metadata": {"type": "object"}}
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close_objects(v) for v in node]
    return node


def validate_all(manifests: list[dict[str, Any]], kubernetes_version: str = limits.KUBERNETES_VERSION) -> list[SchemaProblem]:
    problems: list[SchemaProblem] = []
    for manifest in manifests:
        problems.extend(validate_manifest(manifest, kubernetes_version))
    return problems
