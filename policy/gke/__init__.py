"""What GKE's Ingress controller (ingress-gce) really does, as data and as rules.

Written once and used by the components (before anything is declared), by the policy pack (on
whatever resources a stack registers) and by the offline check (on rendered manifests). Sources for
every limit are in ``limits.py``; every rule names its source in the registry (``registry.py``).
The package needs nothing but the standard library, so the policy pack carries it as it is.
"""

from gke import limits
from gke.findings import Finding, Level
from gke.registry import (
    Containment,
    Context,
    Policy,
    Problem,
    Rule,
    Scope,
    all_rules,
    evaluate,
    evaluate_resource,
    evaluate_stack,
    rule,
    rules_of,
)

__all__ = [
    "Containment", "Context", "Finding", "Level", "Policy", "Problem", "Rule", "Scope", "all_rules", "evaluate", "evaluate_resource",
    "evaluate_stack", "limits", "rule", "rules_of",
]
