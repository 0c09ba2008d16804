"""How the offline render scales with the number of backend Services.

Builds stacks with 1, 10, 100 and 300 backend Services, each with its own BackendConfig and
Ingress route (through the real components), renders them the way `python -m ops render` does
(program under mocks, manifests, the policy pack, strict schemas, YAML) and compares the wall time
with the bare cost of registering the same number of resources under mocks.

    python bench/render_scale.py [--sizes 1 10 100 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulumi_kubernetes as k8s  # noqa: E402

from coditect.app import refusal, stack_context  # noqa: E402
from coditect.backend_config import BackendConfig  # noqa: E402
from coditect.deployment import CombinedDeployment  # noqa: E402
from coditect.gke import Level  # noqa: E402
from coditect.ingress import Route, WebsocketIngress  # noqa: E402
from coditect.namespace import AppNamespace  # noqa: E402
from coditect.network_policy import EgressPolicy, NamespaceDefaultDeny  # noqa: E402
from coditect.plan import declaration_plan  # noqa: E402
from coditect.service import NegService  # noqa: E402
from ops.manifests import dump_yaml_documents, manifests_of  # noqa: E402
from ops.policy_gate import load_pack_config, run_policies  # noqa: E402
from ops.program import run_program  # noqa: E402
from ops.schemas import validate_all  # noqa: E402
from ops.stack_check import settings_for  # noqa: E402


def program_with(services: int) -> Callable[[], None]:
    _, _, settings = settings_for("dev")

    def program() -> None:
        # Judged as one stack before anything is declared, as __main__.py's build_app does.
        with declaration_plan(stack_context(settings), refusal):
            ns = AppNamespace("ns", settings.namespace)
            deployment = CombinedDeployment("combined", ns, settings.deployment, settings.release, sandboxed=settings.containment.sandbox)
            # The IDE runs user code: contained as build_app contains it.
            EgressPolicy("egress", deployment, settings.containment)
            NamespaceDefaultDeny("default-deny", ns)
            backends = []
            for i in range(services):
                bc = BackendConfig(f"bc-{i}", ns, settings.backend_config.model_copy(update={"name": f"backend-{i}"}), deployment.health)
                backends.append(NegService(f"svc-{i}", ns, settings.service.model_copy(update={"name": f"svc-{i}"}), deployment, bc))
            WebsocketIngress(
                "ingress",
                ns,
                "ingress",
                Route(backends[0]),
                tuple(Route(svc, host=f"svc-{i}.coditect.ai") for i, svc in enumerate(backends)),
                settings.socketio.min_session_sec,
            )

    return program


def render_seconds(services: int) -> tuple[int, float]:
    config, secrets, _ = settings_for("dev")
    start = time.perf_counter()
    run = run_program("dev", config=config, secret_keys=secrets, program=program_with(services))
    manifests = manifests_of(run)
    violations = run_policies(run.resources, load_pack_config("dev"))  # the file the CLI gets
    assert not [v for v in violations if v.level is Level.MANDATORY]
    assert validate_all(manifests) == []
    dump_yaml_documents(manifests)
    return len(run.resources), time.perf_counter() - start


def bare_seconds(resources: int) -> float:
    config, secrets, _ = settings_for("dev")

    def program() -> None:
        for i in range(resources):
            k8s.core.v1.ConfigMap(f"cm-{i}", metadata={"name": f"cm-{i}", "namespace": "bench"}, data={"k": "v"})

    start = time.perf_counter()
    run_program("dev", config=config, secret_keys=secrets, program=program)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 300])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    render_seconds(1)  # warm imports
    bare_seconds(10)
    print(f"{'services':>8} {'resources':>9} {'render s':>9} {'s/resource':>10} {'bare s':>8} {'ratio':>6}")
    for size in args.sizes:
        samples = [render_seconds(size) for _ in range(args.repeat)]
        resources = samples[0][0]
        render = statistics.median(s for _, s in samples)
        bare = statistics.median(bare_seconds(resources) for _ in range(args.repeat))
        print(f"{size:>8} {resources:>9} {render:>9.3f} {render / resources * 1000:>8.2f}ms {bare:>8.3f} {render / bare:>6.2f}")


if __name__ == "__main__":
    main()
