"""Containment rules R7-R9 for pods that run their users' code: sandbox, identity, the namespace default deny and shared tenancy."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .. import limits
from .. import policies as policy
from ..manifest import (
    HPA,
    Manifest,
    as_list,
    containers,
    field_at,
    mapping_at,
    namespace_of,
    pod_spec,
    reference,
)
from ..model import Context, Problem
from ..registry import stack_rule
from ..rules.user_code import BINDING_KINDS, NETWORK_POLICY, SERVICE_ACCOUNT, WORKLOADS, network_policies, user_code_workloads
from ..stack import StackView


def _host_access(workload: Manifest) -> list[str]:
    pod = pod_spec(workload)
    found = [field for field in ("hostNetwork", "hostPID", "hostIPC") if pod.get(field) is True]
    found += [f"volume {v.get('name')!r} is a hostPath" for v in as_list(pod.get("volumes")) if isinstance(v, Mapping) and v.get("hostPath")]
    for container in containers(workload):
        context = mapping_at(container, "securityContext")
        if context.get("privileged") is True:
            found.append(f"container {container.get('name')!r} is privileged")
        if as_list(field_at(context, "capabilities", "add")):
            found.append(f"container {container.get('name')!r} adds capabilities")
        limits_ = mapping_at(container, "resources", "limits")
        if limits_.get("cpu") is None or limits_.get("memory") is None:
            found.append(f"container {container.get('name')!r} has no cpu and memory limits")
    return found


@stack_rule(
    "ide-sandboxed",
    policy.IDE_SANDBOX,
    WORKLOADS,
    "Pods that run user code: runtimeClassName gvisor where required, limits on every container, no host access.",
    "R7: https://cloud.google.com/kubernetes-engine/docs/concepts/sandbox-pods; https://kubernetes.io/docs/concepts/security/pod-security-standards/",
)
def sandboxed(stack: StackView, context: Context) -> Iterator[Problem]:
    for workload in user_code_workloads(stack):
        if context.containment.sandbox_required and pod_spec(workload).get("runtimeClassName") != limits.GVISOR_RUNTIME_CLASS:
            yield Problem(
                f"runs user code outside GKE Sandbox (runtimeClassName {pod_spec(workload).get('runtimeClassName')!r}) although "
                "the stack requires it: a kernel exploit from the terminal reaches the node.",
                f"set runtimeClassName: {limits.GVISOR_RUNTIME_CLASS} (containment.sandbox).",
                resource=reference(workload),
                subject="spec.template.spec.runtimeClassName",
            )
        for problem in _host_access(workload):
            yield Problem(
                f"runs user code with host access or unbounded resources: {problem}.",
                "remove it; pods that run user code get no host access and set limits.",
                resource=reference(workload),
                subject=problem,
            )


def _service_account(stack: StackView, workload: Manifest) -> tuple[str, Manifest | None]:
    name = str(pod_spec(workload).get("serviceAccountName") or "default")
    return name, stack.index(SERVICE_ACCOUNT).get((namespace_of(workload), name))


def _bindings_naming(stack: StackView, namespace: str, name: str) -> list[Manifest]:
    found = []
    for kind in BINDING_KINDS:
        for binding in stack.of_kind(kind):
            for subject in as_list(field_at(binding, "subjects")):
                if (
                    field_at(subject, "kind") == "ServiceAccount"
                    and field_at(subject, "name") == name
                    and (field_at(subject, "namespace") or namespace_of(binding)) == namespace
                ):
                    found.append(binding)
    return found


@stack_rule(
    "ide-identity",
    policy.IDE_IDENTITY,
    (SERVICE_ACCOUNT, *BINDING_KINDS, *WORKLOADS),
    "The service account of pods that run user code: no Workload Identity annotation, no mounted token, no RBAC binding.",
    "R8: https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity",
)
def identity(stack: StackView, _context: Context) -> Iterator[Problem]:
    for workload in user_code_workloads(stack):
        name, account = _service_account(stack, workload)
        where = reference(workload)
        annotations = mapping_at(account, "metadata", "annotations") if account else {}
        if limits.WORKLOAD_IDENTITY_ANNOTATION in annotations:
            yield Problem(
                f"runs user code as service account {name!r}, bound to Google service account "
                f"{annotations[limits.WORKLOAD_IDENTITY_ANNOTATION]!r}: anyone at the terminal gets its Google credentials.",
                f"remove {limits.WORKLOAD_IDENTITY_ANNOTATION} from the service account.",
                resource=where,
                subject=name,
            )
        if pod_spec(workload).get("automountServiceAccountToken") is not False or (
            account is not None and account.get("automountServiceAccountToken") is not False
        ):
            yield Problem(
                f"mounts a token of service account {name!r} into pods that run user code.",
                "set automountServiceAccountToken: false on the pod and the service account.",
                resource=where,
                subject=name,
            )
        for binding in _bindings_naming(stack, namespace_of(workload), name):
            yield Problem(
                f"runs user code as service account {name!r}, which {reference(binding)} grants Kubernetes API access.",
                "remove the binding: the IDE needs no API access.",
                resource=where,
                subject=reference(binding),
            )


@stack_rule(
    "namespace-default-deny",
    policy.NAMESPACE_DEFAULT_DENY,
    (NETWORK_POLICY, *WORKLOADS),
    "A namespace with pods that run user code has a default deny of ingress and egress.",
    "R1: https://kubernetes.io/docs/concepts/security/multi-tenancy/#network-isolation",
)
def default_deny(stack: StackView, _context: Context) -> Iterator[Problem]:
    namespaces = sorted({namespace_of(w) for w in user_code_workloads(stack)})
    for namespace in namespaces:
        denies = [
            p
            for p in network_policies(stack)
            if namespace_of(p) == namespace
            and not mapping_at(p, "spec", "podSelector")
            and {"Ingress", "Egress"} <= set(as_list(field_at(p, "spec", "policyTypes")))
            and not as_list(field_at(p, "spec", "egress"))
            and not as_list(field_at(p, "spec", "ingress"))
        ]
        if not denies:
            yield Problem(
                f"namespace {namespace!r} runs user code without a default-deny NetworkPolicy: a pod added later is open.",
                "declare podSelector {} with policyTypes [Ingress, Egress] and no rules.",
                resource=f"Namespace {namespace}",
            )


@stack_rule(
    "shared-tenancy",
    policy.SHARED_TENANCY,
    (*WORKLOADS, HPA),
    "Said on every render: users share the IDE's pods (a per-user session workload would isolate them).",
    "R9: https://kubernetes.io/docs/concepts/security/multi-tenancy/#network-isolation",
)
def shared_tenancy(stack: StackView, _context: Context) -> Iterator[Problem]:
    for workload in user_code_workloads(stack):
        yield Problem(
            "several users share each pod (one UID, one filesystem): any user's code can read another's workspace and "
            "processes; the infrastructure here cannot separate them.",
            "run one sandboxed workload per user session, behind authentication.",
            resource=reference(workload),
        )
