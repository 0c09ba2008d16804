"""Turn what a program registered into Kubernetes manifests and GCP resource records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ops.program import Captured, ProgramRun

# kubectl apply order: what others live in or refer to first, the Ingress (which GKE translates
# once its Services and BackendConfigs exist) last.
APPLY_ORDER = (
    "Namespace",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "BackendConfig",
    "FrontendConfig",
    "ManagedCertificate",
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "NetworkPolicy",
    "Ingress",
)


def is_kubernetes(resource: Captured) -> bool:
    return resource.custom and resource.type.startswith("kubernetes:") and not resource.type.startswith("pulumi:providers:")


def is_gcp(resource: Captured) -> bool:
    return resource.custom and resource.type.startswith("gcp:")


def _order(manifest: dict[str, Any]) -> tuple[int, str, str]:
    kind = str(manifest.get("kind"))
    rank = APPLY_ORDER.index(kind) if kind in APPLY_ORDER else len(APPLY_ORDER) - 1
    meta = manifest.get("metadata") or {}
    return rank, str(meta.get("namespace") or ""), str(meta.get("name") or "")


def kubernetes_manifests(resources: Iterable[Captured]) -> list[dict[str, Any]]:
    """Every Kubernetes object as kubectl would read it, in a safe apply order."""
    manifests = [dict(r.inputs) for r in resources if is_kubernetes(r)]
    return sorted(manifests, key=_order)


def gcp_resources(resources: Iterable[Captured]) -> list[dict[str, Any]]:
    return [{"type": r.type, "name": r.name, "inputs": r.inputs} for r in sorted((r for r in resources if is_gcp(r)), key=lambda r: (r.type, r.name))]


def manifests_of(run: ProgramRun) -> list[dict[str, Any]]:
    return kubernetes_manifests(run.resources)


TOP_LEVEL_ORDER = ("apiVersion", "kind", "metadata", "spec", "data")


def canonical(value: Any, top: bool = False) -> Any:
    """Stable key order for reviewable YAML: the usual top-level order, then sorted keys."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (TOP_LEVEL_ORDER.index(k) if top and k in TOP_LEVEL_ORDER else len(TOP_LEVEL_ORDER), k))
        return {k: canonical(value[k]) for k in keys}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def dump_yaml_documents(documents: Iterable[Any]) -> str:
    import yaml

    return yaml.dump_all([canonical(d, top=True) for d in documents], Dumper=_dumper(), sort_keys=False, default_flow_style=False, width=120)


def dump_yaml(value: Any) -> str:
    import yaml

    return yaml.dump(canonical(value), Dumper=_dumper(), sort_keys=False, default_flow_style=False, width=120)


_DUMPER: Any = None


def _dumper() -> Any:
    """libyaml when the wheel has it (same output, faster); multi-line strings as literal blocks,
    so a config file inside a ConfigMap reads like the file itself."""
    global _DUMPER
    if _DUMPER is None:
        import yaml

        base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

        class Dumper(base):  # type: ignore[misc, valid-type]
            pass

        def represent_str(dumper: Any, value: str) -> Any:
            style = "|" if "\n" in value else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        Dumper.add_representer(str, represent_str)
        _DUMPER = Dumper
    return _DUMPER
