"""What the containment rules (R1-R9) share: which pods run their users' code, and the kinds they read.

Pods that run user code (the IDE gives its users a terminal) are the pod templates labelled
``coditect.ai/runs-user-code: "true"``. The rules live in user_code_egress (R1-R6, what the pods may
reach, evaluated once by ``gke.reachability``) and user_code_pods (R7-R9 and the namespace default deny).
This module registers no rule.
"""

from __future__ import annotations

from .. import limits
from ..manifest import WORKLOAD_KINDS, Manifest, pod_labels
from ..stack import StackView

NETWORK_POLICY = "NetworkPolicy"
SERVICE_ACCOUNT = "ServiceAccount"
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
WORKLOADS = tuple(sorted(WORKLOAD_KINDS))
DNS_PORT = 53


def runs_user_code(workload: Manifest) -> bool:
    return str(pod_labels(workload).get(limits.RUNS_USER_CODE_LABEL, "")).lower() == "true"


def user_code_workloads(stack: StackView) -> list[Manifest]:
    return [w for w in stack.workloads if runs_user_code(w)]


def network_policies(stack: StackView) -> list[Manifest]:
    return stack.of_kind(NETWORK_POLICY)
