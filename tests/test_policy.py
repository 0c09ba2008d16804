"""The policy pack: the catalogue of broken setups, the real stacks, unknown values, coverage of every rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy

from coditect import internals
from coditect.gke import Level
from coditect.gke.pack import POLICIES
from ops.policy_gate import Violation, _options, load_pack_config, run_policies
from ops.program import ROOT, run_program
from ops.stack_check import check_stack
from tests.conftest import STACKS, stack_config
from tests.policy_catalogue import CASES, GATEWAY_CASES, Case, baseline, declare
from tests.policy_catalogue_gateway import gateway, gateway_alone


def collect(found: list[str]) -> Callable[..., None]:
    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    return report


def collect_with_urn(found: list[tuple[str, str | None]]) -> Callable[..., None]:
    def report(message: str, urn: str | None = None) -> None:
        found.append((message, urn))

    return report


def mandatory_rules(violations: list[Violation]) -> set[str | None]:
    return {v.rule for v in violations if v.level is Level.MANDATORY}


def test_catalogue_has_at_least_15_cases_and_the_incident_first() -> None:
    assert len(CASES) >= 15
    assert "coditect-api-v2" in CASES[0].name and {c.rule for c in CASES[:3]} == {"ingress-backend-service-exists", "hpa-target-exists", "pdb-target-exists"}


def test_baseline_passes_the_pack() -> None:
    config, secrets = stack_config("dev")
    run = run_program("dev", config=config, secret_keys=secrets, program=lambda: declare(baseline()))
    assert [v for v in run_policies(run.resources, load_pack_config("dev")) if v.level is Level.MANDATORY] == []


@pytest.mark.parametrize("front_doors", [gateway, gateway_alone], ids=["ingress-and-gateway", "gateway-alone"])
def test_the_gateway_baselines_pass_the_pack(front_doors: Callable[..., Callable[[dict[str, Any]], None]]) -> None:
    """The Gateway cases' starting points: the contract's Gateway objects beside the Ingress, and alone."""
    manifests = baseline()
    front_doors()(manifests)
    report = check_stack("dev", program=lambda: declare(manifests))
    assert report.ok, report.problems()
    assert {m["kind"] for m in report.manifests} >= {"Gateway", "HTTPRoute", "GCPBackendPolicy", "HealthCheckPolicy", "GCPGatewayPolicy"}


def test_the_docs_quote_the_measured_catalogue_size() -> None:
    text = (ROOT / "docs" / "development.md").read_text()
    assert f"the {len(CASES)}-case catalogue" in text and f"holds {len(CASES)} broken" in text
    assert f"{len(GATEWAY_CASES)} of them are the Gateway" in text


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_catalogue_case_fires_exactly_its_rule(case: Case) -> None:
    """Through the same path as `python -m ops check`: program under mocks, pack with the stack's config."""
    report = check_stack(case.stack, program=lambda: declare(case.manifests()))
    assert not report.ok
    if case.schema is None:
        assert report.schema_problems == [], report.schema_problems
    else:  # the API server refuses it too: the pack names the fix, the schema proves the refusal
        assert report.schema_problems and all(case.schema in str(p) for p in report.schema_problems), report.schema_problems
    assert mandatory_rules(report.mandatory) == {case.rule} | case.also, [str(v) for v in report.mandatory]
    message = "\n".join(str(v) for v in report.mandatory)
    assert case.fragment in message
    assert "Fix:" in message


def test_image_digest_is_advisory_outside_prod() -> None:
    case = next(c for c in CASES if c.rule == "image-digest")
    report = check_stack("dev", program=lambda: declare(case.manifests()))
    assert report.ok and any(v.rule == "image-digest" for v in report.advisory)
    assert load_pack_config("prod")["image-digest"] == {"enforcementLevel": "mandatory"}
    assert "enforcementLevel" not in str(load_pack_config("dev"))


@pytest.mark.parametrize("stack", STACKS)
def test_real_stacks_have_no_mandatory_violation(stack: str) -> None:
    report = check_stack(stack)
    assert report.ok, report.problems()
    assert report.mandatory == []


def test_policies_have_descriptions_and_levels() -> None:
    assert len({p.name for p in POLICIES}) == len(POLICIES)
    for policy in POLICIES:
        assert len(policy.description) > 40 and policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)
    by_name = {p.name: p for p in POLICIES}
    assert by_name["ingress-backends-exist"].enforcement_level is EnforcementLevel.MANDATORY
    assert by_name["container-hardening"].enforcement_level is EnforcementLevel.ADVISORY


def test_unknown_values_at_preview_never_report_a_violation() -> None:
    """A resource policy lets UnknownValueError through (the analyzer turns it into a 'cannot run
    during preview' note); a stack policy skips the namespace whose resources are not known yet."""
    manifests = baseline()
    manifests["ingress"]["metadata"]["annotations"]["kubernetes.io/ingress.class"] = internals.UNKNOWN_STRING_VALUE
    manifests["ingress"]["spec"]["defaultBackend"]["service"]["name"] = internals.UNKNOWN_STRING_VALUE
    ingress_policy = next(p for p in POLICIES if p.name == "ingress-gce-class")
    assert isinstance(ingress_policy, ResourceValidationPolicy)
    found: list[str] = []
    props = internals.unknown_checking_proxy(manifests["ingress"])
    args = ResourceValidationArgs("kubernetes:networking.k8s.io/v1:Ingress", props, "urn:i", "web", _options(), None, {})
    with pytest.raises(internals.unknown_value_error()):
        ingress_policy.validate(args, collect(found))
    assert found == []

    from pulumi_policy import PolicyResource

    resources = [
        PolicyResource(f"kubernetes:x:{m['kind']}", internals.unknown_checking_proxy(m), f"urn:{k}", k, _options(), None, None, [], {})
        for k, m in manifests.items()
    ]
    backends = next(p for p in POLICIES if p.name == "ingress-backends-exist")
    assert isinstance(backends, StackValidationPolicy)
    backends.validate(StackValidationArgs(resources, {}), collect(found))
    assert found == []


def test_stack_policy_still_judges_fully_known_namespaces() -> None:
    manifests = baseline()
    manifests["ingress"]["spec"]["defaultBackend"]["service"]["name"] = "coditect-api-v2"
    from pulumi_policy import PolicyResource

    resources = [
        PolicyResource(f"kubernetes:x:{m['kind']}", internals.unknown_checking_proxy(m), f"urn:{k}", k, _options(), None, None, [], {})
        for k, m in manifests.items()
    ]
    found: list[tuple[str, str | None]] = []
    backends = next(p for p in POLICIES if p.name == "ingress-backends-exist")
    assert isinstance(backends, StackValidationPolicy)
    backends.validate(StackValidationArgs(resources, {}), collect_with_urn(found))
    assert len(found) == 1 and "coditect-api-v2" in found[0][0] and found[0][1] == "urn:ingress"


def test_pack_config_overrides_enforcement_like_the_cli() -> None:
    case = next(c for c in CASES if c.rule == "ingress-backend-service-exists")
    config, secrets = stack_config("dev")
    run = run_program("dev", config=config, secret_keys=secrets, program=lambda: declare(case.manifests()))
    dev = load_pack_config("dev")
    assert mandatory_rules(run_policies(run.resources, dev)) == {"ingress-backend-service-exists"}
    advisory = {**dev, "ingress-backends-exist": {"enforcementLevel": "advisory"}}
    assert run_policies(run.resources, advisory) != []
    assert mandatory_rules(run_policies(run.resources, advisory)) == set()
    assert run_policies(run.resources, {"all": "disabled"}) == []
