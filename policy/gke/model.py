"""The model every rule is written in: the ``Policy`` a rule belongs to and its ``Scope``, the ``Rule``
itself, the ``Problem`` its check reports, the ``Context`` a stack rule judges with, and the small
helpers the rule modules share.

Imports no rule and not the registry: the rules (``gke.rules``) import this module and register
themselves with ``gke.registry``, which imports this module too (kube-linter's layout: a check
registry that knows no check, and one module that imports them all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gke import limits
from gke.findings import Level
from gke.manifest import Manifest, as_number
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
    dns: str = limits.DEFAULT_DNS  # the resolver they query: node-local, kube-dns or cloud-dns (limits.DNS_CHOICES)
    internet_ports: frozenset[int] = frozenset(limits.DEFAULT_INTERNET_PORTS)  # where on the internet they may connect
    cluster_ranges: tuple[str, ...] = ()  # the cluster's pod, service, node and control-plane CIDRs


@dataclass(frozen=True)
class Context:
    """What a stack knows beyond its manifests."""

    # The shortest WebSocket session that must survive; None: do not judge the timeout against one.
    min_session_sec: int | None = None
    containment: Containment = Containment()
    gateway_bundle: str | None = None  # the cluster's Gateway API CRD bundle ("v1.3.0"/"v1.5.1"); None: no Gateway judged against one


ResourceCheck = Callable[[Manifest], Iterable[Problem]]
StackCheck = Callable[[StackView, Context], Iterable[Problem]]
Levels = Mapping[str, Level]  # policy name -> level, overriding the policy's own


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


def problems(*found: Problem | None) -> Iterator[Problem]:
    """The problems that were found (a check's helpers return None when all is well)."""
    return (p for p in found if p is not None)


def out_of_range(field: str, value: Any, bounds: tuple[int, int], fix_hint: str = "") -> Problem | None:
    """A problem when ``field`` is set but is not a whole number inside ``bounds`` (absent is the caller's)."""
    if value is None:
        return None
    number = as_number(value)
    low, high = bounds
    if number is None or number != int(number) or not low <= number <= high:
        return Problem(
            f"{field} is {value!r}, outside GKE's allowed range {low}..{high}.", f"set {field} to a whole number from {low} to {high}{fix_hint}.", subject=field
        )
    return None
