"""The probe's only access to the cluster, through the official `kubernetes` client: create the Job,
read it and its pod, read the pod's log, delete the Job. Nothing else is written.

RBAC (namespace of the IDE): jobs (batch) create, get, delete; pods list; pods/log get.
A 401/403 stops the run naming the verb and resource that is missing (exit 3).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ops.errors import UsageError
from ops.inspect.kube import is_transport_error, status_message
from ops.inspect.model import AccessDenied, Unreachable

Json = dict[str, Any]
API = "Kubernetes API"
LOG_LIMIT = 64 * 1024  # the script prints a line per probe; more is not its output


class JobClient:
    def __init__(self, context: str, kubeconfig: str | None = None, timeout: float = 10.0) -> None:
        configuration = client.Configuration()
        try:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration, persist_config=False)
        except (ConfigException, OSError) as error:
            raise UsageError(f"kubeconfig {kubeconfig or '(default)'}: {error}") from None
        configuration.retries = 0  # the wait loop is the retry
        self.endpoint = str(configuration.host)
        self.timeout = timeout
        self._client = client.ApiClient(configuration)
        self.batch = client.BatchV1Api(self._client)
        self.core = client.CoreV1Api(self._client)

    def close(self) -> None:
        self._client.close()

    def _call(self, verb: str, resource: str, group: str, namespace: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> bytes | None:
        """The answer's body; None on 404."""
        try:
            response = call(*args, _preload_content=False, _request_timeout=self.timeout, **kwargs)
        except ApiException as error:
            if error.status == 404:
                return None
            if error.status in (401, 403):
                permission = f'RBAC verb "{verb}" on resource "{resource}" (apiGroup "{group}") in namespace {namespace}'
                raise AccessDenied(API, permission, status_message(error)) from None
            raise Unreachable(API, self.endpoint, f"HTTP {error.status}: {status_message(error)}") from None
        except Exception as error:
            if not is_transport_error(error):
                raise
            raise Unreachable(API, self.endpoint, type(error).__name__ + ": " + str(error).split(": ", 1)[-1][:200]) from None
        data: bytes = response.data
        return data

    def create(self, job: Mapping[str, Any]) -> None:
        namespace = str(job["metadata"]["namespace"])
        self._call("create", "jobs", "batch", namespace, self.batch.create_namespaced_job, namespace, job)

    def job(self, namespace: str, name: str) -> Json | None:
        body = self._call("get", "jobs", "batch", namespace, self.batch.read_namespaced_job, name, namespace)
        return json.loads(body) if body else None

    def pods(self, namespace: str, selector: str) -> list[Json]:
        body = self._call("list", "pods", "", namespace, self.core.list_namespaced_pod, namespace, label_selector=selector)
        return list(json.loads(body).get("items") or []) if body else []

    def log(self, namespace: str, pod: str, container: str) -> str:
        """The container's log; "" when there is none yet (the container never started: HTTP 400)."""
        try:
            body = self._call("get", "pods/log", "", namespace, self.core.read_namespaced_pod_log, pod, namespace,
                              container=container, limit_bytes=LOG_LIMIT)
        except Unreachable as error:
            if error.detail.startswith("HTTP 400"):
                return ""
            raise
        return body.decode("utf-8", "replace") if body else ""

    def delete(self, namespace: str, name: str) -> None:
        """Delete the Job and, in the background, its pod (a Job already gone is fine)."""
        self._call("delete", "jobs", "batch", namespace, self.batch.delete_namespaced_job, name, namespace,
                   body=client.V1DeleteOptions(propagation_policy="Background"))
