"""Shared pieces of the `ops inspect` cluster-layer tests: the prod cluster's name and reference, and
the prod stack's declared preconditions P1-P6 (Pulumi.prod.yaml)."""

from __future__ import annotations

from typing import Any

from livestate.container import ClusterRef
from livestate.preconditions import ClusterDeclaration
from ops.program import ROOT
from ops.stack_check import settings_for
from tests.standin.world import PROJECT

Json = dict[str, Any]
CLUSTER = f"projects/{PROJECT}/locations/us-central1/clusters/coditect-prod"
PROD = ClusterDeclaration(settings_for("prod", ROOT)[2].cluster.preconditions, prod=True)
REF = ClusterRef(PROJECT, "us-central1", "coditect-prod")
