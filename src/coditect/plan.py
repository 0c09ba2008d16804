"""Judge the whole stack once, before anything is declared.

The Python SDK sends every resource registered before a program raises to the engine anyway
(``pulumi/runtime/stack.py``: ``run_pulumi_func`` awaits ``wait_for_rpcs`` after the exception), so
during ``pulumi up`` a component that refuses a setup after others were constructed would leave
those others created. Inside a ``DeclarationPlan`` components only build their manifests and queue
the creation of their resources; when the plan closes, every GKE rule runs once over all the
manifests, and only a stack with no mandatory finding gets its resources created, in order.

Outside a plan (a component used on its own) each component judges its own objects and declares
them at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pulumi

from coditect import gke
from coditect.base import enforce, pack_levels
from coditect.gke import Finding, Level
from coditect.gke import gateway_limits as gw
from coditect.gke.manifest import Manifest

Creation = Callable[[], None]


@dataclass
class DeclarationPlan:
    context: gke.Context
    levels: dict[str, Level]
    manifests: list[Manifest] = field(default_factory=list)
    creations: list[Creation] = field(default_factory=list)

    def findings(self) -> list[Finding]:
        return gke.evaluate(self.manifests, self.context, self.levels)


_ACTIVE: list[DeclarationPlan] = []


# What a component used on its own can cross-check: the routing from a front door (an Ingress, or a Gateway
# with its HTTPRoutes and GKE policies) to its Services, BackendConfigs and pods. Rules about the whole
# namespace (egress, identity) need every object of the stack, which only a plan sees.
ROUTING_KINDS = frozenset(
    {
        "Ingress",
        "Service",
        "BackendConfig",
        "FrontendConfig",
        "ManagedCertificate",
        gw.GATEWAY,
        gw.HTTP_ROUTE,
        gw.GCP_BACKEND_POLICY,
        gw.HEALTH_CHECK_POLICY,
        gw.GCP_GATEWAY_POLICY,
    }
)


def declare(where: str, manifests: Sequence[Manifest], create: Creation, stack: Sequence[Manifest] = (), context: gke.Context | None = None) -> None:
    """Judge and declare a component's objects: queued while a plan is open, at once otherwise.

    ``stack``: further manifests the component's objects refer to (what a component used on its
    own can still cross-check: the routing rules); a plan sees every manifest of the stack instead.
    """
    if _ACTIVE:
        _ACTIVE[-1].manifests.extend(manifests)
        _ACTIVE[-1].creations.append(create)
        return
    levels = pack_levels()  # a component used on its own: the pack's own levels
    findings = [f for m in manifests for f in gke.evaluate_resource(m, levels)]
    if stack:
        findings += gke.evaluate_stack(list(stack), context or gke.Context(), levels, reading=ROUTING_KINDS)
    enforce(where, findings)
    create()


Refusal = Callable[[list[Finding]], Exception]


@contextmanager
def declaration_plan(context: gke.Context, refuse: Refusal, levels: dict[str, Level] | None = None) -> Iterator[DeclarationPlan]:
    """Collect what the components in the block declare; judge it all; create it or raise ``refuse(mandatory)``."""
    plan = DeclarationPlan(context, pack_levels() if levels is None else levels)
    _ACTIVE.append(plan)
    try:
        yield plan
    finally:
        _ACTIVE.pop()
    findings = plan.findings()
    for finding in findings:
        if finding.level is Level.ADVISORY:
            pulumi.log.warn(finding.message)
    mandatory = [f for f in findings if f.level is Level.MANDATORY]
    if mandatory:
        raise refuse(mandatory)
    for create in plan.creations:
        create()
