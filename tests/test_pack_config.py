"""policy/config/<stack>.json: generated from the stack's settings, current, read by `ops check`, and
enough for the pack under the CLI to reach the offline verdict."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi_policy import PolicyResource, StackValidationArgs, StackValidationPolicy

from coditect import internals
from coditect.app import stack_context
from coditect.gke.pack import POLICIES, context_from
from ops.pack_config import STACK_LEVELS, config_path, pack_config, pack_config_text
from ops.policy_gate import _options
from ops.program import ROOT
from ops.project_check import check_all
from ops.render import PACK_CONFIG_FILE, render
from ops.stack_check import check_stack, settings_for
from tests.conftest import STACKS, copy_project

SANDBOX_POLICY = "ide-sandbox"


def committed(stack: str) -> dict[str, Any]:
    return dict(json.loads(config_path(ROOT, stack).read_text(encoding="utf-8")))


def stack_policy(name: str) -> StackValidationPolicy:
    policy = next(p for p in POLICIES if p.name == name)
    assert isinstance(policy, StackValidationPolicy)
    return policy


def analyze(manifests: list[dict[str, Any]], policy: str, file_config: dict[str, Any]) -> list[str]:
    """What the CLI's analyzer does with the file: the policy's entry, less its level, as its config."""
    config = {k: v for k, v in file_config.get(policy, {}).items() if k != "enforcementLevel"}
    resources = [
        PolicyResource(f"kubernetes:x:{m['kind']}", internals.unknown_checking_proxy(m), f"urn:{i}", str(i), _options(), None, None, [], {})
        for i, m in enumerate(manifests)
    ]
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(str(message))

    stack_policy(policy).validate(StackValidationArgs(resources, config), report)
    return found


def prod_manifests() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((ROOT / "rendered" / "prod" / "kubernetes.yaml").read_text()) if d]


@pytest.mark.parametrize("stack", STACKS)
def test_committed_pack_config_is_current(stack: str) -> None:
    _, _, settings = settings_for(stack)
    text = config_path(ROOT, stack).read_text(encoding="utf-8") if config_path(ROOT, stack).exists() else "(missing)"
    assert text == pack_config_text(settings, stack), f"policy/config/{stack}.json is stale; refresh with `python -m ops render {stack}` and commit"


@pytest.mark.parametrize("stack", STACKS)
def test_the_file_gives_the_pack_the_context_the_components_judge_with(stack: str) -> None:
    _, _, settings = settings_for(stack)
    expected = stack_context(settings)
    config = committed(stack)
    assert context_from(config["websocket-sessions"], "websocket-sessions").min_session_sec == expected.min_session_sec
    for name in ("ide-egress", SANDBOX_POLICY, "ide-identity", "namespace-default-deny", "shared-tenancy"):
        assert context_from(config[name], name).containment == expected.containment


def test_levels_have_one_owner_and_only_prod_requires_digests() -> None:
    assert STACK_LEVELS == {"prod": {"image-digest": "mandatory"}}
    assert committed("prod")["image-digest"] == {"enforcementLevel": "mandatory"}
    assert "image-digest" not in committed("dev") and "image-digest" not in committed("staging")


def test_the_pack_refuses_a_prod_deployment_without_gvisor_from_the_file_alone() -> None:
    """Under `pulumi preview --policy-pack policy --policy-pack-config policy/config/prod.json`."""
    manifests = prod_manifests()
    assert analyze(manifests, SANDBOX_POLICY, committed("prod")) == [], "the prod stack's own manifests pass"
    unsandboxed = copy.deepcopy(manifests)
    deployment = next(m for m in unsandboxed if m["kind"] == "Deployment")
    del deployment["spec"]["template"]["spec"]["runtimeClassName"]
    found = analyze(unsandboxed, SANDBOX_POLICY, committed("prod"))
    assert found and all("[ide-sandboxed]" in f and "runtimeClassName: gvisor" in f for f in found), found
    assert analyze(unsandboxed, SANDBOX_POLICY, committed("dev")) == [], "dev does not require the sandbox"


def test_without_the_file_a_stack_policy_refuses_instead_of_judging_on_defaults() -> None:
    found = analyze(prod_manifests(), SANDBOX_POLICY, {})
    assert len(found) == 1
    assert "gives ide-sandbox no sandboxRequired, dns, internetPorts, clusterRanges" in found[0]
    assert "--policy-pack-config policy/config/<stack>.json" in found[0]


def test_check_reads_the_file_and_a_stale_one_fails_with_the_refresh_command(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    path = config_path(root, "dev")
    config = json.loads(path.read_text())
    config[SANDBOX_POLICY]["sandboxRequired"] = True  # dev's pods run without gVisor
    path.write_text(json.dumps(config))
    report = check_stack("dev", root)
    assert {v.rule for v in report.mandatory} == {"ide-sandboxed"}, [str(v) for v in report.mandatory]
    out = io.StringIO()
    assert check_all(out, ["dev"], root) == 1
    assert "dev: rendered files are stale; refresh with `python -m ops render dev`" in out.getvalue()
    assert "policy/config/dev.json (committed)" in out.getvalue()
    assert render("dev", root / "rendered", io.StringIO(), root) == 0
    assert path.read_text() == pack_config_text(settings_for("dev", root)[2], "dev")
    assert check_all(io.StringIO(), ["dev"], root) == 0


def test_check_runs_the_pack_with_the_file_not_a_second_copy(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    path = config_path(root, "prod")
    path.write_text(json.dumps({**json.loads(path.read_text()), "all": "disabled"}))
    assert check_stack("prod", root).findings == []


def test_render_elsewhere_writes_the_config_beside_the_files_and_leaves_the_project(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    before = config_path(root, "staging").read_bytes()
    assert render("staging", tmp_path / "out", io.StringIO(), root) == 0
    written = json.loads((tmp_path / "out" / "staging" / PACK_CONFIG_FILE).read_text())
    assert written == pack_config(settings_for("staging", root)[2], "staging")
    assert config_path(root, "staging").read_bytes() == before


def test_a_settings_change_flows_into_the_file(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    stack_file = root / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text().replace("internetPorts: [443]", "internetPorts: [443, 8443]", 1))
    assert render("prod", root / "rendered", io.StringIO(), root) == 0
    assert json.loads(config_path(root, "prod").read_text())["ide-egress"]["internetPorts"] == [443, 8443]


def test_ci_preview_and_the_readme_pass_the_stacks_own_file() -> None:
    """The delivery's stack job passes the file `ops target` names, which is this module's config_path."""
    from ops.deploy_target import deploy_target

    (job,) = yaml.safe_load((ROOT / ".github" / "workflows" / "stack.yml").read_text())["jobs"].values()
    step = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions"))
    assert step["with"]["policyPacks"] == "policy" and step["with"]["policyPackConfigs"] == "${{ steps.target.outputs.pack_config }}"
    for stack in ("dev", "staging", "prod"):
        assert ROOT / deploy_target(stack, ROOT).pack_config == config_path(ROOT, stack)
    readme = (ROOT / "README.md").read_text()
    assert "pulumi preview --diff --policy-pack policy --policy-pack-config policy/config/prod.json" in readme
    assert all(config_path(ROOT, stack).exists() for stack in STACKS)
