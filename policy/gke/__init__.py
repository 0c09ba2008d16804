"""What GKE's Ingress controller (ingress-gce) really does, as data and as rules.

Written once and used by the components (raised while the program runs), by the policy
pack (on whatever resources a stack registers) and by the offline check (on rendered
manifests). Sources for every limit are in ``limits.py``.
"""

from gke import limits, rules
from gke.findings import Finding, Level

__all__ = ["Finding", "Level", "limits", "rules"]
