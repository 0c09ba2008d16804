"""Contract tests of the private dependency APIs fenced in ``coditect.internals``.

Each test pins what the project relies on from one internal. When a dependency upgrade changes
one, the failure is here and names it, instead of a render that silently differs.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import rpc

from coditect import internals
from tests.conftest import ROOT

KUBERNETES_VERSION = "1.33.0"  # gke.limits.KUBERNETES_VERSION when these tests were written


class EchoMocks(pulumi.runtime.Mocks):
    """Records what crosses the mock boundary, echoes inputs back as outputs."""

    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.inputs[args.name] = dict(args.inputs)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


def run_under_mocks(program: Any, stack: str = "contract") -> tuple[EchoMocks, Any]:
    mocks = EchoMocks()
    monitor = internals.start_mock_engine(mocks, "coditect", stack, logging.getLogger("contract"))
    pulumi.runtime.test(program)()
    return mocks, monitor


# pulumi._types


def test_input_type_to_dict_gives_wire_names_of_a_typed_kubernetes_arg() -> None:
    spec = k8s.apps.v1.DeploymentSpecArgs(
        min_ready_seconds=5,
        revision_history_limit=3,
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app": "x"}),
        template=k8s.core.v1.PodTemplateSpecArgs(),
    )
    assert internals.is_input_type(spec), "pulumi._types.is_input_type no longer recognises pulumi_kubernetes Args"
    assert not internals.is_input_type({"minReadySeconds": 5}) and not internals.is_input_type("text")
    wire = internals.input_type_to_dict(spec)
    assert set(wire) == {"minReadySeconds", "revisionHistoryLimit", "selector", "template"}, (
        f"pulumi._types.input_type_to_dict changed: expected camelCase names of the set fields only, got {sorted(wire)}"
    )
    assert wire["minReadySeconds"] == 5
    assert internals.is_input_type(wire["selector"]), "nested args are expected to stay typed (coditect.base recurses)"
    assert internals.input_type_to_dict(wire["selector"]) == {"matchLabels": {"app": "x"}}


# pulumi.runtime.config


def test_engine_config_holds_set_all_config_values_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"coditect:fromEnv": "env", "coditect:both": "env"}))
    pulumi.runtime.set_all_config({"coditect:both": "mocks", "coditect:only": "mocks"})
    try:
        config = internals.engine_config()
    finally:
        pulumi.runtime.set_all_config({})
    assert config == {"coditect:fromEnv": "env", "coditect:both": "mocks", "coditect:only": "mocks"}, (
        "pulumi.runtime.config CONFIG / get_config_env changed: config set by set_all_config must overlay PULUMI_CONFIG"
    )


def test_engine_config_without_environment_is_the_set_all_config_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    pulumi.runtime.set_all_config({"coditect:environment": "dev"})
    try:
        assert internals.engine_config() == {"coditect:environment": "dev"}
    finally:
        pulumi.runtime.set_all_config({})


# pulumi.runtime.settings ROOT and the mock monitor


def test_each_mock_run_gets_a_fresh_root_stack() -> None:
    def exporting() -> None:
        pulumi.export("answer", 42)

    run_under_mocks(exporting)
    assert set(internals.root_stack_exports()) == {"answer"}, "the root stack's `outputs` no longer holds pulumi.export values"
    run_under_mocks(lambda: None)
    assert internals.root_stack_exports() == {}, "pulumi.runtime.settings.ROOT reset no longer gives a new root stack: exports leak between runs"


def test_the_monitor_records_urns_with_the_parent_type_chain() -> None:
    def program() -> None:
        parent = pulumi.ComponentResource("coditect:index:Thing", "thing")
        k8s.core.v1.Namespace("ns", metadata={"name": "x"}, opts=pulumi.ResourceOptions(parent=parent))

    _, monitor = run_under_mocks(program, stack="dev")
    urns = internals.registered_urns(monitor)
    assert "urn:pulumi:dev::coditect::coditect:index:Thing$kubernetes:core/v1:Namespace::ns" in urns, (
        f"MockMonitor.get_registered_resources() URNs changed shape: {urns}"
    )


# Secrets on the wire


def test_a_secret_crosses_the_mock_boundary_in_the_pinned_wrapper() -> None:
    assert (rpc._special_sig_key, rpc._special_secret_sig) == (internals.SECRET_SIG_KEY, internals.SECRET_SIG), (
        "Pulumi's secret wire signature changed: update coditect.internals.SECRET_SIG_KEY / SECRET_SIG"
    )

    def program() -> None:
        k8s.core.v1.Secret("token", metadata={"name": "token"}, string_data={"token": pulumi.Output.secret("s3cret")})

    mocks, _ = run_under_mocks(program)
    value = mocks.inputs["token"]["stringData"]
    assert internals.is_wire_secret(value), f"a secret input no longer arrives wrapped as {{sig: secret-sig, value}}: {value!r}"
    assert internals.wire_secret_value(value) == {"token": "s3cret"}
    assert not internals.is_wire_secret({"token": "plain"}) and not internals.is_wire_secret("text")


def test_the_unknown_marker_is_the_engines() -> None:
    from pulumi_policy import proxy

    assert internals.UNKNOWN_STRING_VALUE == rpc.UNKNOWN == proxy.UNKNOWN_STRING_VALUE, "Pulumi's unknown-value marker changed"


# kubernetes_validate.utils


def test_kubernetes_validate_ships_strict_schemas_for_the_pinned_version() -> None:
    assert internals.kubernetes_schema_version(KUBERNETES_VERSION) == KUBERNETES_VERSION, (
        f"kubernetes-validate no longer ships schemas for Kubernetes {KUBERNETES_VERSION}"
    )
    assert internals.kubernetes_schema_version("1.33.7") == KUBERNETES_VERSION, "patch versions map to their minor's schema set"
    for api_version, kind in [("apps/v1", "Deployment"), ("networking.k8s.io/v1", "Ingress"), ("v1", "Service"), ("policy/v1", "PodDisruptionBudget")]:
        schema = internals.kubernetes_strict_schema(api_version, kind, KUBERNETES_VERSION)
        assert schema is not None, f"kubernetes-validate's layout changed: no strict schema file for {api_version} {kind}"
        assert schema.get("additionalProperties") is False, f"{kind}: the -strict schema set no longer forbids unknown fields"
        assert '"/api/_definitions.json#/$defs/' in json.dumps(schema), f"{kind}: $refs no longer point into _definitions.json"
    assert internals.kubernetes_strict_schema("v1", "NoSuchKind", KUBERNETES_VERSION) is None


def test_kubernetes_validate_definitions_carry_their_id() -> None:
    definitions = internals.kubernetes_strict_definitions(KUBERNETES_VERSION)
    assert definitions.get("$id") == "https://kubernetes.io/api/_definitions.json"
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in definitions["$defs"]


# pulumi_policy's analyzer


def test_the_analyzer_servicer_boots_in_process() -> None:
    from pulumi.runtime import proto
    from pulumi_policy import EnforcementLevel

    from coditect.gke.pack import PACK_NAME, POLICIES

    servicer = internals.policy_analyzer_servicer(PACK_NAME, "1.2.3", POLICIES, EnforcementLevel.ADVISORY)
    info = servicer.GetAnalyzerInfo(None, None)
    assert (info.name, info.version) == (PACK_NAME, "1.2.3"), "pulumi_policy.policy._PolicyAnalyzerServicer's constructor changed"
    assert {p.name for p in info.policies} == {p.name for p in POLICIES}
    assert isinstance(servicer.Analyze(proto.AnalyzeRequest(type="kubernetes:core/v1:Namespace"), None), proto.AnalyzeResponse)


def test_the_unknown_checking_proxy_raises_on_unknowns_only() -> None:
    props = internals.unknown_checking_proxy({"known": 1, "nested": {"later": internals.UNKNOWN_STRING_VALUE}})
    assert props["known"] == 1
    with pytest.raises(internals.unknown_value_error()):
        props["nested"]["later"]
    assert internals.unknown_value_error().__name__ == "UnknownValueError", "pulumi_policy.proxy's exception changed"


# What `pulumi up` installs


def test_the_fence_imports_no_ops_or_test_dependency() -> None:
    code = (
        "import sys; import coditect.internals; print(sorted({m.split('.')[0] for m in sys.modules} & {'kubernetes_validate', 'pulumi_policy', 'jsonschema'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]", f"coditect.internals imports packages `pulumi up` does not install: {result.stdout}"
