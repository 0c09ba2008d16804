"""The resource hook's callback (src/coditect/inspect_hook.py), called directly as the engine would
after the Ingress's or BackendConfig's create/update, against the stand-ins."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
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


def call(standins: Running, mode: Any, deadline: float = 0.0, interval: float = 0.01) -> list[str]:
    warnings: list[str] = []
    callback = inspection_callback(
        mode,
        "prod",
        CONTEXT,
        PROJECT,
        golden_manifests,
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
    assert "cannot prove that GKE applied the BackendConfig: Compute Engine API denied a read" in warning


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
