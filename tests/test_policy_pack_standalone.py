"""The policy pack as `pulumi policy publish` ships it: the policy/ directory alone, with its virtualenv built
from policy/uv.lock the way PulumiPolicy.yaml's `toolchain: uv` builds it (`uv sync` in the pack's directory,
UV_PROJECT_ENVIRONMENT the virtualenv; pulumi/pulumi sdk/python/toolchain/uv.go).

A copy of policy/ is synced and booted the way the CLI's Python language host boots a pack
(`python -u -m pulumi.policy <engine> <pack directory>`), in an isolated interpreter (`-I`: no
PYTHONPATH, no working directory on sys.path) that sees only that virtualenv's packages, and is asked
over gRPC to judge a broken manifest, as the engine would.
"""

from __future__ import annotations

import json
import os
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
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from tests.conftest import ROOT
from tests.import_scan import third_party_imports, unlisted
from tests.project_locks import installed_by_sync, locked_versions, requirement_names, requirements, uv

PACK = ROOT / "policy"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
# GKE has no such annotation: a timeout set this way never reaches the load balancer.
BROKEN_INGRESS: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {
        "name": "web",
        "namespace": "app",
        "annotations": {"kubernetes.io/ingress.class": "gce", "cloud.google.com/websocket-max-idle-timeout": "3600"},
    },
    "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
}


def pack_sources(pack: Path) -> list[Path]:
    return sorted(p for p in pack.rglob("*.py") if ".venv" not in p.relative_to(pack).parts)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """policy/ copied away from the project (its stack config files stay behind), its virtualenv synced from its lock."""
    copy = tmp_path_factory.mktemp("published") / "policy"
    shutil.copytree(PACK, copy, ignore=shutil.ignore_patterns("__pycache__", ".venv", "config", "*.egg-info"))
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"} | {"UV_PROJECT_ENVIRONMENT": str(copy / ".venv")}
    result = subprocess.run([str(uv()), "sync", "--locked", "--python", sys.executable], cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        message = f"cannot sync policy/uv.lock: {result.stderr[-1500:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return copy


def isolated_python(published: Path, *args: str) -> list[str]:
    """The pack virtualenv's interpreter, isolated: no PYTHONPATH, no user site, no working directory on sys.path."""
    return [str(published / ".venv" / "bin" / "python"), "-I", *args]


def test_the_isolated_interpreter_cannot_see_the_project(published: Path) -> None:
    command = isolated_python(published, "-c", "import json, sys; print(json.dumps(sys.path))")
    paths = json.loads(subprocess.run(command, cwd=published, capture_output=True, text=True, timeout=60, check=True).stdout)
    visible = {Path(p).resolve() for p in paths if p}
    assert not visible & {ROOT, PACK, published}, paths


@pytest.fixture(scope="module")
def analyzer(published: Path) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The copied pack serving its analyzer, as started by the CLI (the engine address is not used by the pack)."""
    command = isolated_python(published, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(published))
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


def test_the_pack_imports_only_what_its_lock_installs() -> None:
    """Every third-party import under policy/ comes from a package in policy/pyproject.toml's pack group, and
    nothing is imported from the project outside policy/ (it would not be in the published archive)."""
    imports = third_party_imports(pack_sources(PACK), roots=(PACK,))
    assert "pulumi_policy" in imports, "the scan reads the pack"
    assert not unlisted(imports, requirement_names(PACK, ("pack",)))


def test_the_pack_lock_holds_the_versions_the_tests_ran() -> None:
    """policy/uv.lock installs exactly what the tests ran the pack with: every package it shares with uv.lock at
    uv.lock's version, and its direct pins exact."""
    for requirement in requirements(PACK, ("pack",)):
        assert [s.operator for s in requirement.specifier] == ["=="], f"policy/pyproject.toml: {requirement} is not an exact pin"
    pack, program = locked_versions(PACK), locked_versions()
    installed = installed_by_sync(PACK, ("pack",))
    differing = {name: (pack[name], program.get(name)) for name in installed if pack[name] != program.get(name)}
    assert not differing, f"policy/uv.lock vs uv.lock: {differing}; run `make lock`"
