"""Both stand-ins running for one test, a kubeconfig pointing at the Kubernetes one, and the
prod stack's desired state taken from its golden render (rendered/prod/kubernetes.yaml: byte-stable,
what `ops render prod` produced from the program)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from livestate.desired import Desired, desired_from_manifests
from tests.standin.servers import ComputeHandler, KubeHandler, serving, write_kubeconfig
from tests.standin.world import CONTEXT, World

ROOT = Path(__file__).resolve().parent.parent.parent


def golden_manifests(stack: str = "prod") -> list[dict[str, Any]]:
    text = (ROOT / "rendered" / stack / "kubernetes.yaml").read_text()
    return [m for m in yaml.safe_load_all(text) if m]


def golden_desired(stack: str = "prod", **backend_config_spec: Any) -> Desired:
    """The stack's desired state; `backend_config_spec` overrides BackendConfig spec keys (as a settings change would)."""
    manifests = golden_manifests(stack)
    for manifest in manifests:
        if manifest["kind"] == "BackendConfig":
            manifest["spec"].update(json.loads(json.dumps(backend_config_spec)))
    return desired_from_manifests(manifests)


@dataclass(frozen=True)
class Running:
    world: World
    kube_url: str
    compute_url: str
    kubeconfig: Path


@contextmanager
def running(world: World, tmp: Path) -> Iterator[Running]:
    with ExitStack() as stack:
        kube = stack.enter_context(serving(KubeHandler, world))
        compute = stack.enter_context(serving(ComputeHandler, world))
        yield Running(world, kube, compute, write_kubeconfig(tmp / "kubeconfig.json", kube, CONTEXT))


def closed_port_url() -> str:
    """http://127.0.0.1:PORT where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
