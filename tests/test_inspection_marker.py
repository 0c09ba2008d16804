"""Where the after-up inspection hook is bound (src/coditect/inspection.py): only on the InspectionMarker's
ConfigMap, the stack's last object, which depends on the Service and every front door declared (the
BackendConfig and the Ingress, the Gateway); and that ConfigMap's data changes whenever one of their specs
does, so the hook fires after every change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from coditect.backend_config import BackendConfig
from coditect.gateway import WebsocketGateway
from coditect.ingress import WebsocketIngress
from coditect.inspection import DIGEST_KEY, spec_digest
from coditect.service import NegService
from ops.program import ProgramRun


@dataclass(frozen=True)
class Declared:
    type: str
    name: str
    custom: bool
    hooks: pulumi.ResourceHookBinding | None
    depends_on: list[Any]


def has_hooks(binding: pulumi.ResourceHookBinding | None) -> bool:
    """Whether a binding holds any hook (the SDK gives every resource an empty one)."""
    return binding is not None and any(getattr(binding, field) for field in vars(binding))


@pytest.fixture
def declared(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Declared]]:
    """Every resource the program constructs, with the hooks and depends_on it was given."""
    seen: list[Declared] = []
    original = pulumi.Resource.__init__

    def recording(
        self: pulumi.Resource, t: str, name: str, custom: bool, props: Any = None, opts: pulumi.ResourceOptions | None = None, *args: Any, **kwargs: Any
    ) -> None:
        deps = opts.depends_on if opts and isinstance(opts.depends_on, list) else []
        seen.append(Declared(t, name, custom, opts.hooks if opts and has_hooks(opts.hooks) else None, list(deps)))
        original(self, t, name, custom, props, opts, *args, **kwargs)

    monkeypatch.setattr(pulumi.Resource, "__init__", recording)
    yield seen


def marker_data(run: ProgramRun) -> dict[str, str]:
    [config_map] = [r for r in run.of_type("kubernetes:core/v1:ConfigMap") if r.name == "inspection"]
    data: dict[str, str] = config_map.inputs["data"]
    return data


def test_only_the_inspection_config_map_carries_the_hook(declared: list[Declared], run_with: Callable[..., ProgramRun]) -> None:
    run = run_with("prod", lambda raw: None)  # prod: inspection in fail mode
    hooked = [d for d in declared if d.hooks is not None]
    assert [(d.type, d.name) for d in hooked] == [("kubernetes:core/v1:ConfigMap", "inspection")]
    [binding] = [d.hooks for d in hooked]
    assert binding is not None and binding.after_create and binding.after_update
    deps = hooked[0].depends_on
    assert any(isinstance(d, BackendConfig) for d in deps) and any(isinstance(d, WebsocketIngress) for d in deps)
    assert any(isinstance(d, NegService) for d in deps)
    [parent] = [d for d in declared if d.type == "coditect:index:InspectionMarker"]
    assert parent.hooks is None and not parent.custom
    [metadata] = [r.inputs["metadata"] for r in run.of_type("kubernetes:core/v1:ConfigMap") if r.name == "inspection"]
    assert metadata["name"].endswith("-inspection") and metadata["labels"]["app.kubernetes.io/part-of"] == "coditect"


def test_the_off_mode_binds_no_hook(declared: list[Declared], run_with: Callable[..., ProgramRun]) -> None:
    run_with("dev", lambda raw: raw.setdefault("inspection", {}).update(afterUp="off"))
    assert [d for d in declared if d.hooks is not None] == []


def test_the_data_changes_with_the_backend_config_timeout_and_an_ingress_host(run_with: Callable[..., ProgramRun]) -> None:
    base = marker_data(run_with("prod", lambda raw: None))[DIGEST_KEY]

    def shorter_timeout(raw: dict[str, Any]) -> None:
        raw["backendConfig"]["timeoutSec"] -= 60

    def other_host(raw: dict[str, Any]) -> None:
        raw["hosts"] = [f"x{raw['hosts'][0]}", *raw["hosts"][1:]]

    assert marker_data(run_with("prod", shorter_timeout))[DIGEST_KEY] != base
    assert marker_data(run_with("prod", other_host))[DIGEST_KEY] != base
    assert marker_data(run_with("prod", lambda raw: None))[DIGEST_KEY] == base, "the same specs give the same digest"


def test_spec_digest_is_canonical() -> None:
    assert spec_digest({"a": 1, "b": 2}, {"rules": []}) == spec_digest({"b": 2, "a": 1}, {"rules": []})
    assert spec_digest({"timeoutSec": 1}, {}) != spec_digest({"timeoutSec": 2}, {})


def with_doors(*doors: str) -> Callable[[dict[str, Any]], None]:
    def edit(raw: dict[str, Any]) -> None:
        raw["frontDoors"] = list(doors)
        raw["gateway"] = {"bundleVersion": "v1.5.1"}

    return edit


def hooked_marker(declared: list[Declared]) -> Declared:
    [marker] = [d for d in declared if d.hooks is not None]
    assert (marker.type, marker.name) == ("kubernetes:core/v1:ConfigMap", "inspection")
    return marker


@pytest.mark.parametrize(
    "doors, front",
    [(("ingress", "gateway"), (BackendConfig, WebsocketIngress, WebsocketGateway)), (("gateway",), (WebsocketGateway,))],
)
def test_the_marker_depends_on_every_front_door_declared(
    declared: list[Declared], run_with: Callable[..., ProgramRun], doors: tuple[str, ...], front: tuple[type, ...]
) -> None:
    run = run_with("prod", with_doors(*doors))
    deps = hooked_marker(declared).depends_on
    assert {type(d) for d in deps if isinstance(d, (BackendConfig, WebsocketIngress, WebsocketGateway))} == set(front)
    assert any(isinstance(d, NegService) for d in deps)
    [metadata] = [r.inputs["metadata"] for r in run.of_type("kubernetes:core/v1:ConfigMap") if r.name == "inspection"]
    assert metadata["name"] == ("coditect-ingress-inspection" if "ingress" in doors else "coditect-gateway-inspection")


def test_the_data_changes_with_the_gateway_and_is_unchanged_for_the_ingress_alone(run_with: Callable[..., ProgramRun]) -> None:
    ingress_only = marker_data(run_with("prod", lambda raw: None))[DIGEST_KEY]
    both = marker_data(run_with("prod", with_doors("ingress", "gateway")))[DIGEST_KEY]
    gateway_only = marker_data(run_with("prod", with_doors("gateway")))[DIGEST_KEY]
    assert len({ingress_only, both, gateway_only}) == 3

    def other_redirect(raw: dict[str, Any]) -> None:
        with_doors("gateway")(raw)
        raw["gateway"]["redirectStatusCode"] = 308

    assert marker_data(run_with("prod", other_redirect))[DIGEST_KEY] != gateway_only
    # The Ingress alone hashes what it did before the Gateway existed (prod's golden render, committed before it):
    # the upgrade itself runs no hook.
    from tests.standin.harness import golden_manifests

    [golden] = [m for m in golden_manifests("prod") if m["kind"] == "ConfigMap" and m["metadata"]["name"].endswith("-inspection")]
    assert golden["data"][DIGEST_KEY] == ingress_only


def test_a_marker_without_a_front_door_is_refused(run_components: Callable[..., ProgramRun]) -> None:
    from coditect.base import InvariantError
    from coditect.inspection import InspectionMarker
    from tests.test_invariants import Parts, settings

    def program() -> None:
        parts = Parts(settings())
        InspectionMarker("inspection", parts.ns, None, parts.service, None)

    with pytest.raises(InvariantError, match=r"no front door to inspect\. Fix: declare it with the Ingress, the Gateway or both"):
        run_components(program)
