"""Read-only access to the load balancer GKE built: the Compute Engine REST API (v1), read as JSON
through google-auth's AuthorizedSession, as google-cloud-compute's REST transport reads it, without
that client's import (seconds: every Compute message type is loaded with it).

A loopback ``--gcp-endpoint`` (http://127.0.0.1:PORT, a stand-in) is reached over plain HTTP with
anonymous credentials; any other endpoint (a private API endpoint) with Application Default
Credentials. A 403 stops the inspection naming the IAM permission (all in roles/compute.viewer); a 401,
or credentials that cannot be had, says how to get working ones (google-api-core's reading of the
error, as the client would raise it). Every exchange is bounded in time and bytes (livestate.gcp_http);
an answer that is not JSON, or whose fields read here are not of the API's types
(https://cloud.google.com/compute/docs/reference/rest/v1), is Malformed naming the object.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from livestate.gcp_http import NotTheObject, bound_session, call, default_credentials, is_loopback, resource_name  # noqa: F401  (resource_name: the readers' helper, here with the reader)
from livestate.model import Malformed
from livestate.shapes import Shape, check

Json = dict[str, Any]
API = "Compute Engine API"
DEFAULT_ENDPOINT = "https://compute.googleapis.com"
# https://cloud.google.com/compute/docs/naming-resources#resource-name-format (RFC 1035 labels)
NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
FIX = "gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS naming the key of a service account with roles/compute.viewer on the project"
COLLECTIONS = ("backendServices", "healthChecks", "urlMaps", "targetHttpProxies", "targetHttpsProxies", "forwardingRules", "addresses")
# The IAM permission of a get in each collection (the global forwarding rules and addresses have their own).
PERMISSION = {
    **{c: f"compute.{c}.get" for c in COLLECTIONS},
    "forwardingRules": "compute.globalForwardingRules.get",
    "addresses": "compute.globalAddresses.get",
}
_PROBE: Shape = tuple((f"{p}HealthCheck.{f}", t) for p in ("http", "https", "http2") for f, t in (("requestPath", str), ("port", int)))
# The fields read of each answer (checks.py, live.py), with the API's JSON types: an int32 is a JSON number,
# an int64 (id) a string, as google-cloud-compute's parser takes them.
SHAPES: dict[str, Shape] = {
    "common": (("name", str), ("selfLink", str), ("id", str)),
    "backendServices": (
        ("sessionAffinity", str),
        ("affinityCookieTtlSec", int),
        ("timeoutSec", int),
        ("connectionDraining.drainingTimeoutSec", int),
        ("logConfig.enable", bool),
        ("logConfig.sampleRate", (int, float)),
        ("securityPolicy", str),
        ("healthChecks[]", str),
        ("backends[].group", str),
    ),
    "healthChecks": (("type", str), *_PROBE),
    "urlMaps": (("defaultUrlRedirect.httpsRedirect", bool), ("defaultUrlRedirect.redirectResponseCode", str)),
    "targetHttpProxies": (("urlMap", str),),
    "targetHttpsProxies": (("urlMap", str), ("sslPolicy", str)),
    "forwardingRules": (("IPAddress", str), ("target", str)),
    "addresses": (("status", str), ("address", str)),
    "getHealth": (("healthStatus[].ipAddress", str), ("healthStatus[].healthState", str), ("healthStatus[].instance", str), ("healthStatus[].port", int)),
}


class ComputeReader:
    def __init__(self, project: str, endpoint: str | None = None, timeout: float = 5.0) -> None:
        self.project = project
        self.endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self.timeout = timeout
        self._session: Any = None  # one AuthorizedSession for every collection, made on the first read

    def _authorized(self) -> Any:
        if self._session is None:
            from google.auth.credentials import AnonymousCredentials
            from google.auth.transport.requests import AuthorizedSession

            # Application Default Credentials, found (or not: DefaultCredentialsError) here
            credentials = AnonymousCredentials() if is_loopback(self.endpoint) else default_credentials(self.timeout)
            self._session = bound_session(AuthorizedSession(credentials), self.timeout)
        return self._session

    def get(self, collection: str, name: str) -> Json | None:
        """The resource as the REST API's JSON (camelCase); None when it does not exist."""
        return self._call(collection, name, "", PERMISSION[collection])

    def group_health(self, backend_service: str, group: str) -> list[Json] | None:
        """backendServices.getHealth for one backend (a NEG self-link): the health of each of its endpoints
        as the load balancer's probes see it now (https://cloud.google.com/compute/docs/reference/rest/v1/backendServices/getHealth);
        None when the backend service does not exist."""
        answer = self._call("backendServices", backend_service, "getHealth", "compute.backendServices.get", {"group": group})
        return None if answer is None else list(answer.get("healthStatus") or [])

    def _call(self, collection: str, name: str, method: str, permission: str, body: Json | None = None) -> Json | None:
        what = f"{collection}/{name}" + (f" {method}" if method else "")
        if not NAME.fullmatch(name):
            # The name came from another answer (an annotation, a self-link): no URL is built from it.
            raise Malformed(API, f"{collection}/{name!r}", f"is not a Compute Engine resource name ({NAME.pattern}); the reference naming it is malformed")
        url = f"{self.endpoint}/compute/v1/projects/{quote(self.project, safe='')}/global/{collection}/{name}" + (f"/{method}" if method else "")
        shape = SHAPES["common"] + SHAPES[method or collection]

        def read() -> Json:
            from google.api_core import exceptions as api_exceptions

            session = self._authorized()
            response = session.request("POST" if body is not None else "GET", url, json=body, timeout=self.timeout)
            if response.status_code >= 400:
                raise api_exceptions.from_http_response(response)  # as the REST transport raises it
            return _parsed(response.content, shape)

        return call(read, api=API, what=what, endpoint=self.endpoint, permission=f"IAM permission {permission} on project {self.project}", fix=FIX)


def _parsed(content: bytes, shape: Shape) -> Json:
    """The answer as a JSON object whose fields read here have the API's types; NotTheObject otherwise
    (a body that is no UTF-8 raises UnicodeDecodeError, which the caller reports the same way)."""
    try:
        data = json.loads(content.decode("utf-8"))
    except RecursionError:
        raise NotTheObject("Failed to load JSON: nested too deep") from None
    except json.JSONDecodeError as error:
        raise NotTheObject(f"Failed to load JSON: {error}") from None
    if not isinstance(data, dict):
        raise NotTheObject(f"Failed to parse: the answer is a JSON {type(data).__name__}, not an object")
    try:
        check(data, shape, API, "the answer")
    except Malformed as wrong:
        raise NotTheObject(f"Failed to parse: {wrong.problem}") from None
    return data
