"""What an inspection loads: only the clients of the layers asked (issue 24, section 6). Each case runs
in a fresh interpreter against the stand-ins, so an import made by an earlier test cannot hide one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from livestate.model import Layer
from tests.conftest import ROOT
from tests.standin.harness import Running, running
from tests.standin.world import healthy_world

COMPUTE, CONTAINER, TYPED_KUBE = "google.cloud.compute_v1", "google.cloud.container_v1", "kubernetes.client.api.core_v1_api"
SCRIPT = """
import json, sys
from livestate.desired import StackTarget
from livestate.inspector import Inspector
from livestate.model import Layer
from tests.standin.harness import golden_desired
from tests.standin.world import CONTEXT, PROJECT
cluster = None
if {declared}:
    from ops.inspect.stack import desired_state
    from pathlib import Path
    cluster = desired_state("prod", Path({root!r}))[1].cluster
inspector = Inspector(golden_desired(), StackTarget(CONTEXT, PROJECT, cluster), {kubeconfig!r}, {endpoint!r}, 10.0)
inspection = inspector.inspect("prod", [Layer(v) for v in {layers!r}])
print(json.dumps({{"checks": len(inspection.checks), "loaded": [m for m in {heavy!r} if m in sys.modules]}}))
"""


@pytest.fixture(scope="module")
def standins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running(healthy_world(), tmp_path_factory.mktemp("standins")) as live:
        yield live


def loaded(standins: Running, layers: list[Layer], declared: bool = False) -> tuple[int, list[str]]:
    """(checks made, heavy modules loaded) by one inspection of `layers` in a fresh interpreter."""
    script = SCRIPT.format(
        declared=declared,
        root=str(ROOT),
        kubeconfig=str(standins.kubeconfig),
        endpoint=standins.compute_url,
        layers=[layer.value for layer in layers],
        heavy=(COMPUTE, CONTAINER, TYPED_KUBE),
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "policy")])}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    return result["checks"], result["loaded"]


def test_the_load_balancer_layers_load_no_google_client_and_no_typed_kubernetes_api(standins: Running) -> None:
    """Kubernetes and Compute are read as JSON: the hook's layers, and every layer above the cluster."""
    every: list[list[Layer]] = [[Layer.TRANSLATION, Layer.BACKEND_CONFIG], [layer for layer in Layer if layer is not Layer.CLUSTER]]
    for layers in every:
        checks, heavy = loaded(standins, layers)
        assert checks and heavy == [], layers


def test_the_container_client_loads_for_the_cluster_layer_only(standins: Running) -> None:
    checks, heavy = loaded(standins, [Layer.CLUSTER], declared=True)
    assert checks and heavy == [CONTAINER]
    assert loaded(standins, [Layer.TRANSLATION], declared=True)[1] == []
