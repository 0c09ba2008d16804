"""The delivery workflows: actionlint (with shellcheck on every `run:` script) finds nothing, and the job
graph is the one the delivery promises: previews on pull requests with each stack's pack config,
`up` on push to main for dev, then staging, then prod, each in its own environment (its credentials only)
and concurrency group, followed by `ops inspect --wait` and `ops verify`; a daily drift check per stack.

actionlint is built from the Go module proxy by `make tools` (into ~/.cache/coditect-tools); shellcheck comes
from Debian. Under CI=true a missing tool is a failure, elsewhere a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.deploy_target import deploy_target, run
from ops.errors import UsageError
from ops.program import available_stacks
from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = Path.home() / ".cache" / "coditect-tools" / "bin" / "actionlint"
DEPLOYED_STACKS = ["dev", "staging", "prod"]  # the stacks with a GKE cluster; `local` runs on the loopback cluster only


def workflow(name: str) -> dict[Any, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _triggers(flow: dict[Any, Any]) -> dict[str, Any]:
    on = flow.get("on", flow.get(True))  # YAML 1.1 reads the key `on` as true
    if isinstance(on, dict):
        return on
    assert isinstance(on, list), on
    return {name: None for name in on}


def _tool_or_skip(path: Path | None, name: str) -> Path:
    if path is None or not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing under CI=true: `make tools` builds actionlint, `apt-get install shellcheck` installs shellcheck")
        pytest.skip(f"{name} not installed (make tools / apt-get install shellcheck)")
    return path


def test_actionlint_with_shellcheck_finds_nothing() -> None:
    actionlint = _tool_or_skip(ACTIONLINT, "actionlint")
    shellcheck = _tool_or_skip(Path(found) if (found := shutil.which("shellcheck")) else None, "shellcheck")
    result = subprocess.run([str(actionlint), "-shellcheck", str(shellcheck), "-no-color"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The lint above can fail: an undefined job in `needs` is a finding."""
    actionlint = _tool_or_skip(ACTIONLINT, "actionlint")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    broken = (WORKFLOWS / "delivery.yml").read_text(encoding="utf-8").replace("needs: up-staging", "needs: up-stagin")
    (tmp_path / ".github" / "workflows" / "delivery.yml").write_text(broken, encoding="utf-8")
    result = subprocess.run([str(actionlint), "-no-color", ".github/workflows/delivery.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "up-stagin" in result.stdout


def _calls(flow: dict[Any, Any]) -> dict[str, dict[str, Any]]:
    return {name: job for name, job in flow["jobs"].items() if job.get("uses") == "./.github/workflows/stack.yml"}


def test_push_to_main_deploys_dev_then_staging_then_prod() -> None:
    delivery = workflow("delivery.yml")
    assert _triggers(delivery)["push"] == {"branches": ["main"]}
    ups = {job["with"]["stack"]: (name, job) for name, job in _calls(delivery).items() if job["with"]["operation"] == "up"}
    assert sorted(ups) == sorted(DEPLOYED_STACKS)
    order = [ups["dev"][0], ups["staging"][0], ups["prod"][0]]
    assert ups["dev"][1]["needs"] == "gates"
    assert ups["staging"][1]["needs"] == order[0] and ups["prod"][1]["needs"] == order[1]
    assert ups["dev"][1]["if"] == "github.event_name == 'push'"  # the chain starts only on a push (to main)
    assert delivery["jobs"]["gates"]["uses"] == "./.github/workflows/ci.yml"


def test_pull_requests_preview_every_deployed_stack() -> None:
    delivery = workflow("delivery.yml")
    assert "pull_request" in _triggers(delivery)
    previews = [job for job in _calls(delivery).values() if job["with"]["operation"] == "preview"]
    assert len(previews) == 1 and previews[0]["strategy"]["matrix"]["stack"] == DEPLOYED_STACKS
    assert "head.repo.full_name == github.repository" in previews[0]["if"]  # forks get no credentials


def test_drift_runs_daily_for_every_deployed_stack() -> None:
    drift = workflow("drift.yml")
    assert re.fullmatch(r"\d+ \d+ \* \* \*", _triggers(drift)["schedule"][0]["cron"])
    (job,) = _calls(drift).values()
    assert job["with"]["operation"] == "drift" and job["strategy"]["matrix"]["stack"] == DEPLOYED_STACKS


def test_the_stack_job_holds_the_stack_s_credentials_and_lock() -> None:
    stack = workflow("stack.yml")
    (job,) = stack["jobs"].values()
    assert job["environment"] == "${{ inputs.stack }}"  # credentials come from the stack's own environment
    assert "${{ inputs.stack }}" in job["concurrency"]["group"] and job["concurrency"]["cancel-in-progress"] is False
    for name in ("delivery.yml", "drift.yml", "ci.yml"):  # no other workflow touches credentials
        other = (WORKFLOWS / name).read_text(encoding="utf-8")
        assert "secrets." not in other and "vars." not in other and "google-github-actions/auth" not in other, name
    steps = {step.get("uses", "").split("@")[0] or step.get("name"): step for step in job["steps"]}
    gke = steps["google-github-actions/get-gke-credentials"]["with"]
    assert gke["project_id"] == "${{ steps.target.outputs.project }}" and gke["context_name"] == "${{ steps.target.outputs.context }}"
    pulumi = steps["pulumi/actions"]["with"]
    assert pulumi["policyPacks"] == "policy" and pulumi["policyPackConfigs"] == "${{ steps.target.outputs.pack_config }}"
    assert "operation == 'drift'" in pulumi["expect-no-changes"]
    assert "ops inspect" in steps["ops inspect"]["run"] and "--wait" in steps["ops inspect"]["run"]
    assert "steps.target.outputs.verify_url" in steps["ops verify"]["run"] and steps["ops verify"]["if"] == "inputs.operation == 'up'"
    install = steps["Install uv, the deploy lock, the pack's lock and the ops tools"]["run"]
    # uv (hashed, on PATH for the CLI's uv toolchain), then the syncs the CLI runs: .venv (what `pulumi up` runs
    # in: uv.lock without groups) and policy/.venv (policy/uv.lock); --locked refuses a lock pyproject.toml outgrew.
    assert "--require-hashes -r requirements-pip.lock" in install and '>> "$GITHUB_PATH"' in install
    syncs = [line.strip() for line in install.splitlines() if " sync " in f"{line} "]
    assert syncs[0].endswith('uv/bin/uv" sync --locked'), syncs
    assert syncs[1] == '(cd policy && "$RUNNER_TEMP/uv/bin/uv" sync --locked)', syncs
    assert "UV_PROJECT_ENVIRONMENT=.venv-ops" in syncs[2] and syncs[2].endswith("sync --locked --group ops"), syncs
    assert "pip install" not in install.replace("pip install --quiet --require-hashes -r requirements-pip.lock", ""), "every other install is a uv sync"


def test_the_cli_version_is_the_locked_sdk_s() -> None:
    with (ROOT / "uv.lock").open("rb") as lock:
        [locked] = [p["version"] for p in tomllib.load(lock)["package"] if p["name"] == "pulumi"]
    assert workflow("stack.yml")["env"]["PULUMI_VERSION"] == locked


def test_every_action_is_on_a_current_major() -> None:
    current = {
        "actions/checkout": "v6",
        "actions/setup-python": "v6",
        "actions/setup-go": "v6",
        "actions/cache": "v5",
        "google-github-actions/auth": "v3",
        "google-github-actions/get-gke-credentials": "v3",
        "pulumi/actions": "v7",
    }
    used = set()
    for path in WORKFLOWS.glob("*.yml"):
        for action, version in re.findall(r"uses: ([\w-]+/[\w-]+)@(\S+)", path.read_text(encoding="utf-8")):
            assert current.get(action) == version, f"{path.name}: {action}@{version}"
            used.add(action)
    assert used == set(current)


def test_deployed_stacks_are_the_stack_files_with_a_gke_context() -> None:
    targets = {}
    for stack in available_stacks(ROOT):
        try:
            targets[stack] = deploy_target(stack, ROOT)
        except UsageError:
            continue
    assert sorted(targets) == sorted(DEPLOYED_STACKS)
    prod = targets["prod"]
    assert (prod.project, prod.location, prod.cluster) == ("coditect-prod", "us-central1", "coditect-prod")
    assert prod.context == "gke_coditect-prod_us-central1_coditect-prod" and prod.pack_config == "policy/config/prod.json"
    assert prod.verify_url == "https://coditect.ai/theia/socket.io/"


def test_target_writes_github_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    import sys

    assert run("staging", ROOT, sys.stdout, github_output=True) == 0
    lines = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines())
    assert lines["cluster"] == "coditect-staging" and lines["context"] == "gke_coditect-staging_us-central1_coditect-staging"
    assert capsys.readouterr().out == output.read_text(encoding="utf-8")
    monkeypatch.delenv("GITHUB_OUTPUT")
    with pytest.raises(UsageError, match="GITHUB_OUTPUT is not set"):
        run("staging", ROOT, sys.stdout, github_output=True)


def _project_with(tmp_path: Path, context: str, project: str) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    text = (ROOT / "Pulumi.staging.yaml").read_text(encoding="utf-8")
    text = text.replace("gke_coditect-staging_us-central1_coditect-staging", context).replace("gcp:project: coditect-staging", f"gcp:project: {project}")
    (tmp_path / "Pulumi.staging.yaml").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "context, project, message",
    [
        ("my-cluster", "coditect-staging", "is not a GKE context name"),
        ("gke_coditect-other_us-central1_coditect-staging", "coditect-staging", "names project 'coditect-other' but gcp:project is 'coditect-staging'"),
        ("gke_coditect-staging_us_central1_x", "coditect-staging", "is not a GKE context name"),
    ],
)
def test_target_refuses_a_context_the_workflow_cannot_use(tmp_path: Path, context: str, project: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        deploy_target("staging", _project_with(tmp_path, context, project))


def test_target_accepts_a_zonal_cluster(tmp_path: Path) -> None:
    target = deploy_target("staging", _project_with(tmp_path, "gke_coditect-staging_europe-west4-b_ide-1", "coditect-staging"))
    assert (target.location, target.cluster) == ("europe-west4-b", "ide-1")


def test_every_deployed_stack_encrypts_with_its_own_kms_key() -> None:
    """No passphrase in the workflow: each stack's secrets provider is a Cloud KMS key in its own project."""
    for stack in DEPLOYED_STACKS:
        document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
        provider = document.get("secretsprovider", "")
        match = re.fullmatch(r"gcpkms://projects/([a-z0-9-]+)/locations/[a-z0-9-]+/keyRings/[\w-]+/cryptoKeys/([\w-]+)", provider)
        assert match, f"Pulumi.{stack}.yaml: secretsprovider {provider!r}"
        assert match.group(1) == document["config"]["gcp:project"], stack
    assert "PULUMI_CONFIG_PASSPHRASE" not in (WORKFLOWS / "stack.yml").read_text(encoding="utf-8")
