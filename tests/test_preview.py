"""The program as `pulumi preview` runs it: outputs the cloud computes are unknown. Every stack checks
in both modes, and what cannot be judged at preview is reported as such, never passed in silence."""

from __future__ import annotations

import pytest

from ops.policy_gate import run_policies
from ops.program import run_program, stack_config
from ops.stack_check import check_stack
from tests.conftest import STACKS
from tests.policy_catalogue import CASES, Case, declare

UNKNOWN_INGRESS_PROGRAM = """
import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

# An Ingress routing to a Service whose name is only known after deploy.
name = gcp.compute.GlobalAddress("later", name="later-ip").address
k8s.networking.v1.Ingress("late", metadata={"name": "late", "namespace": "late-ns",
    "annotations": {"kubernetes.io/ingress.class": "gce"}},
    spec={"defaultBackend": {"service": {"name": name, "port": {"number": 80}}}})
"""


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_every_stack_checks_in_both_modes(stack: str, preview: bool) -> None:
    report = check_stack(stack, preview=preview)
    assert report.ok, report.problems()
    assert report.run is not None and report.run.preview is preview
    if not preview:
        assert report.unknown_at_preview == []


def test_preview_leaves_cloud_computed_outputs_unknown_and_says_what_it_could_not_judge() -> None:
    up, preview = run_program("prod"), run_program("prod", preview=True)
    assert up.exports["staticIpAddress"] == "<known after deploy: reserved IPv4 address>"
    assert preview.exports.get("staticIpAddress") is None
    report = check_stack("prod", preview=True)
    assert any("Dashboard monitoring-dashboard" in line for line in report.unknown_at_preview)
    assert any("AlertPolicy monitoring-alert" in line and "filter" in line for line in report.unknown_at_preview)


def test_a_stack_policy_meeting_an_unknown_neither_crashes_nor_passes_in_silence() -> None:
    config, secrets = stack_config("dev")
    run = run_program("dev", config=config, secret_keys=secrets, preview=True, program=lambda: exec(UNKNOWN_INGRESS_PROGRAM, {}))
    unjudged: list[str] = []
    violations = run_policies(run.resources, unjudged=unjudged)
    assert not any(v.rule == "ingress-backend-service-exists" for v in violations), "no false violation on an unknown name"
    assert "stack policies in namespace late-ns" in unjudged
    after_deploy = run_program("dev", config=config, secret_keys=secrets, program=lambda: exec(UNKNOWN_INGRESS_PROGRAM, {}))
    assert any(v.rule == "ingress-backend-service-exists" for v in run_policies(after_deploy.resources)), "judged once known"


@pytest.mark.parametrize("case", CASES[:3], ids=[c.name for c in CASES[:3]])
def test_the_incident_is_caught_at_preview_too(case: Case) -> None:
    report = check_stack(case.stack, program=lambda: declare(case.manifests()), preview=True)
    assert {v.rule for v in report.mandatory} == {case.rule}
