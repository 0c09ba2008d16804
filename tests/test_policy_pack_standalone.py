"""The policy pack as `pulumi policy publish` ships it: the policy/ directory alone, with
policy/requirements.txt installed.

A copy of policy/ is booted the way the CLI's Python language host boots a pack
(`python -u -m pulumi.policy <engine> <pack directory>`), in an isolated interpreter (`-I`: no
PYTHONPATH, no working directory on sys.path) that sees only the virtualenv's packages, and is asked
over gRPC to judge a broken manifest, as the engine would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from packaging.utils import canonicalize_name
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from tests.conftest import ROOT
from tests.test_project_config import lock_pins, requirements, third_party_imports, unlisted, versions

PACK = ROOT / "policy"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
# GKE has no such annotation: a timeout set this way never reaches the load balancer.
BROKEN_INGRESS: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "app", "annotations": {
        "kubernetes.io/ingress.class": "gce", "cloud.google.com/websocket-max-idle-timeout": "3600"}},
    "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
}


def pack_sources(pack: Path) -> list[Path]:
    return sorted(p for p in pack.rglob("*.py") if ".venv" not in p.relative_to(pack).parts)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """policy/ copied away from the project (its stack config files stay behind)."""
    copy = tmp_path_factory.mktemp("published") / "policy"
    shutil.copytree(PACK, copy, ignore=shutil.ignore_patterns("__pycache__", ".venv", "config"))
    return copy


def isolated_python(*args: str) -> list[str]:
    """This virtualenv's interpreter, isolated: no PYTHONPATH, no user site, no working directory on sys.path."""
    return [sys.executable, "-I", *args]


def test_the_isolated_interpreter_cannot_see_the_project(published: Path) -> None:
    command = isolated_python("-c", "import json, sys; print(json.dumps(sys.path))")
    paths = json.loads(subprocess.run(command, cwd=published, capture_output=True, text=True, timeout=60, check=True).stdout)
    visible = {Path(p).resolve() for p in paths if p}
    assert not visible & {ROOT, PACK, published}, paths


@pytest.fixture(scope="module")
def analyzer(published: Path) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The copied pack serving its analyzer, as started by the CLI (the engine address is not used by the pack)."""
    command = isolated_python("-u", "-m", "pulumi.policy", "127.0.0.1:0", str(published))
    process = subprocess.Popen(command, cwd=published, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    stdout = process.stdout
    first_line: list[str] = []
    reader = threading.Thread(target=lambda: first_line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=60)
    try:
        port = first_line[0].strip() if first_line else ""
        if not port.isdigit():
            process.kill()
            pytest.fail(f"the published pack did not start its analyzer; stderr: {process.stderr.read()[-2000:]}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_the_published_pack_reports_a_broken_ingress(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    properties = struct_pb2.Struct()
    properties.update(BROKEN_INGRESS)
    request = proto.AnalyzeRequest(type=INGRESS, properties=properties, urn=f"urn:pulumi:prod::coditect::{INGRESS}::web", name="web")
    response = analyzer.Analyze(request, timeout=60)
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [("ingress-ignored-annotations", proto.MANDATORY)]
    assert "websocket-max-idle-timeout" in response.diagnostics[0].message


def test_the_pack_imports_only_what_its_requirements_install() -> None:
    """Every third-party import under policy/ comes from a package in policy/requirements.txt, and
    nothing is imported from the project outside policy/ (it would not be in the published archive)."""
    imports = third_party_imports(pack_sources(PACK), roots=(PACK,))
    assert "pulumi_policy" in imports, "the scan reads the pack"
    listed: set[str] = {canonicalize_name(r.name) for r in requirements(PACK / "requirements.txt")}
    assert not unlisted(imports, listed)


def test_the_pack_requirements_are_the_locked_versions() -> None:
    """The pack installs exactly what the tests ran it with."""
    locked = lock_pins(ROOT / "requirements-dev.lock")
    for requirement in requirements(PACK / "requirements.txt"):
        name = canonicalize_name(requirement.name)
        pinned = {s.version for s in requirement.specifier if s.operator == "=="}
        assert len(requirement.specifier) == 1 and pinned, f"policy/requirements.txt: {requirement} is not an exact pin"
        assert pinned == versions(locked[name]), f"policy/requirements.txt pins {requirement}, requirements-dev.lock {versions(locked[name])}"
