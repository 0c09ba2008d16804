"""The probe's only access to the cluster, through the official `kubernetes` client: create the Job,
read it and its pod, read the pod's log, delete the Job. Nothing else is written.

RBAC (namespace of the IDE): jobs (batch) create, get, delete; pods list; pods/log get.
A 403 stops the run naming the verb and resource that is missing (the caller's no-access exit); a 401 says the credentials are
refused, and an answer not of the shape read here (livestate/shapes.py) is Malformed (exit 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes import client

from livestate.kube import KubernetesApi, list_page, parse_object
from livestate.model import Malformed, Unreachable
from livestate.shapes import Shape, check

Json = dict[str, Any]
API = "Kubernetes API"
LOG_LIMIT = 64 * 1024  # the script prints a line per probe; more is not its output
# What _finished and _pod_state (ops/probe/run.py) read: batch/v1 JobStatus.conditions, core/v1 PodStatus
# (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/job-v1/#JobStatus,
# https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#PodStatus).
JOB_SHAPE: Shape = (("status.conditions[].type", str), ("status.conditions[].status", str), ("status.conditions[].reason", str))
POD_SHAPE: Shape = (
    ("metadata.name", str),
    ("status.phase", str),
    ("status.containerStatuses[].state.waiting.reason", str),
    ("status.containerStatuses[].state.waiting.message", str),
    ("status.conditions[].type", str),
    ("status.conditions[].status", str),
    ("status.conditions[].message", str),
)


class JobClient(KubernetesApi):
    def __init__(self, context: str, kubeconfig: str | None = None, timeout: float = 10.0) -> None:
        super().__init__(context, kubeconfig, timeout)
        self.batch = client.BatchV1Api(self._client)
        self.core = client.CoreV1Api(self._client)

    def create(self, job: Mapping[str, Any]) -> None:
        namespace, name = str(job["metadata"]["namespace"]), str(job["metadata"]["name"])
        self.call("create", "jobs", "batch", namespace, self.batch.create_namespaced_job, namespace, job, what=f"creating Job {namespace}/{name}")

    def job(self, namespace: str, name: str) -> Json | None:
        what = f"Job {namespace}/{name}"
        found = parse_object(self.call("get", "jobs", "batch", namespace, self.batch.read_namespaced_job, name, namespace, what=what), what)
        if found is not None:
            check(found, JOB_SHAPE, API, what)
        return found

    def pods(self, namespace: str, selector: str) -> list[Json]:
        """The Job's pods: one page (a Job with backoffLimit 0 has one pod); a list that says it is partial is Malformed."""
        what = f"the Pod list of {namespace} ({selector})"
        found = parse_object(self.call("list", "pods", "", namespace, self.core.list_namespaced_pod, namespace, label_selector=selector, what=what), what)
        if found is None:
            return []
        items, token = list_page(found, what)
        if token:
            raise Malformed(API, what, "the list is partial (metadata.continue set) although the Job has one pod")
        for index, pod in enumerate(items):
            check(pod, POD_SHAPE, API, f"{what} item {index}")
            if not (pod.get("metadata") or {}).get("name"):
                raise Malformed(API, f"{what} item {index}", "metadata.name is missing")
        return items

    def log(self, namespace: str, pod: str, container: str) -> str:
        """The container's log, at most LOG_LIMIT bytes (asked of the API and capped here); "" when there is none
        yet (the container never started: HTTP 400)."""
        what = f"the log of pod {namespace}/{pod} container {container}"
        try:
            body = self.call(
                "get",
                "pods/log",
                "",
                namespace,
                self.core.read_namespaced_pod_log,
                pod,
                namespace,
                container=container,
                limit_bytes=LOG_LIMIT,
                what=what,
                max_bytes=LOG_LIMIT,
            )
        except Unreachable as error:
            if error.detail.startswith("HTTP 400"):
                return ""
            raise
        return body.decode("utf-8", "replace") if body else ""

    def delete(self, namespace: str, name: str) -> None:
        """Delete the Job and, in the background, its pod (a Job already gone is fine)."""
        self.call(
            "delete",
            "jobs",
            "batch",
            namespace,
            self.batch.delete_namespaced_job,
            name,
            namespace,
            body=client.V1DeleteOptions(propagation_policy="Background"),
            what=f"deleting Job {namespace}/{name}",
        )
