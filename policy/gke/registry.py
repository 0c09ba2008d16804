"""Rules as first-class objects: one registry, read by the components, the policy pack, the offline
check, the tests and the README's rule table.

A ``Rule`` judges one kind of object (scope ``RESOURCE``) or cross-references across the stack
(scope ``STACK``). Each belongs to one ``Policy``: the unit the policy pack publishes and the level
it is enforced at. A rule's check yields ``Problem``s; the registry turns them into ``Finding``s
with the rule id, the level (after any per-stack override) and the object's reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from gke.findings import Finding, Level
from gke.manifest import Manifest, kind_of, reference

if TYPE_CHECKING:
    from gke.stack import StackView


class Scope(StrEnum):
    RESOURCE = "resource"  # judges one object on its own
    STACK = "stack"  # judges what only cross-references reveal


@dataclass(frozen=True)
class Policy:
    """A named group of rules enforced at one level: one CrossGuard policy of the pack."""

    name: str
    description: str
    level: Level
    scope: Scope


@dataclass(frozen=True)
class Problem:
    """What a rule's check reports; the registry adds rule id, level and (by default) the object."""

    problem: str
    fix: str
    resource: str | None = None  # a stack rule names the object it blames
    subject: str | None = None  # a container name or field path inside that object


@dataclass(frozen=True)
class Containment:
    """What a stack declares about the pods that run its users' code (settings ``containment``)."""

    sandbox_required: bool = False  # those pods must run in GKE Sandbox (runtimeClassName gvisor)
    dns: str = "node-local"  # the resolver they query: node-local, kube-dns or cloud-dns (limits.DNS_CHOICES)
    internet_ports: frozenset[int] = frozenset({443})  # where on the internet they may connect
    cluster_ranges: tuple[str, ...] = ()  # the cluster's pod, service, node and control-plane CIDRs


@dataclass(frozen=True)
class Context:
    """What a stack knows beyond its manifests."""

    # The shortest WebSocket session that must survive; None: do not judge the timeout against one.
    min_session_sec: int | None = None
    containment: Containment = Containment()


ResourceCheck = Callable[[Manifest], Iterable[Problem]]
StackCheck = Callable[["StackView", Context], Iterable[Problem]]


@dataclass(frozen=True)
class Rule:
    id: str
    policy: Policy
    summary: str  # one line: what must hold
    source: str  # where GKE's behaviour behind the rule is written down
    kinds: frozenset[str]  # the object kinds the rule reads
    check: Callable[..., Iterable[Problem]]

    @property
    def level(self) -> Level:
        return self.policy.level

    @property
    def scope(self) -> Scope:
        return self.policy.scope


_RULES: dict[str, Rule] = {}


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
    _load_rule_modules()
    return tuple(_RULES.values())


def rule(rule_id: str) -> Rule:
    _load_rule_modules()
    return _RULES[rule_id]


def rules_of(policy: Policy) -> tuple[Rule, ...]:
    return tuple(r for r in all_rules() if r.policy == policy)


def _load_rule_modules() -> None:
    # The rule modules register themselves on import; importing them here keeps the registry
    # complete whichever module a caller imported first.
    from gke import backend_config, cloud_armor, ingress, references, service, sessions, tls, user_code, workload  # noqa: F401


Levels = Mapping[str, Level]  # policy name -> level, overriding the policy's own


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


def evaluate_stack(manifests: Sequence[Manifest], context: Context = Context(), levels: Levels | None = None,
                   reading: Iterable[str] | None = None) -> list[Finding]:
    """Findings of every stack rule over these manifests (with `reading`: only the rules that read one
    of those kinds, for a partial view of a stack)."""
    from gke.stack import StackView

    view = StackView(manifests)
    kinds = frozenset(reading) if reading is not None else None
    findings: list[Finding] = []
    for candidate in all_rules():
        if candidate.scope is Scope.STACK and (kinds is None or candidate.kinds & kinds):
            findings.extend(_finding(candidate, p, "stack", levels) for p in candidate.check(view, context))
    return findings


def evaluate(manifests: Sequence[Manifest], context: Context = Context(), levels: Levels | None = None) -> list[Finding]:
    """Every rule, resource and stack, over a set of manifests."""
    findings = [f for m in manifests for f in evaluate_resource(m, levels)]
    return findings + evaluate_stack(manifests, context, levels)


def problems(*found: Problem | None) -> Iterator[Problem]:
    """The problems that were found (a check's helpers return None when all is well)."""
    return (p for p in found if p is not None)
