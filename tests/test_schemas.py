"""Every stack's Kubernetes objects pass strict schema validation and checkov's Kubernetes checks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coditect.gke import limits
from ops.manifests import dump_yaml_documents, manifests_of
from ops.schemas import validate_all, validate_manifest
from tests.conftest import ROOT, STACKS, stack_run


@pytest.mark.parametrize("stack", STACKS)
def test_manifests_pass_strict_kubernetes_and_crd_schemas(stack: str) -> None:
    manifests = manifests_of(stack_run(stack))
    assert {m["kind"] for m in manifests} >= {"Namespace", "Deployment", "Service", "BackendConfig", "Ingress"}
    assert validate_all(manifests) == []


def test_strict_schema_rejects_an_unknown_field() -> None:
    deployment = next(m for m in manifests_of(stack_run("dev")) if m["kind"] == "Deployment")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    problems = validate_manifest(broken)
    assert len(problems) == 1 and "readinessprobe" in problems[0].message
    assert f"Kubernetes {limits.KUBERNETES_VERSION}" in problems[0].message


def test_crd_schema_rejects_a_misspelt_backend_config_field() -> None:
    bc = next(m for m in manifests_of(stack_run("dev")) if m["kind"] == "BackendConfig")
    broken = json.loads(json.dumps(bc))
    broken["spec"]["sessionAffinity"]["affinityTTL"] = 60
    broken["spec"]["timeoutSec"] = "1d"
    messages = [p.message for p in validate_manifest(broken)]
    assert any("'affinityTTL' was unexpected" in m for m in messages)
    assert any("spec.timeoutSec: '1d' is not of type 'integer'" in m for m in messages)


def staging_redirect(root: Path, bundle: str, status_code: int) -> None:
    path = root / "Pulumi.staging.yaml"
    text = path.read_text()
    assert "    bundleVersion: v1.5.1\n" in text
    path.write_text(text.replace("    bundleVersion: v1.5.1\n", f"    bundleVersion: {bundle}\n    redirectStatusCode: {status_code}\n"))


def test_ops_check_judges_the_gateway_against_the_bundle_the_stack_declares(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """staging's cluster has bundle v1.5.1, whose HTTPRoute CRD takes a 308 redirect; the v1.3.0 CRD's enum is 301/302
    (kubernetes-sigs/gateway-api config/crd/standard/gateway.networking.k8s.io_httproutes.yaml at v1.3.0 and v1.5.1)."""
    from ops.__main__ import main
    from ops.errors import EXIT_OK
    from ops.stack_check import check_stack
    from tests.conftest import copy_project

    root = copy_project(tmp_path)
    staging_redirect(root, "v1.5.1", 308)
    code = main(["--project", str(root), "check", "staging", "--preview", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and report["ok"] is True and report["problems"] == [], report
    manifests = check_stack("staging", root, preview=True).manifests
    [redirect] = [m for m in manifests if m["metadata"]["name"] == "coditect-gateway-redirect"]
    assert redirect["spec"]["rules"][0]["filters"][0]["requestRedirect"]["statusCode"] == 308
    # The same objects against the older bundle: the 308 is what it refuses (and all `ops check` judged before).
    refused = [p.message for p in validate_all(manifests, bundle="v1.3.0")]
    assert refused and all("statusCode" in m for m in refused)
    assert [p.message for p in validate_all(manifests)] == refused  # no bundle: every vendored one, the strictest wins


def test_ops_check_refuses_a_308_redirect_on_a_v1_3_0_cluster_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ops.__main__ import main
    from tests.conftest import copy_project

    root = copy_project(tmp_path)
    staging_redirect(root, "v1.3.0", 308)
    code = main(["--project", str(root), "check", "staging", "--preview"])
    out = capsys.readouterr().out
    assert code != 0 and "Traceback" not in out
    (line,) = [x for x in out.splitlines() if "gateway.redirectStatusCode" in x]
    assert "is 308, which the v1.3.0 HTTPRoute CRD refuses" in line


SCAN_LOCK = ROOT / "requirements-scan.lock"


def checkov_command() -> list[str] | None:
    """checkov as `make setup` runs it: `uv tool run` from requirements-scan.lock (every package pinned; checkov
    pins packaging<24 and pulumi needs >=26, so it gets a tool environment of its own), or $CHECKOV when set."""
    if binary := os.environ.get("CHECKOV"):
        return [binary]
    uv = Path(sys.executable).with_name("uv")
    if not uv.is_file():
        return None
    pin = re.search(r"^checkov==(\S+)", SCAN_LOCK.read_text(encoding="utf-8"), re.M)
    assert pin, "requirements-scan.lock pins no checkov: run `make lock`"
    return [str(uv), "tool", "run", "--from", f"checkov=={pin.group(1)}", "--with-requirements", str(SCAN_LOCK), "checkov"]


def test_checkov_runs_at_the_locked_version() -> None:
    command = checkov_command()
    if command is None or os.environ.get("CHECKOV"):
        pytest.skip("checkov comes from $CHECKOV, or uv is not installed (make setup)")
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"checkov=={result.stdout.strip()}" in command


def test_checkov_kubernetes_checks_pass_for_every_stack(tmp_path: Path) -> None:
    command = checkov_command()
    if command is None:
        message = "uv not installed beside this interpreter: run `make setup` (or set CHECKOV to a checkov binary)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    for stack in STACKS:
        (tmp_path / f"{stack}.yaml").write_text(dump_yaml_documents(manifests_of(stack_run(stack))))
    # A control: the prod Deployment with a writable root filesystem must fail, or checkov checked nothing.
    weakened = json.loads(json.dumps(next(m for m in manifests_of(stack_run("prod")) if m["kind"] == "Deployment")))
    weakened["metadata"]["name"] = "weakened"
    for container in weakened["spec"]["template"]["spec"]["containers"]:
        container["securityContext"]["readOnlyRootFilesystem"] = False
    (tmp_path / "control.yaml").write_text(dump_yaml_documents([weakened]))
    # No check is skipped: a skip would need a written reason here.
    result = subprocess.run(
        [*command, "-d", str(tmp_path), "--framework", "kubernetes", "--output", "json", "--quiet", "--compact", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [(f["check_id"], f["check_name"], f["resource"], f["file_path"]) for f in report["results"]["failed_checks"]]
    assert {check_id for check_id, _, _, path in failed if path.endswith("control.yaml")} == {"CKV_K8S_22"}
    assert [f for f in failed if not f[3].endswith("control.yaml")] == []
    assert report["summary"]["passed"] >= 3 * 80 and report["summary"]["skipped"] == 0
    assert report["summary"]["resource_count"] >= 3 * 8
