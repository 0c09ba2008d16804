"""The library behind `ops check` and `ops render`: a stack run in memory and every check applied to
it: the policy pack (with the stack's committed policy/config/<stack>.json, as the CLI gets it), strict
schemas and Google's API types.

The policy pack runs the same rule code as the components (the ``gke`` registry), here applied to
whatever the program registered, including raw ``pulumi_kubernetes`` resources declared
outside the components.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from coditect.gke import Level
from coditect.gke.enforcement import enforced_levels
from coditect.settings import Settings, SettingsError, parse_settings, project_keys
from ops import gcp_api
from ops.errors import UsageError
from ops.gcp_api import ApiProblem
from ops.manifests import gcp_resources, manifests_of
from ops.pack_config import config_path
from ops.policy_gate import PackConfigError, Violation, load_pack_config, run_policies
from ops.program import ROOT, ProgramRun, missing_components, run_program, stack_config
from ops.schemas import SchemaProblem, validate_all


@dataclass
class StackReport:
    stack: str
    run: ProgramRun | None = None
    manifests: list[dict[str, Any]] = field(default_factory=list)
    gcp: list[dict[str, Any]] = field(default_factory=list)
    invariant: str | None = None  # the program refused to run (InvariantError)
    findings: list[Violation] = field(default_factory=list)
    schema_problems: list[SchemaProblem] = field(default_factory=list)
    api_problems: list[ApiProblem] = field(default_factory=list)  # Google Cloud resources vs Google's API types
    # At preview: what could not be judged because a value is unknown until deploy (never a pass).
    unknown_at_preview: list[str] = field(default_factory=list)
    settings: Settings | None = None  # the stack's validated settings (what render generates its pack config from)

    @property
    def mandatory(self) -> list[Violation]:
        return [f for f in self.findings if f.level is Level.MANDATORY]

    @property
    def advisory(self) -> list[Violation]:
        return [f for f in self.findings if f.level is Level.ADVISORY]

    @property
    def ok(self) -> bool:
        return self.invariant is None and not self.mandatory and not self.schema_problems and not self.api_problems

    def problems(self) -> list[str]:
        """One line per problem: resource, rule, fix."""
        lines: list[str] = []
        if self.invariant:
            lines.append(f"[program] {self.invariant}")
        lines += [str(v) for v in self.mandatory]
        lines += [f"[schema] {p}" for p in self.schema_problems]
        lines += [f"[gcp-api] {p}" for p in self.api_problems]
        return lines

    def record(self) -> dict[str, Any]:
        """The machine-readable verdict (`--json`): status, and each problem with its rule, resource and fix."""
        problems = [problem_record("program", None, self.invariant)] if self.invariant else []
        problems += [violation_record(v) for v in self.mandatory]
        problems += [problem_record("schema", p.resource, p.message) for p in self.schema_problems]
        problems += [{**problem_record("gcp-api", p.resource, p.message), "field": p.field} for p in self.api_problems]
        return {
            "stack": self.stack,
            "status": "ok" if self.ok else "failed",
            "preview": bool(self.run and self.run.preview),
            "objects": len(self.manifests),
            "gcp_resources": len(self.gcp),
            "problems": problems,
            "advisory": [violation_record(v) for v in self.advisory],
            "not_judged_at_preview": list(self.unknown_at_preview),
        }


def problem_record(rule: str | None, resource: str | None, problem: str, fix: str | None = None) -> dict[str, Any]:
    """One problem of `--json`: which rule, which resource, what is wrong, how to fix it (None where the source has no such part)."""
    return {"rule": rule, "resource": resource, "problem": problem, "fix": fix}


def violation_record(violation: Violation) -> dict[str, Any]:
    """A policy finding as `--json` gives it; a foreign policy's message, which carries no finding, whole."""
    finding = violation.finding
    if finding is None:
        record = problem_record(None, violation.urn or None, violation.message)
    else:
        record = {**problem_record(finding.rule, finding.resource, finding.problem, finding.fix), "subject": finding.subject}
    return {**record, "policy": violation.policy, "level": violation.level.value}


def settings_for(stack: str, root: Path = ROOT, stack_text: str | None = None) -> tuple[dict[str, str], list[str], Settings]:
    """The stack's engine config, secret keys and validated settings, or UsageError."""
    config, secrets = stack_config(stack, root, stack_text)  # StackFileError is a UsageError
    try:
        settings = parse_settings(project_keys(config), stack)
    except SettingsError as error:
        raise UsageError(str(error)) from None
    return config, secrets, settings


def check_stack(
    stack: str,
    root: Path = ROOT,
    program: Any = None,
    stack_text: str | None = None,
    preview: bool = False,
    pack_config: Callable[[Settings], dict[str, Any]] | None = None,
) -> StackReport:
    """Run the stack's program under mocks (with `stack_text` as its stack file, when given) and check
    it, as `pulumi up` runs it or, with `preview`, as `pulumi preview` does. The policy pack gets
    policy/config/<stack>.json, as the CLI does; `pack_config` (`render`, which writes that file)
    gives the config to judge with instead, from the stack's settings. The committed file is read
    either way: a broken one stops render too (its levels are what components read)."""
    config, secrets, settings = settings_for(stack, root, stack_text)
    config_file = config_path(root, stack)
    try:
        committed = load_pack_config(stack, config_file.parent)
        enforced_levels(committed, str(config_file))  # every level valid before the program reads them
    except PackConfigError as error:
        raise UsageError(str(error)) from None
    judged_with = pack_config(settings) if pack_config is not None else committed
    report = StackReport(stack, settings=settings)
    try:
        run = run_program(stack, config=config, secret_keys=secrets, root=root, program=program, preview=preview)
    except SettingsError as error:
        raise UsageError(str(error)) from None
    except pulumi.RunError as error:  # InvariantError: the components refused the setup
        report.invariant = str(error)
        return report
    except Exception as error:
        report.invariant = f"the program failed: {type(error).__name__}: {error}"
        return report
    missing = missing_components(run) if program is None else [] if run.resources else ["any resource (the program registered none)"]
    if missing:  # a run that declared nothing (or not the app) must not pass as a stack that checks clean
        report.invariant = (
            f"the program ran but did not declare {', '.join(missing)}: there is nothing to check. "
            "Fix: __main__.py must declare the app (coditect.app.build_app) and run to its end"
        )
        return report
    report.run = run
    report.manifests = manifests_of(run)
    report.gcp = gcp_resources(run.resources)
    # The policy pack's own policies, with the stack's --policy-pack-config file.
    report.findings = run_policies(run.resources, judged_with, unjudged=report.unknown_at_preview)
    # Gateway kinds against the CRD bundle the stack says its cluster has (R11), not every vendored one.
    report.schema_problems = validate_all(report.manifests, bundle=settings.gateway.bundle_version)
    for resource in run.resources:
        if resource.custom and gcp_api.is_google_cloud(resource.type):
            api = gcp_api.check(resource.type, resource.name, resource.inputs)
            report.api_problems += api.problems
            report.unknown_at_preview += [f"{field} (Google API type)" for field in api.unknown]
    return report
