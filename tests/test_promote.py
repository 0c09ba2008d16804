"""Promotion between stacks (only the release moves, formatting survives) and the stack diff."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.__main__ import main
from ops.errors import EXIT_FAILED, EXIT_OK, Refused
from ops.promote import promote
from ops.stack_check import StackReport
from ops.stack_diff import ABSENT, LeafChange, OnlyIn, ResourceKey, diff, diff_stacks, print_stack_diff
from ops.textdiff import unified_diff
from tests.conftest import ROOT, copy_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def cli(root: Path, *arguments: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """One `python -m ops` through its error boundary: (exit code, stdout, stderr)."""
    code = main(["--project", str(root), *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(root: Path, *arguments: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The refusal a command writes on stderr (EXIT_FAILED); its stdout stays empty, so no pipeline reads it as output."""
    code, out, err = cli(root, *arguments, capsys=capsys)
    assert code == EXIT_FAILED and out == "" and err.startswith("refused: "), (code, out, err)
    return err


def test_promote_staging_to_prod_changes_only_the_release(project: Path) -> None:
    before = (project / "Pulumi.prod.yaml").read_text()
    out = io.StringIO()
    assert promote("staging", "prod", out, root=project) == 0
    after = (project / "Pulumi.prod.yaml").read_text()
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    staging = yaml.safe_load((project / "Pulumi.staging.yaml").read_text())["config"]["coditect:release"]
    assert yaml.safe_load(after)["config"]["coditect:release"] == staging
    assert len(changed) == 3 and all(("version:" in line or "@sha256:" in line) for line in changed), changed
    # Everything else, comments included, is byte for byte what it was.
    assert [line for line in before.splitlines() if line not in after.splitlines()] == [
        line for line in before.splitlines() if "version:" in line or "@sha256:" in line
    ]
    assert "# Release: the only keys `python -m ops promote staging prod` changes." in after
    assert after.count("\n") == before.count("\n")
    text = out.getvalue()
    assert "--- Pulumi.prod.yaml (before)" in text and "--- rendered/prod/kubernetes.yaml (before)" in text
    assert "+    version: 1.5.0" in text and "-        app.kubernetes.io/version: 1.4.2" in text
    assert "Nothing was deployed" in text
    # The golden render follows, so the promotion's pull request shows its Kubernetes diff.
    assert "app.kubernetes.io/version: 1.5.0" in (project / "rendered" / "prod" / "kubernetes.yaml").read_text()


def test_dry_run_writes_nothing(project: Path) -> None:
    before = files(project)
    out = io.StringIO()
    assert promote("staging", "prod", out, dry_run=True, root=project) == 0
    assert files(project) == before
    assert "--dry-run: nothing written." in out.getvalue() and "+    version: 1.5.0" in out.getvalue()


