"""Read-only access to the load balancer GKE built, through `google-cloud-compute`.

A loopback ``--gcp-endpoint`` (http://127.0.0.1:PORT, a stand-in) is reached over plain HTTP with
anonymous credentials; any other endpoint (a private API endpoint) with Application Default
Credentials. A 403 stops the inspection naming the IAM permission (all in roles/compute.viewer); a 401,
or credentials that cannot be had, says how to get working ones. Every exchange is bounded in time and
bytes (livestate.gcp_http), and an answer the client cannot parse names the object it was for.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

# google-api-core warns about the Python version on import; the command's output is not the place.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.api_core\._python_version_support")

from google.api_core import exceptions as api_exceptions  # noqa: E402, F401  (tests reach the client's errors through here)
from google.api_core.client_options import ClientOptions  # noqa: E402
from google.auth.credentials import AnonymousCredentials  # noqa: E402
from google.cloud import compute_v1  # noqa: E402
from google.cloud.compute_v1.services.backend_services.transports import BackendServicesRestTransport  # noqa: E402
from google.cloud.compute_v1.services.global_addresses.transports import GlobalAddressesRestTransport  # noqa: E402
from google.cloud.compute_v1.services.global_forwarding_rules.transports import GlobalForwardingRulesRestTransport  # noqa: E402
from google.cloud.compute_v1.services.health_checks.transports import HealthChecksRestTransport  # noqa: E402
from google.cloud.compute_v1.services.target_http_proxies.transports import TargetHttpProxiesRestTransport  # noqa: E402
from google.cloud.compute_v1.services.target_https_proxies.transports import TargetHttpsProxiesRestTransport  # noqa: E402
from google.cloud.compute_v1.services.url_maps.transports import UrlMapsRestTransport  # noqa: E402

from livestate.gcp_http import bound, call, default_credentials, is_loopback, resource_name  # noqa: E402, F401  (the readers' helper, here with the client)
from livestate.model import Malformed  # noqa: E402

Json = dict[str, Any]
API = "Compute Engine API"
DEFAULT_ENDPOINT = "https://compute.googleapis.com"
# https://cloud.google.com/compute/docs/naming-resources#resource-name-format (RFC 1035 labels)
NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
FIX = ("gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS naming the key of a service account "
       "with roles/compute.viewer on the project")

# collection (the REST path segment and IAM permission noun) -> (client class, its REST transport, the get() keyword)
COLLECTIONS: dict[str, tuple[type[Any], type[Any], str]] = {
    "backendServices": (compute_v1.BackendServicesClient, BackendServicesRestTransport, "backend_service"),
    "healthChecks": (compute_v1.HealthChecksClient, HealthChecksRestTransport, "health_check"),
    "urlMaps": (compute_v1.UrlMapsClient, UrlMapsRestTransport, "url_map"),
    "targetHttpProxies": (compute_v1.TargetHttpProxiesClient,
                          TargetHttpProxiesRestTransport, "target_http_proxy"),
    "targetHttpsProxies": (compute_v1.TargetHttpsProxiesClient,
                           TargetHttpsProxiesRestTransport, "target_https_proxy"),
    "forwardingRules": (compute_v1.GlobalForwardingRulesClient,
                        GlobalForwardingRulesRestTransport, "forwarding_rule"),
    "addresses": (compute_v1.GlobalAddressesClient, GlobalAddressesRestTransport, "address"),
}
# The IAM permission of a get in each collection (the global forwarding rules and addresses have their own).
PERMISSION = {
    **{c: f"compute.{c}.get" for c in COLLECTIONS},
    "forwardingRules": "compute.globalForwardingRules.get",
    "addresses": "compute.globalAddresses.get",
}


class ComputeReader:
    def __init__(self, project: str, endpoint: str | None = None, timeout: float = 5.0) -> None:
        self.project = project
        self.endpoint = endpoint or DEFAULT_ENDPOINT
        self.timeout = timeout
        self._clients: dict[str, Any] = {}
        self._credentials: Any = None  # Application Default Credentials, found once for every collection

    def _client(self, collection: str) -> Any:
        if collection not in self._clients:
            client_class, transport_class, _ = COLLECTIONS[collection]
            if is_loopback(self.endpoint):
                transport = transport_class(host=urlsplit(self.endpoint).netloc, credentials=AnonymousCredentials(), url_scheme="http")
                client = client_class(transport=transport)
            else:  # Application Default Credentials, found (or not: DefaultCredentialsError) here
                self._credentials = self._credentials or default_credentials(self.timeout)
                client = client_class(credentials=self._credentials, transport="rest", client_options=ClientOptions(api_endpoint=self.endpoint))
            self._clients[collection] = client
            bound(client.transport, self.timeout)
        return self._clients[collection]

    def get(self, collection: str, name: str) -> Json | None:
        """The resource as the REST API's JSON (camelCase); None when it does not exist."""
        keyword = COLLECTIONS[collection][2]
        return self._call(collection, name, "get", PERMISSION[collection], **{keyword: name})

    def group_health(self, backend_service: str, group: str) -> list[Json] | None:
        """backendServices.getHealth for one backend (a NEG self-link): the health of each of its endpoints
        as the load balancer's probes see it now (https://cloud.google.com/compute/docs/reference/rest/v1/backendServices/getHealth);
        None when the backend service does not exist."""
        answer = self._call("backendServices", backend_service, "get_health", "compute.backendServices.get", backend_service=backend_service,
                            resource_group_reference_resource=compute_v1.ResourceGroupReference(group=group))
        return None if answer is None else list(answer.get("healthStatus") or [])

    def _call(self, collection: str, name: str, method: str, permission: str, **request: Any) -> Json | None:
        what = f"{collection}/{name}" + (" getHealth" if method == "get_health" else "")
        if not NAME.fullmatch(name):
            # The name came from another answer (an annotation, a self-link): the client would build no URL from it.
            raise Malformed(API, f"{collection}/{name!r}", f"is not a Compute Engine resource name ({NAME.pattern}); the reference naming it is malformed")

        def read() -> Any:
            method_of: Callable[..., Any] = getattr(self._client(collection), method)
            return method_of(project=self.project, retry=None, timeout=self.timeout, **request)

        message = call(read, api=API, what=what, endpoint=self.endpoint, permission=f"IAM permission {permission} on project {self.project}", fix=FIX)
        if message is None:
            return None
        data: Json = type(message).to_dict(message, preserving_proto_field_name=False)
        return data
