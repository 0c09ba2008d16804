"""Read-only access to the cluster through the official `kubernetes` client.

Every read is a get or a list; a 404 is an answer (the object does not exist), a 403 stops the
inspection naming the RBAC verb and resource that is missing. Bodies are read as the API's own JSON
(``_preload_content=False``), so every field GKE writes is kept, including ones the typed models lack.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ops.inspect.model import AccessDenied, Unreachable

Json = dict[str, Any]
API = "Kubernetes API"


class KubernetesApi:
    """One connection to the cluster named by a kubeconfig context, and the one translation of its
    errors: 404 is an answer (None), 401/403 names the missing RBAC permission, anything else on the
    wire is the API being unreachable. Shared by `ops inspect` (reads) and `ops probe` (its Job)."""

    def __init__(self, context: str, kubeconfig: str | None = None, timeout: float = 5.0) -> None:
        from ops.kubeconfig import client_configuration

        configuration = client_configuration(context, kubeconfig)  # the one bounded loader: files, YAML, plugins (UsageError)
        configuration.retries = 0  # one attempt per call: the callers' wait loops are the retry, and they say so
        self.endpoint = str(configuration.host)
        self.timeout = timeout
        self._client = client.ApiClient(configuration)

    def close(self) -> None:
        self._client.close()

    def call(self, verb: str, resource: str, group: str, namespace: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> bytes | None:
        """The answer's body as the API sent it; None on 404."""
        try:
            response = function(*args, _preload_content=False, _request_timeout=self.timeout, **kwargs)
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
        body: bytes = response.data
        return body


class KubeReader(KubernetesApi):
    def __init__(self, context: str, kubeconfig: str | None = None, timeout: float = 5.0) -> None:
        super().__init__(context, kubeconfig, timeout)
        self.core = client.CoreV1Api(self._client)
        self.networking = client.NetworkingV1Api(self._client)
        self.custom = client.CustomObjectsApi(self._client)
        self.autoscaling = client.AutoscalingV2Api(self._client)
        self.policy = client.PolicyV1Api(self._client)
        self.apps = client.AppsV1Api(self._client)

    def _read(self, verb: str, resource: str, group: str, namespace: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Json | None:
        """The object or list as JSON; None when the API answers 404."""
        body = self.call(verb, resource, group, namespace, function, *args, **kwargs)
        if body is None:
            return None
        data: Json = json.loads(body)
        return data

    def _items(self, *args: Any, **kwargs: Any) -> list[Json]:
        found = self._read(*args, **kwargs)
        return list((found or {}).get("items") or [])

    def ingress(self, namespace: str, name: str) -> Json | None:
        return self._read("get", "ingresses", "networking.k8s.io", namespace, self.networking.read_namespaced_ingress, name, namespace)

    def ingresses(self, namespace: str) -> list[Json]:
        return self._items("list", "ingresses", "networking.k8s.io", namespace, self.networking.list_namespaced_ingress, namespace)

    def service(self, namespace: str, name: str) -> Json | None:
        return self._read("get", "services", "", namespace, self.core.read_namespaced_service, name, namespace)

    def events_of(self, namespace: str, kind: str, name: str, uid: str) -> list[Json]:
        """Events of this very object: with its uid, a recreated object does not inherit the old one's events
        (the apiserver indexes involvedObject.uid for field selectors: kubernetes pkg/registry/core/event/strategy.go)."""
        selector = f"involvedObject.kind={kind},involvedObject.name={name},involvedObject.uid={uid}"
        return self._items("list", "events", "", namespace, self.core.list_namespaced_event, namespace, field_selector=selector)

    def pods(self, namespace: str, labels: Mapping[str, str]) -> list[Json]:
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        return self._items("list", "pods", "", namespace, self.core.list_namespaced_pod, namespace, label_selector=selector)

    def _custom(self, group: str, version: str, plural: str, namespace: str, name: str | None = None) -> Json | None:
        if name is None:
            return self._read("list", plural, group, namespace, self.custom.list_namespaced_custom_object, group, version, namespace, plural)
        return self._read("get", plural, group, namespace, self.custom.get_namespaced_custom_object, group, version, namespace, plural, name)

    def backend_configs(self, namespace: str) -> list[Json]:
        return list((self._custom("cloud.google.com", "v1", "backendconfigs", namespace) or {}).get("items") or [])

    def managed_certificate(self, namespace: str, name: str) -> Json | None:
        return self._custom("networking.gke.io", "v1", "managedcertificates", namespace, name)

    def autoscalers(self, namespace: str) -> list[Json]:
        return self._items("list", "horizontalpodautoscalers", "autoscaling", namespace,
                           self.autoscaling.list_namespaced_horizontal_pod_autoscaler, namespace)

    def disruption_budgets(self, namespace: str) -> list[Json]:
        return self._items("list", "poddisruptionbudgets", "policy", namespace, self.policy.list_namespaced_pod_disruption_budget, namespace)

    def deployments(self, namespace: str) -> list[Json]:
        return self._items("list", "deployments", "apps", namespace, self.apps.list_namespaced_deployment, namespace)


def is_transport_error(error: Exception) -> bool:
    """A failure of the HTTP transport (urllib3, under the client: refused, reset, timed out), not of this code."""
    return type(error).__module__.split(".")[0] == "urllib3"


def status_message(error: ApiException) -> str:
    """The message of the API's Status object, or the raw reason."""
    try:
        return str(json.loads(error.body or "{}").get("message") or error.reason)
    except ValueError:
        return str(error.reason)
