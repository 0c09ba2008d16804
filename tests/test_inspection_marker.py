"""Where the after-up inspection hook is bound (src/coditect/inspection.py): only on the InspectionMarker's
ConfigMap, the stack's last object, which depends on the BackendConfig, the Service and the Ingress;
and that ConfigMap's data changes whenever either spec does, so the hook fires after every change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from coditect.backend_config import BackendConfig
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
