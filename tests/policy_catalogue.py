"""A catalogue of broken setups, each a small set of raw pulumi_kubernetes resources.

Every case starts from a valid baseline (Namespace, Deployment, BackendConfig, Service, Ingress,
written as plain manifests, as people copy them from YAML) and breaks one thing the way it has
broken in practice. The first cases are the incident: an Ingress to the non-existent
`coditect-api-v2` and the HPA/PDB left behind for it.

The cases live by theme in policy_catalogue_routing, _containment, _cloud and _gateway; the baseline and the
helpers in policy_catalogue_base. CASES keeps their one order (routing, containment, cloud, gateway).
"""

from __future__ import annotations

from tests.policy_catalogue_base import DIGEST, GCP_KINDS, NS, Case, Manifests, baseline, declare, gcp_object
from tests.policy_catalogue_cloud import CLOUD_CASES
from tests.policy_catalogue_containment import CONTAINMENT_CASES, PRIVATE, contained
from tests.policy_catalogue_gateway import GATEWAY_CASES
from tests.policy_catalogue_routing import API_V2, ROUTING_CASES

CASES: tuple[Case, ...] = ROUTING_CASES + CONTAINMENT_CASES + CLOUD_CASES + GATEWAY_CASES

__all__ = [
    "API_V2",
    "CASES",
    "CLOUD_CASES",
    "CONTAINMENT_CASES",
    "DIGEST",
    "GATEWAY_CASES",
    "GCP_KINDS",
    "NS",
    "PRIVATE",
    "ROUTING_CASES",
    "Case",
    "Manifests",
    "baseline",
    "contained",
    "declare",
    "gcp_object",
]
