"""The pack as the Pulumi engine runs it: through pulumi_policy's analyzer service with protobuf
properties (the private servicer, through coditect.internals), and `policy/__main__.py` booting."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel

from coditect import internals
from coditect.gke.pack import PACK_NAME, POLICIES
from ops.policy_gate import load_pack_config
from tests.conftest import ROOT
from tests.policy_catalogue import CASES

TYPES = {
    "Namespace": "kubernetes:core/v1:Namespace",
    "Deployment": "kubernetes:apps/v1:Deployment",
    "Service": "kubernetes:core/v1:Service",
    "Ingress": "kubernetes:networking.k8s.io/v1:Ingress",
    "BackendConfig": "kubernetes:cloud.google.com/v1:BackendConfig",
}


def servicer() -> Any:
    return internals.policy_analyzer_servicer(PACK_NAME, "1.0.0", POLICIES, EnforcementLevel.ADVISORY)


def struct(manifest: dict[str, Any]) -> struct_pb2.Struct:
    value = struct_pb2.Struct()
    value.update(manifest)
    return value


def urn(key: str, kind: str) -> str:
    return f"urn:pulumi:dev::coditect::{TYPES[kind]}::{key}"


def configured(stack: str) -> Any:
    """The analyzer after the engine's Configure call with policy/config/<stack>.json: each policy's
    properties and its level (the engine resolves the level; the file's, else the policy's own)."""
    config = load_pack_config(stack)
    levels = {p.name: p.enforcement_level or EnforcementLevel.ADVISORY for p in POLICIES}
    wire = {EnforcementLevel.ADVISORY: proto.ADVISORY, EnforcementLevel.MANDATORY: proto.MANDATORY}
    analyzer = servicer()
    policy_config = {}
    for name, entry in config.items():
        properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        level = EnforcementLevel(entry.get("enforcementLevel", levels[name].value))
        policy_config[name] = proto.PolicyConfig(enforcementLevel=wire[level], properties=struct(properties))
    analyzer.Configure(proto.ConfigureAnalyzerRequest(policyConfig=policy_config), None)
    return analyzer


def test_analyze_stack_reports_the_incident_as_the_engine_would() -> None:
    manifests = CASES[0].manifests()
    resources = [proto.AnalyzerResource(type=TYPES[m["kind"]], properties=struct(m), urn=urn(k, m["kind"]), name=k) for k, m in manifests.items()]
    response = configured(CASES[0].stack).AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), None)
    [diagnostic] = response.diagnostics
    assert diagnostic.policyName == "ingress-backends-exist" and diagnostic.enforcementLevel == proto.MANDATORY
    assert "coditect-api-v2" in diagnostic.message and diagnostic.urn == urn("ingress", "Ingress")


def test_analyze_reports_an_ignored_annotation_on_one_resource() -> None:
    ingress = next(c for c in CASES if "websocket-max-idle-timeout" in c.name).manifests()["ingress"]
    request = proto.AnalyzeRequest(type=TYPES["Ingress"], properties=struct(ingress), urn=urn("ingress", "Ingress"), name="ingress")
    response = servicer().Analyze(request, None)
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [("ingress-ignored-annotations", proto.MANDATORY)]


def test_unknown_values_become_a_preview_note_not_a_violation() -> None:
    ingress = CASES[0].manifests()["ingress"]
    ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"] = internals.UNKNOWN_STRING_VALUE
    request = proto.AnalyzeRequest(type=TYPES["Ingress"], properties=struct(ingress), urn=urn("ingress", "Ingress"), name="ingress")
    response = servicer().Analyze(request, None)
    assert response.diagnostics, "the analyzer says it could not judge"
    assert all(d.enforcementLevel == proto.ADVISORY and "during preview" in d.message for d in response.diagnostics)


def test_the_pack_boots_as_the_cli_starts_it() -> None:
    """`policy/__main__.py` builds the PolicyPack, which serves the analyzer and prints its port."""
    process = subprocess.Popen([sys.executable, "__main__.py"], cwd=ROOT / "policy", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None and stderr is not None
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
    assert line and line[0].strip().isdigit(), f"no analyzer port printed; stderr: {stderr.read()[-500:]}"