def test_skipping_an_environment_is_refused_unless_asked(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(project, "promote", "dev", "prod", capsys=capsys)
    assert err.startswith("refused: dev -> prod skips staging") and "--skip-stage" in err and err.count("\n") == 1
    assert promote("dev", "prod", io.StringIO(), skip_stage=True, dry_run=True, root=project) == 0


def test_a_promote_that_goes_ahead_prints_on_stdout_only(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(project, "promote", "staging", "prod", "--dry-run", capsys=capsys)
    assert code == EXIT_OK and err == ""
    assert out.startswith("Promote staging -> prod:\n") and out.endswith("--dry-run: nothing written.\n") and "refused" not in out


def test_promoting_backwards_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "prod -> staging goes backwards" in refused(project, "promote", "prod", "staging", capsys=capsys)


def test_source_not_pinned_by_digest_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev = project / "Pulumi.dev.yaml"
    dev.write_text(
        dev.read_text().replace(
            "nginx: us-docker.pkg.dev/coditect/app/nginx@sha256:842b65196d425614f4c0aff6960472776ac11007f8b74122fb4250893be19c07",
            "nginx: us-docker.pkg.dev/coditect/app/nginx:1.5.0",
        )
    )
    before = files(project)
    err = refused(project, "promote", "dev", "staging", capsys=capsys)
    assert "dev's images are not pinned by digest (nginx=us-docker.pkg.dev/coditect/app/nginx:1.5.0)" in err
    assert files(project) == before


def test_source_with_invalid_settings_is_a_usage_error(project: Path) -> None:
    from ops.errors import UsageError

    dev = project / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text() + "  coditect:hosts2: []\n")
    with pytest.raises(UsageError, match="coditect:hosts2: is not a known setting"):  # exit 2 from the CLI
        promote("dev", "staging", io.StringIO(), root=project)


def test_source_render_failure_is_a_refusal(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import ops.promote as promote_module

    real = promote_module.check_stack

    def failing_source(stack: str, root: Path = ROOT, program: Any = None, stack_text: str | None = None) -> StackReport:
        report = real(stack, root, program, stack_text)
        if stack == "staging" and stack_text is None:
            report.invariant = "the program failed: simulated"
        return report

    monkeypatch.setattr(promote_module, "check_stack", failing_source)
    assert "refused: the source stack staging does not render cleanly" in refused(project, "promote", "staging", "prod", capsys=capsys)


def test_target_render_failure_after_the_change_is_refused(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import ops.release as release_module

    real = release_module.check_stack

    def failing_target(stack: str, root: Path = ROOT, program: Any = None, stack_text: str | None = None) -> StackReport:
        report = real(stack, root, program, stack_text)
        if stack == "prod" and stack_text is not None:
            report.invariant = "the program failed: simulated"
        return report

    monkeypatch.setattr(release_module, "check_stack", failing_target)
    before = files(project)
    err = refused(project, "promote", "staging", "prod", capsys=capsys)
    assert "prod does not render cleanly with staging's release; nothing was changed" in err
    assert files(project) == before


def test_cli_promote_dev_prod_refuses_and_unknown_stack_is_usage() -> None:
    result = subprocess.run([sys.executable, "-m", "ops", "promote", "dev", "prod", "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "refused: dev -> prod skips staging" in result.stderr and result.stdout == ""
    result = subprocess.run([sys.executable, "-m", "ops", "promote", "qa", "prod"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "no stack 'qa'" in result.stderr


def test_diff_separates_expected_differences_from_findings() -> None:
    result = diff_stacks("staging", "prod")
    assert LeafChange(ResourceKey("Deployment", "coditect-combined"), "spec.replicas", 2, 3) in result.expected
    assert LeafChange(ResourceKey("Ingress", "coditect-ingress"), "spec.rules.0.host", "staging.coditect.ai", "coditect.ai") in result.expected
    assert LeafChange(ResourceKey("GlobalAddress", "static-ip"), "name", "coditect-staging-ip", "coditect-prod-ip") in result.expected
    assert LeafChange(ResourceKey("SecurityPolicy", "cloud-armor"), "rules.0.preview", True, False) in result.findings
    assert any(
        isinstance(f, LeafChange) and f.resource == ResourceKey("AlertPolicy", "monitoring-alert") and f.path.startswith("notificationChannels.0")
        for f in result.findings
    )
    assert not any(isinstance(f, LeafChange) and (f.path == "spec.timeoutSec" or "sessionAffinity" in f.path) for f in result.findings)
    out = io.StringIO()
    print_stack_diff(result, out, full=True)
    text = out.getvalue()
    assert "--- staging/kubernetes.yaml" in text
    assert "  expected  Deployment coditect-combined: spec.replicas: 2 -> 3\n" in text
    assert "  FINDING   SecurityPolicy cloud-armor: rules.0.preview: True -> False\n" in text


def test_diff_names_what_one_stack_lacks() -> None:
    result = diff_stacks("dev", "prod")
    assert OnlyIn(ResourceKey("FrontendConfig", "coditect-<env>-frontend"), "prod") in result.findings
    assert LeafChange(ResourceKey("Ingress", "coditect-ingress"), "metadata.annotations.kubernetes.io/ingress.allow-http", ABSENT, "true") in result.findings
    out = io.StringIO()
    print_stack_diff(result, out)
    assert "  FINDING   FrontendConfig coditect-<env>-frontend: only in prod\n" in out.getvalue()
    assert "  FINDING   Ingress coditect-ingress: metadata.annotations.kubernetes.io/ingress.allow-http: '<absent>' -> 'true'\n" in out.getvalue()


def test_diff_of_a_stack_with_itself_is_empty() -> None:
    result = diff_stacks("prod", "prod")
    assert result.expected == [] and result.findings == [] and result.text_diffs == {}


def test_diff_reports_an_unexpected_change_as_a_finding(project: Path) -> None:
    prod = project / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("    timeoutSec: 86400\n", "    timeoutSec: 7200\n"))
    result = diff_stacks("staging", "prod", project)
    assert LeafChange(ResourceKey("BackendConfig", "coditect-backend-config"), "spec.timeoutSec", 86400, 7200) in result.findings


def test_a_stack_that_does_not_render_refuses_the_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = copy_project(tmp_path, extra_program="\nraise RuntimeError('simulated breakage')\n")
    err = refused(project, "diff", "staging", "prod", "--full", capsys=capsys)
    assert err == "refused: staging does not render:\n  - [program] the program failed: RuntimeError: simulated breakage\n"
    with pytest.raises(Refused, match="staging does not render"):  # the function leaves the refusal to the boundary
        diff("staging", "prod", io.StringIO(), root=project)


def test_a_diff_that_goes_ahead_prints_on_stdout_only(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(project, "diff", "staging", "prod", capsys=capsys)
    assert code == EXIT_OK and err == "" and out.startswith("staging -> prod: ") and "  expected  Deployment coditect-combined: spec.replicas: 2 -> 3\n" in out
    code, out, err = cli(project, "diff", "staging", "prod", "--strict", capsys=capsys)  # findings: exit 1, still output, not a refusal
    assert code == EXIT_FAILED and err == "" and "  FINDING   " in out and "refused" not in out


def test_a_refused_diff_leaves_a_redirected_plan_file_empty(tmp_path: Path) -> None:
    """`ops diff A B > plan.txt`: the refusal reaches the terminal (stderr), the plan file holds no refusal."""
    project = copy_project(tmp_path, extra_program="\nraise RuntimeError('simulated breakage')\n")
    plan = tmp_path / "plan.txt"
    with plan.open("w") as stdout:
        result = subprocess.run(
            [sys.executable, "-m", "ops", "--project", str(project), "diff", "staging", "prod"],
            cwd=ROOT,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert result.returncode == EXIT_FAILED and plan.read_text() == "" and result.stderr.startswith("refused: staging does not render:\n")


def test_textdiff_is_empty_for_equal_texts_and_labelled_otherwise() -> None:
    assert unified_diff("a\n", "a\n", "x", "y") == ""
    assert unified_diff("a\nb\n", "a\nc\n", "x (before)", "x (after)", context_lines=0) == ("--- x (before)\n+++ x (after)\n@@ -2 +2 @@\n-b\n+c\n")


def test_stack_diff_does_not_import_promote() -> None:
    """`ops diff` stands alone: promote builds on stack_diff, never the other way round."""
    code = "import sys, ops.stack_diff; sys.exit('ops.promote' in sys.modules or 'ops.release' in sys.modules or 'ruamel.yaml' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
