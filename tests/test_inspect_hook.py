"""The resource hook's callback (src/coditect/inspect_hook.py), called directly as the engine would
after the InspectionMarker's create/update, against the stand-ins: the Ingress alone, both front doors, and
the Gateway alone (frontDoors [gateway])."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pulumi
import pytest

from coditect.inspect_hook import BackendConfigNotApplied, inspection_callback, inspection_hook
from livestate.hook import inspect_until
from tests.standin.harness import Running, golden_manifests, running
from tests.standin.world import CONTEXT, PROJECT, healthy_world

T = TypeVar("T")
ARGS = pulumi.ResourceHookArgs(
    urn="urn:pulumi:prod::coditect::kubernetes:networking.k8s.io/v1:Ingress::ingress",
    id="coditect-app/coditect-ingress",
    name="ingress",
    type="kubernetes:networking.k8s.io/v1:Ingress",
)


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a private loop. asyncio.run would unset the thread's event loop afterwards, and the
    Pulumi mock runs of later tests in the same worker rely on getting one."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def call(
    standins: Running, mode: Any, deadline: float = 0.0, interval: float = 0.01, manifests: Callable[[], list[dict[str, Any]]] = golden_manifests
) -> list[str]:
    warnings: list[str] = []
    callback = inspection_callback(
        mode,
        "prod",
        CONTEXT,
        PROJECT,
        manifests,
        inspect_until,
        deadline=deadline,
        interval=interval,
        kubeconfig=str(standins.kubeconfig),
        gcp_endpoint=standins.compute_url,
        warn=warnings.append,
    )
    assert callback is not None
    run_async(callback(ARGS))
    return warnings


def test_converged_stack_passes_silently(tmp_path: Path) -> None:
    with running(healthy_world(), tmp_path) as standins:
        assert call(standins, "fail") == []
        assert call(standins, "warn") == []


def test_not_applied_warns_in_warn_mode(tmp_path: Path) -> None:
    world = healthy_world()
    world.backend_service.update(sessionAffinity="NONE", timeoutSec=30)
    with running(world, tmp_path) as standins:
        (warning,) = call(standins, "warn", deadline=0.05)
    assert warning.startswith("ingress: GKE has not applied the BackendConfig coditect-app/coditect-backend-config after ")
    assert "sessionAffinity NONE (desired CLIENT_IP), timeoutSec 30 (desired 86400)" in warning
    assert warning.endswith("Run `python -m ops inspect prod` for every layer.")


def test_not_applied_fails_in_fail_mode(tmp_path: Path) -> None:
    world = healthy_world()
    world.backend_service["timeoutSec"] = 30
    with running(world, tmp_path) as standins, pytest.raises(BackendConfigNotApplied, match="GKE has not applied the BackendConfig"):
        call(standins, "fail")


def test_only_translation_and_backend_config_count(tmp_path: Path) -> None:
    """A certificate still provisioning (up to an hour) does not hold `pulumi up`."""
    world = healthy_world()
    world.one("managedcertificates", "coditect-prod-certificate")["status"]["certificateStatus"] = "Provisioning"
    with running(world, tmp_path) as standins:
        assert call(standins, "fail") == []


def test_polls_until_gke_applies_it(tmp_path: Path) -> None:
    world = healthy_world()
    world.backend_service["sessionAffinity"] = "NONE"
    served = len(world.requests)

    def apply_later() -> None:
        while len(world.requests) < served + 40:  # about two polls' worth of reads
            pass
        world.backend_service["sessionAffinity"] = "CLIENT_IP"

    with running(world, tmp_path) as standins:
        import threading

        gke = threading.Thread(target=apply_later, daemon=True)
        gke.start()
        assert call(standins, "fail", deadline=30, interval=0.02) == []
        gke.join(1)


def test_no_access_is_named(tmp_path: Path) -> None:
    world = healthy_world()
    world.compute_forbidden.add("backendServices")
    with running(world, tmp_path) as standins:
        (warning,) = call(standins, "warn")
        with pytest.raises(BackendConfigNotApplied, match=r"grant IAM permission compute\.backendServices\.get"):
            call(standins, "fail")
    assert "cannot prove that GKE applied the BackendConfig coditect-app/coditect-backend-config: Compute Engine API denied a read" in warning


def test_off_gives_no_hook_and_the_hook_never_runs_in_preview() -> None:
    assert inspection_callback("off", "prod", CONTEXT, PROJECT, golden_manifests, inspect_until) is None
    assert inspection_hook("inspect", "off", "prod", CONTEXT, PROJECT, golden_manifests, inspect_until) is None

    async def build() -> pulumi.ResourceHook | None:
        hook = inspection_hook("inspect-after-apply", "warn", "prod", CONTEXT, PROJECT, golden_manifests, inspect_until)
        assert hook is not None
        hook._registered.cancel()  # no engine here to register with
        return hook

    hook = run_async(build())
    assert hook is not None and hook.opts is not None
    assert hook.name == "inspect-after-apply" and hook.opts.on_dry_run is False


# --- the Gateway front door ----------------------------------------------------------------------------------------

INGRESS_KINDS = ("Ingress", "FrontendConfig", "ManagedCertificate", "BackendConfig")


def both_doors() -> list[dict[str, Any]]:
    from tests.standin.gateway_world import gateway_manifests

    return golden_manifests() + gateway_manifests()


def gateway_only() -> list[dict[str, Any]]:
    from tests.standin.gateway_world import gateway_manifests

    return [m for m in golden_manifests() if m["kind"] not in INGRESS_KINDS] + gateway_manifests()


def gateway_alone_world() -> Any:
    from tests.standin.gateway_world import gateway_world

    world = gateway_world()
    world.kube["ingresses"], world.kube["backendconfigs"] = [], []  # the Ingress removed by the migration
    return world


def test_the_gateway_alone_converged_passes_without_reading_an_ingress(tmp_path: Path) -> None:
    world = gateway_alone_world()
    with running(world, tmp_path) as standins:
        assert call(standins, "fail", manifests=gateway_only) == []
    read = [path for _api, _method, path in world.requests]
    assert any(path.endswith("/gateways/coditect-gateway") for path in read)
    assert any("/gcpbackendpolicies" in path for path in read) and not any("/ingresses/" in path for path in read)


@pytest.mark.parametrize("scenario", ["missing backend Service", "policy not attached", "class without filters", "address not found"])
def test_the_gateway_alone_not_applied_fails_naming_the_gateway(tmp_path: Path, scenario: str) -> None:
    from tests.standin.gateway_world import SCENARIOS

    world = gateway_alone_world()
    SCENARIOS[scenario](world)
    with running(world, tmp_path) as standins:
        with pytest.raises(BackendConfigNotApplied) as failed:
            call(standins, "fail", manifests=gateway_only)
        (warning,) = call(standins, "warn", manifests=gateway_only)
    message = str(failed.value)
    assert message.startswith("ingress: GKE has not applied the Gateway coditect-app/coditect-gateway and its policies after ")
    assert "BackendConfig" not in message and message.endswith("Run `python -m ops inspect prod` for every layer.")
    assert warning.startswith("ingress: GKE has not applied the Gateway coditect-app/coditect-gateway and its policies after ")


def test_both_doors_name_both_and_either_holds_the_up(tmp_path: Path) -> None:
    from tests.standin.gateway_world import gateway_world, missing_backend_service

    with running(gateway_world(), tmp_path) as standins:
        assert call(standins, "fail", manifests=both_doors) == []
    world = gateway_world()
    missing_backend_service(world)
    with running(world, tmp_path) as standins, pytest.raises(BackendConfigNotApplied) as failed:
        call(standins, "fail", manifests=both_doors)
    assert "GKE has not applied the BackendConfig coditect-app/coditect-backend-config and the Gateway coditect-app/coditect-gateway" in str(failed.value)
    assert "coditect-api-v2" in str(failed.value)


def test_the_gateway_front_end_does_not_hold_the_up(tmp_path: Path) -> None:
    """As the Ingress's certificate, the Gateway's front end (address, target proxy, certificate map) is not waited on."""
    from livestate.desired import desired_from_manifests
    from livestate.hook import hook_layers
    from livestate.model import Layer

    assert hook_layers(desired_from_manifests(gateway_only())) == (Layer.GATEWAY_TRANSLATION, Layer.GATEWAY_POLICIES)
    assert hook_layers(desired_from_manifests(both_doors())) == (
        Layer.TRANSLATION,
        Layer.BACKEND_CONFIG,
        Layer.GATEWAY_TRANSLATION,
        Layer.GATEWAY_POLICIES,
    )
    assert hook_layers(desired_from_manifests(golden_manifests())) == (Layer.TRANSLATION, Layer.BACKEND_CONFIG)
