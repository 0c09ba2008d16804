"""The probe's only access to the cluster, through the official `kubernetes` client: create the Job,
read it and its pod, read the pod's log, delete the Job. Nothing else is written.

RBAC (namespace of the IDE): jobs (batch) create, get, delete; pods list; pods/log get.
A 401/403 stops the run naming the verb and resource that is missing (exit 3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kubernetes import client

from ops.inspect.kube import KubernetesApi
from ops.inspect.model import Unreachable

Json = dict[str, Any]
API = "Kubernetes API"
LOG_LIMIT = 64 * 1024  # the script prints a line per probe; more is not its output


class JobClient(KubernetesApi):
    def __init__(self, context: str, kubeconfig: str | None = None, timeout: float = 10.0) -> None:
        super().__init__(context, kubeconfig, timeout)
        self.batch = client.BatchV1Api(self._client)
        self.core = client.CoreV1Api(self._client)

    def create(self, job: Mapping[str, Any]) -> None:
        namespace = str(job["metadata"]["namespace"])
        self.call("create", "jobs", "batch", namespace, self.batch.create_namespaced_job, namespace, job)

    def job(self, namespace: str, name: str) -> Json | None:
        body = self.call("get", "jobs", "batch", namespace, self.batch.read_namespaced_job, name, namespace)
        return json.loads(body) if body else None

    def pods(self, namespace: str, selector: str) -> list[Json]:
        body = self.call("list", "pods", "", namespace, self.core.list_namespaced_pod, namespace, label_selector=selector)
        return list(json.loads(body).get("items") or []) if body else []

    def log(self, namespace: str, pod: str, container: str) -> str:
        """The container's log; "" when there is none yet (the container never started: HTTP 400)."""
        try:
            body = self.call("get", "pods/log", "", namespace, self.core.read_namespaced_pod_log, pod, namespace,
                              container=container, limit_bytes=LOG_LIMIT)
        except Unreachable as error:
            if error.detail.startswith("HTTP 400"):
                return ""
            raise
        return body.decode("utf-8", "replace") if body else ""

    def delete(self, namespace: str, name: str) -> None:
        """Delete the Job and, in the background, its pod (a Job already gone is fine)."""
        self.call("delete", "jobs", "batch", namespace, self.batch.delete_namespaced_job, name, namespace,
                   body=client.V1DeleteOptions(propagation_policy="Background"))
