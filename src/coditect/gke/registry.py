"""The rule registry: read by the components, the policy pack, the offline check, the tests and the
rule tables of the docs.

Each rule module of ``gke.rules`` registers its checks here when it is imported (``resource_rule``,
``stack_rule``); ``gke.rules`` imports them all, and the package ``gke`` imports ``gke.rules``, so the
registry is complete whichever module of ``gke`` a caller imports first. The registry itself imports
no rule (as in stackrox/kube-linter, where each template registers itself with pkg/templates and
pkg/templates/all/all.go imports them all).

A ``Rule`` judges one kind of object (scope ``RESOURCE``) or cross-references across the stack
(scope ``STACK``); the registry turns the ``Problem``s of its check into ``Finding``s with the rule id,
the level (after any per-stack override) and the object's reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .findings import Finding
from .manifest import Manifest, kind_of, reference
from .model import Context, Levels, Policy, Problem, ResourceCheck, Rule, Scope, StackCheck
from .stack import StackView

_RULES: dict[str, Rule] = {}
NO_CONTEXT = Context()  # a stack that declares nothing beyond its manifests


def _register(rule: Rule) -> None:
    if rule.id in _RULES:
        raise ValueError(f"rule id {rule.id!r} is registered twice")
    _RULES[rule.id] = rule


def resource_rule(rule_id: str, policy: Policy, kinds: Iterable[str], summary: str, source: str) -> Callable[[ResourceCheck], ResourceCheck]:
    """Register a check of one object of the given kinds."""
    if policy.scope is not Scope.RESOURCE:
        raise ValueError(f"rule {rule_id}: policy {policy.name} is a {policy.scope.value} policy")

    def register(check: ResourceCheck) -> ResourceCheck:
        _register(Rule(rule_id, policy, summary, source, frozenset(kinds), check))
        return check

    return register


def stack_rule(rule_id: str, policy: Policy, kinds: Iterable[str], summary: str, source: str) -> Callable[[StackCheck], StackCheck]:
    """Register a cross-reference check over the whole stack."""
    if policy.scope is not Scope.STACK:
        raise ValueError(f"rule {rule_id}: policy {policy.name} is a {policy.scope.value} policy")

    def register(check: StackCheck) -> StackCheck:
        _register(Rule(rule_id, policy, summary, source, frozenset(kinds), check))
        return check

    return register


def all_rules() -> tuple[Rule, ...]:
    """Every registered rule, in registration order (grouped by the object it judges)."""
    return tuple(_RULES.values())


def rule(rule_id: str) -> Rule:
    return _RULES[rule_id]


def rules_of(policy: Policy) -> tuple[Rule, ...]:
    return tuple(r for r in all_rules() if r.policy == policy)


def _finding(rule: Rule, problem: Problem, where: str, levels: Levels | None) -> Finding:
    level = (levels or {}).get(rule.policy.name, rule.level)
    return Finding(problem.resource or where, rule.id, problem.problem, problem.fix, level, problem.subject)


def evaluate_resource(manifest: Manifest, levels: Levels | None = None, only: Iterable[Rule] | None = None) -> list[Finding]:
    """Findings of every resource rule that reads this manifest's kind."""
    kind = kind_of(manifest)
    selected = all_rules() if only is None else tuple(only)
    where = reference(manifest)
    findings: list[Finding] = []
    for candidate in selected:
        if candidate.scope is Scope.RESOURCE and kind in candidate.kinds:
            findings.extend(_finding(candidate, p, where, levels) for p in candidate.check(manifest))
    return findings


def evaluate_stack(
    manifests: Sequence[Manifest], context: Context = NO_CONTEXT, levels: Levels | None = None, reading: Iterable[str] | None = None
) -> list[Finding]:
    """Findings of every stack rule over these manifests (with `reading`: only the rules that read one
    of those kinds, for a partial view of a stack)."""
    view = StackView(manifests)
    kinds = frozenset(reading) if reading is not None else None
    findings: list[Finding] = []
    for candidate in all_rules():
        if candidate.scope is Scope.STACK and (kinds is None or candidate.kinds & kinds):
            findings.extend(_finding(candidate, p, "stack", levels) for p in candidate.check(view, context))
    return findings


def evaluate(manifests: Sequence[Manifest], context: Context = NO_CONTEXT, levels: Levels | None = None) -> list[Finding]:
    """Every rule, resource and stack, over a set of manifests."""
    findings = [f for m in manifests for f in evaluate_resource(m, levels)]
    return findings + evaluate_stack(manifests, context, levels)
