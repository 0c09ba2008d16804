"""What GKE's Ingress controller (ingress-gce) really does, as data and as rules.

Written once and used by the components (before anything is declared), by the policy pack (on
whatever resources a stack registers) and by the offline check (on rendered manifests). Sources for
every limit are in ``limits.py``; every rule names its source where it registers (``rules/``).
The package needs nothing but the standard library, so the policy pack carries it as it is.

Layers, each importing only those before it: ``limits``, ``findings``, ``manifest``; ``stack`` and
``reachability`` (views over manifests); the model the rules are written in (``model``); the policies
(``policies``, and ``enforcement`` for per-stack levels); the registry (``registry``); the rules
(``rules``), which register themselves. This package imports ``rules``, so ``all_rules()`` is complete
after any ``import gke...`` (tests/test_layering.py checks that no import circle remains).
"""

from . import limits
from . import rules as _rules  # noqa: F401  (registers every rule)
from .findings import Finding, Level
from .model import Containment, Context, Policy, Problem, Rule, Scope
from .registry import all_rules, evaluate, evaluate_resource, evaluate_stack, rule, rules_of

__all__ = [
    "Containment",
    "Context",
    "Finding",
    "Level",
    "Policy",
    "Problem",
    "Rule",
    "Scope",
    "all_rules",
    "evaluate",
    "evaluate_resource",
    "evaluate_stack",
    "limits",
    "rule",
    "rules_of",
]
