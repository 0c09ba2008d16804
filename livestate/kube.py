"""Read-only access to the cluster through the official `kubernetes` client.

Every read is a get or a list; a 404 is an answer (the object does not exist), a 403 stops the
inspection naming the RBAC verb and resource that is missing, a 401 says the credentials are refused.
Bodies are read as the API's own JSON (``_preload_content=False``), so every field GKE writes is kept,
including ones the typed models lack.

Bounds (livestate/urllib3_bounds.py): each request, from connect to the last body byte, within --timeout seconds
in total; each answer at most MAX_ANSWER_BYTES as sent and as decompressed; a list read in pages of
PAGE_LIMIT items, at most MAX_PAGES pages. An answer that is not JSON, not an object, or a list that says
it is partial without a way to continue is `Malformed` (which API, which object, what was wrong).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes.client.api_client import ApiClient
from kubernetes.client.exceptions import ApiException

from livestate.bounds import BoundExceeded, Deadline, Stage
from livestate.model import AccessDenied, CredentialsRefused, Malformed, Unreachable
from livestate.urllib3_bounds import Exchange, exchange, install, read_body

Json = dict[str, Any]
API = "Kubernetes API"
# etcd refuses a request over 1.5 MiB (--max-request-bytes, https://etcd.io/docs/v3.5/dev-guide/limit/), so one
# object is under that as stored; its JSON (managedFields, annotations) can be a few times larger, and a page of
# PAGE_LIMIT objects larger still. 16 MiB holds any real page here and keeps a hostile answer small.
MAX_ANSWER_BYTES = 16 * 2**20
HEADER_ALLOWANCE = 2**16  # the status line and headers, counted with the body on the wire
PAGE_LIMIT = 250  # items asked per list page (`limit`, https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks)
MAX_PAGES = 40  # 10,000 items of one kind in one namespace: more is not this stack's namespace
CREDENTIALS_FIX = (
    "refresh the credentials: gcloud container clusters get-credentials CLUSTER --location LOCATION --project PROJECT, or check the kubeconfig's user"
)


class KubernetesApi:
    """One connection to the cluster named by a kubeconfig context, and the one translation of its
    errors: 404 is an answer (None), 401 is refused credentials, 403 names the missing RBAC permission,
    an answer past its bounds is Malformed, anything else on the wire is the API being unreachable. Shared by `ops inspect` (reads) and `ops probe` (its Job)."""

    def __init__(self, context: str, kubeconfig: str | None = None, timeout: float = 5.0) -> None:
        from livestate.kubeconfig import client_configuration

        configuration = client_configuration(context, kubeconfig)  # the one bounded loader: files, YAML, plugins (Unusable)
        configuration.retries = 0  # one attempt per call: the callers' wait loops are the retry, and they say so
        self.endpoint = str(configuration.host)
        self.timeout = timeout
        self._client = ApiClient(configuration)
        install(self._client.rest_client.pool_manager)  # every request under a total deadline and byte caps

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        verb: str,
        resource: str,
        group: str,
        namespace: str,
        function: Callable[..., Any],
        *args: Any,
        what: str,
        max_bytes: int = MAX_ANSWER_BYTES,
        **kwargs: Any,
    ) -> bytes | None:
        """The answer's body as the API sent it (decompressed), read within --timeout seconds in total and
        `max_bytes` raw and decoded; None on 404. `what` names the object or list in any error."""
        bounds = Exchange(Deadline(self.timeout), max_raw=max_bytes + HEADER_ALLOWANCE, max_decoded=max_bytes)
        try:
            with exchange(bounds):
                response = function(*args, _preload_content=False, _request_timeout=(self.timeout, self.timeout), **kwargs)
                try:
                    return read_body(response, bounds)
                except ValueError as error:  # a corrupt or unasked-for content coding
                    raise Malformed(API, what, str(error)) from None
                finally:
                    response.release_conn()
        except ApiException as error:
            if error.status == 404:
                return None
            raise self._refused(error, verb, resource, group, namespace) from None
        except BoundExceeded as error:
            if error.late and error.stage is Stage.HEADERS:  # no answer at all within the deadline: as a timeout
                raise Unreachable(API, self.endpoint, f"no answer to {what} within the {self.timeout:g} s deadline (--timeout)") from None
            raise Malformed(API, what, str(error)) from None
        except Exception as error:
            if not is_transport_error(error):
                raise
            raise Unreachable(API, self.endpoint, type(error).__name__ + ": " + str(error).split(": ", 1)[-1][:200]) from None

    def _refused(self, error: ApiException, verb: str, resource: str, group: str, namespace: str) -> Exception:
        if error.status == 401:
            # Authentication, not authorization (https://kubernetes.io/docs/reference/access-authn-authz/authentication/):
            # no RBAC grant helps; new credentials do.
            return CredentialsRefused(API, f"HTTP 401: {status_message(error)}", CREDENTIALS_FIX)
        if error.status == 403:
            permission = f'RBAC verb "{verb}" on resource "{resource}" (apiGroup "{group}") in namespace {namespace}'
            return AccessDenied(API, permission, status_message(error))
        return Unreachable(API, self.endpoint, f"HTTP {error.status}: {status_message(error)}")


# The Python names of a list's query parameters -> the API's (https://kubernetes.io/docs/reference/using-api/api-concepts/).
QUERY = {"limit": "limit", "_continue": "continue", "field_selector": "fieldSelector", "label_selector": "labelSelector"}


class KubeReader(KubernetesApi):
    """The reads of an inspection, as plain GETs through the client's ApiClient (its configuration, auth
    and bounded pool): the typed API classes are not loaded, whose import alone takes seconds."""

    def _get(self, resource_path: str, **path_params: str) -> Callable[..., Any]:
        """A function doing one GET of `resource_path` (its {placeholders} quoted as the client quotes them),
        called as the API classes' methods are (query parameters, `_preload_content`, `_request_timeout`)."""

        def get(*, _preload_content: bool = False, _request_timeout: Any = None, **query: Any) -> Any:
            params = [(QUERY[key], value) for key, value in query.items() if value is not None]
            request = self._client.param_serialize(
                "GET", resource_path, path_params=path_params, query_params=params, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
            )
            response = self._client.call_api(*request, _request_timeout=_request_timeout)
            if not 200 <= response.status <= 299:  # as the API classes do without preloading (kubernetes/client/api_client.py)
                response.read()
                raise ApiException.from_response(http_resp=response, body=None, data=None)
            return response.response

        return get

    def _read(self, verb: str, resource: str, group: str, namespace: str, function: Callable[..., Any], *args: Any, what: str, **kwargs: Any) -> Json | None:
        """The object as JSON; None when the API answers 404."""
        return parse_object(self.call(verb, resource, group, namespace, function, *args, what=what, **kwargs), what)

    def _items(self, verb: str, resource: str, group: str, namespace: str, function: Callable[..., Any], *args: Any, what: str, **kwargs: Any) -> list[Json]:
        """Every item of a list, following `metadata.continue` for at most MAX_PAGES pages."""
        items: list[Json] = []
        token: str | None = None
        for page in range(1, MAX_PAGES + 1):
            paging: dict[str, Any] = {"limit": PAGE_LIMIT, **({"_continue": token} if token else {})}
            found = parse_object(self.call(verb, resource, group, namespace, function, *args, what=what, **paging, **kwargs), what)
            if found is None:
                return items
            page_items, token = list_page(found, what)
            items += page_items
            if not token:
                return items
            if page == MAX_PAGES:
                break
        raise Malformed(API, what, f"still partial after {MAX_PAGES} pages of {PAGE_LIMIT} items (metadata.continue set): more than this command reads")

    def _namespaced(self, group_version: str, plural: str, namespace: str, name: str | None = None) -> Callable[..., Any]:
        root = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        if name is None:
            return self._get(f"{root}/namespaces/{{namespace}}/{plural}", namespace=namespace)
        return self._get(f"{root}/namespaces/{{namespace}}/{plural}/{{name}}", namespace=namespace, name=name)

    def ingress(self, namespace: str, name: str) -> Json | None:
        return self._read(
            "get",
            "ingresses",
            "networking.k8s.io",
            namespace,
            self._namespaced("networking.k8s.io/v1", "ingresses", namespace, name),
            what=f"Ingress {namespace}/{name}",
        )

    def ingresses(self, namespace: str) -> list[Json]:
        return self._items(
            "list",
            "ingresses",
            "networking.k8s.io",
            namespace,
            self._namespaced("networking.k8s.io/v1", "ingresses", namespace),
            what=f"the Ingress list of {namespace}",
        )

    def service(self, namespace: str, name: str) -> Json | None:
        return self._read("get", "services", "", namespace, self._namespaced("v1", "services", namespace, name), what=f"Service {namespace}/{name}")

    def events_of(self, namespace: str, kind: str, name: str, uid: str) -> list[Json]:
        """Events of this very object: with its uid, a recreated object does not inherit the old one's events
        (the apiserver indexes involvedObject.uid for field selectors: kubernetes pkg/registry/core/event/strategy.go)."""
        selector = f"involvedObject.kind={kind},involvedObject.name={name},involvedObject.uid={uid}"
        return self._items(
            "list",
            "events",
            "",
            namespace,
            self._namespaced("v1", "events", namespace),
            field_selector=selector,
            what=f"the Event list of {kind} {namespace}/{name}",
        )

    def pods(self, namespace: str, labels: Mapping[str, str]) -> list[Json]:
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        return self._items(
            "list", "pods", "", namespace, self._namespaced("v1", "pods", namespace), label_selector=selector, what=f"the Pod list of {namespace} ({selector})"
        )

    def backend_configs(self, namespace: str) -> list[Json]:
        return self._items(
            "list",
            "backendconfigs",
            "cloud.google.com",
            namespace,
            self._namespaced("cloud.google.com/v1", "backendconfigs", namespace),
            what=f"the BackendConfig list of {namespace}",
        )

    def managed_certificate(self, namespace: str, name: str) -> Json | None:
        return self._read(
            "get",
            "managedcertificates",
            "networking.gke.io",
            namespace,
            self._namespaced("networking.gke.io/v1", "managedcertificates", namespace, name),
            what=f"ManagedCertificate {namespace}/{name}",
        )

    def autoscalers(self, namespace: str) -> list[Json]:
        return self._items(
            "list",
            "horizontalpodautoscalers",
            "autoscaling",
            namespace,
            self._namespaced("autoscaling/v2", "horizontalpodautoscalers", namespace),
            what=f"the HorizontalPodAutoscaler list of {namespace}",
        )

    def disruption_budgets(self, namespace: str) -> list[Json]:
        return self._items(
            "list",
            "poddisruptionbudgets",
            "policy",
            namespace,
            self._namespaced("policy/v1", "poddisruptionbudgets", namespace),
            what=f"the PodDisruptionBudget list of {namespace}",
        )

    def deployments(self, namespace: str) -> list[Json]:
        return self._items(
            "list", "deployments", "apps", namespace, self._namespaced("apps/v1", "deployments", namespace), what=f"the Deployment list of {namespace}"
        )

    def custom(self, group: str, version: str, plural: str, namespace: str, name: str, kind: str) -> Json | None:
        """One namespaced custom object (the Gateway API's and GKE's policy kinds) as JSON; None when absent."""
        return self._read("get", plural, group, namespace, self._namespaced(f"{group}/{version}", plural, namespace, name), what=f"{kind} {namespace}/{name}")

    def customs(self, group: str, version: str, plural: str, namespace: str, kind: str) -> list[Json]:
        """Every namespaced custom object of one kind; [] when the kind is not served (its CRD is not installed)."""
        return self._items("list", plural, group, namespace, self._namespaced(f"{group}/{version}", plural, namespace), what=f"the {kind} list of {namespace}")


