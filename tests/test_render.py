"""`python -m ops render` / `check`: files, placeholders, secrets, exit codes, stale goldens, schema errors."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ops.__main__ import main
from ops.project_check import check_all
from ops.render import DEFAULT_OUT, render, rendered_files, stale_files
from ops.stack_check import check_stack
from tests.conftest import ROOT, STACKS, copy_project

RAW_INGRESS_TO_MISSING_SERVICE = """
import pulumi_kubernetes as k8s
k8s.networking.v1.Ingress(
    "legacy-api",
    metadata={"name": "coditect-api", "namespace": "coditect-app", "annotations": {"kubernetes.io/ingress.class": "gce"}},
    spec={"defaultBackend": {"service": {"name": "coditect-api-v2", "port": {"number": 80}}}},
)
"""


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    """`python -m ops ARGS` in this process (its exit code and output); one test runs the real module."""
    capsys.readouterr()
    code = main(list(args))
    output = capsys.readouterr()
    return CliResult(code, output.out, output.err)


@pytest.mark.parametrize("stack", STACKS)
def test_render_writes_both_files_in_apply_order(tmp_path: Path, stack: str) -> None:
    out = io.StringIO()
    assert render(stack, tmp_path, out) == 0
    documents = list(yaml.safe_load_all((tmp_path / stack / "kubernetes.yaml").read_text()))
    kinds = [d["kind"] for d in documents]
    assert kinds[0] == "Namespace" and kinds[-1] == "Ingress"
    assert kinds.index("BackendConfig") < kinds.index("Service") < kinds.index("Ingress")
    assert all(list(d)[:3] == ["apiVersion", "kind", "metadata"] for d in documents)
    assert yaml.safe_load((tmp_path / stack / "gcp.yaml").read_text()) is not None
    text = out.getvalue()
    assert f"Rendered {stack}:" in text and "KIND" in text and "coditect-combined-service" in text
    assert f"{stack}: OK:" in text


def test_cli_render_prod_exit_0(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "ops", "render", "prod", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "prod: OK" in result.stdout and "Traceback" not in result.stderr


def test_raw_ingress_to_missing_service_fails_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The incident, reproduced with a raw resource outside the components: exit 1, named."""
    root = copy_project(tmp_path, RAW_INGRESS_TO_MISSING_SERVICE)
    result = cli(capsys, "--project", str(root), "render", "prod", "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[ingress-backend-service-exists] Ingress coditect-app/coditect-api" in result.stdout
    assert "routes to Service 'coditect-api-v2', which is not declared in namespace 'coditect-app'" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_invariant_raised_by_the_program_is_exit_1(tmp_path: Path) -> None:
    root = copy_project(tmp_path, "\nfrom coditect.ingress import Route\nRoute('coditect-api-v2')\n")
    out = io.StringIO()
    assert render("prod", tmp_path / "out", out, root) == 1
    assert "[program]" in out.getvalue() and "coditect-api-v2" in out.getvalue()


def test_schema_violation_is_reported(tmp_path: Path) -> None:
    bad = """
import pulumi_kubernetes as k8s
k8s.core.v1.ConfigMap("typo", metadata={"name": "typo", "namespace": "coditect-app"}, data={"a": "b"}, immutable=True,
    opts=None)
k8s.apiextensions.CustomResource("bad-bc", api_version="cloud.google.com/v1", kind="BackendConfig",
    metadata={"name": "bad-bc", "namespace": "coditect-app"}, spec={"timeoutSec": "one day"})
"""
    report = check_stack("prod", copy_project(tmp_path, bad))
    assert not report.ok
    assert any("BackendConfig coditect-app/bad-bc" in str(p) and "'one day' is not of type 'integer'" in str(p) for p in report.schema_problems)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("render", "qa"), "no stack 'qa': Pulumi.qa.yaml does not exist (stacks: dev, local, prod, staging)"),
        (("render", "../etc"), "'../etc' is not a valid stack name"),
        (("render",), "render needs a STACK"),
        (("verify-nothing",), "invalid choice"),
    ],
)
def test_bad_arguments_exit_2(args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = cli(capsys, *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_malformed_stack_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_project(tmp_path)
    (root / "Pulumi.prod.yaml").write_text("config:\n  coditect:environment: [prod\n")
    result = cli(capsys, "--project", str(root), "render", "prod")
    assert result.returncode == 2
    assert "Pulumi.prod.yaml is not valid YAML" in result.stderr and "Traceback" not in result.stderr


def test_settings_error_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_project(tmp_path, stack_edit="  coditect:socketio:\n    minSessionSec: 100000\n")
    result = cli(capsys, "--project", str(root), "render", "prod")
    assert result.returncode == 2
    assert "coditect:socketio.minSessionSec: Input should be less than or equal to 86400" in result.stderr


def test_secure_values_are_never_decrypted_and_unknowns_are_placeholders(tmp_path: Path) -> None:
    program = """
import pulumi, pulumi_gcp as gcp, pulumi_kubernetes as k8s
token = pulumi.Config("ide").require_secret("token")
address = gcp.compute.GlobalAddress("ip", name="coditect-ip")
k8s.core.v1.Secret("ide-token", metadata={"name": "ide-token", "namespace": "coditect-app"}, string_data={"token": token})
k8s.core.v1.ConfigMap("lb", metadata={"name": "lb", "namespace": "coditect-app"}, data={"ip": address.address})
"""
    secret = "  ide:token:\n    secure: v1:AAAABBBBCCCCDDDD\n"
    root = copy_project(tmp_path, program, stack_edit=secret)
    assert render("prod", tmp_path / "out", io.StringIO(), root) == 0
    kubernetes = (tmp_path / "out" / "prod" / "kubernetes.yaml").read_text()
    documents = {d["metadata"]["name"]: d for d in yaml.safe_load_all(kubernetes)}
    assert documents["ide-token"]["stringData"] == {"token": "[secret]"}
    assert documents["lb"]["data"] == {"ip": "<known after deploy: reserved IPv4 address>"}
    assert "AAAABBBB" not in kubernetes
    gcp = yaml.safe_load((tmp_path / "out" / "prod" / "gcp.yaml").read_text().split("\n", 2)[2])
    assert {"type": "gcp:compute/globalAddress:GlobalAddress", "name": "ip", "inputs": {"name": "coditect-ip"}} in gcp

    def leaves(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from leaves(v)
        elif isinstance(node, list):
            for v in node:
                yield from leaves(v)
        else:
            yield node

    assert not [leaf for d in documents.values() for leaf in leaves(d) if leaf is None or leaf == ""]


@pytest.mark.parametrize("stack", STACKS)
def test_committed_golden_files_are_fresh(stack: str) -> None:
    report = check_stack(stack)
    diffs = stale_files(report, DEFAULT_OUT)
    assert diffs == [], f"rendered/{stack} is stale; refresh with `python -m ops render {stack}` and commit:\n" + "".join(diffs)


def test_stale_golden_file_is_detected(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    golden = root / "rendered" / "prod" / "kubernetes.yaml"
    golden.write_text(golden.read_text().replace("timeoutSec: 86400", "timeoutSec: 30"))
    out = io.StringIO()
    assert check_all(out, ["prod"], root) == 1
    assert "rendered files are stale; refresh with `python -m ops render prod`" in out.getvalue()
    assert "-  timeoutSec: 30\n+  timeoutSec: 86400" in out.getvalue()
    assert check_all(io.StringIO(), ["dev"], root) == 0


def test_rendered_files_are_deterministic() -> None:
    assert rendered_files(check_stack("staging")) == rendered_files(check_stack("staging"))