def parse_object(body: bytes | None, what: str) -> Json | None:
    """The body as one JSON object (a Kubernetes object or list is always one); Malformed otherwise."""
    if body is None:
        return None
    try:
        data = json.loads(body)
    except ValueError as error:  # truncated JSON, an HTML page, bytes that are not UTF-8
        raise Malformed(API, what, f"the answer is not JSON ({error}); it starts {body[:60]!r}") from None
    if not isinstance(data, dict):
        raise Malformed(API, what, f"the answer is a JSON {type(data).__name__}, not an object")
    return data


def list_page(found: Json, what: str) -> tuple[list[Json], str | None]:
    """One page's items and its continue token; a page that says it is partial but cannot be continued is Malformed."""
    meta, items = found.get("metadata"), found.get("items")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise Malformed(API, what, f"metadata is a {type(meta).__name__}, not an object")
    if "items" not in found:  # every List type declares `items` without omitempty (k8s.io/api, e.g. core/v1 PodList)
        raise Malformed(API, what, "the answer has no items: it is not a list")
    if items is None:  # a nil slice, as Go's encoding/json writes it
        items = []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Malformed(API, what, "items is not a list of objects")
    token, remaining = meta.get("continue"), meta.get("remainingItemCount")
    if token is not None and not isinstance(token, str):
        raise Malformed(API, what, f"metadata.continue is a {type(token).__name__}, not a string")
    if remaining is not None and (not isinstance(remaining, int) or isinstance(remaining, bool)):
        raise Malformed(API, what, f"metadata.remainingItemCount is {remaining!r}, not an integer")
    if not token and remaining:
        raise Malformed(API, what, f"the list says {remaining} more items remain (metadata.remainingItemCount) but gives no metadata.continue to read them")
    return items, token or None


def is_transport_error(error: Exception) -> bool:
    """A failure of the HTTP transport (urllib3, under the client: refused, reset, timed out), not of this code."""
    return type(error).__module__.split(".")[0] == "urllib3"


def status_message(error: ApiException) -> str:
    """The message of the API's Status object, or the raw reason."""
    try:
        status = json.loads(error.body or "{}")
    except (ValueError, TypeError):
        return str(error.reason)
    message = status.get("message") if isinstance(status, dict) else None  # a Status object, or whatever the server sent
    return str(message or error.reason)[:300]
