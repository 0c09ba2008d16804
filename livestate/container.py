"""Read-only access to the stack's GKE cluster through `google-cloud-container` (Container API v1).

Which cluster: the stack's kubeconfig context, which ``gcloud container clusters get-credentials``
names gke_PROJECT_LOCATION_NAME. A loopback ``--gcp-endpoint`` (a stand-in) is reached over plain
HTTP with anonymous credentials, as for Compute; a 403 stops the inspection naming
container.clusters.get (in roles/container.clusterViewer), a 401 or credentials that cannot be had say
how to get working ones, and an answer the client cannot parse names the cluster. Every exchange is
bounded in time and bytes (livestate.gcp_http).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from livestate.gcp_http import bound, call, default_credentials, is_loopback

if TYPE_CHECKING:
    from google.cloud import container_v1

Json = dict[str, Any]
API = "Kubernetes Engine API"
DEFAULT_ENDPOINT = "https://container.googleapis.com"
PERMISSION = "container.clusters.get"
FIX = (
    "gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS naming the key of a service account "
    "with roles/container.clusterViewer on the project"
)
# Project ids, locations and cluster names hold no underscore, so the context splits unambiguously.
GKE_CONTEXT = re.compile(r"^gke_(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])_(?P<location>[a-z0-9-]+)_(?P<name>[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?)$")


@dataclass(frozen=True)
class ClusterRef:
    project: str
    location: str
    name: str

    @property
    def resource(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/clusters/{self.name}"


def cluster_of(context: str) -> ClusterRef | None:
    """The cluster a gke_PROJECT_LOCATION_NAME context points at; None for any other context name."""
    match = GKE_CONTEXT.match(context)
    return ClusterRef(match["project"], match["location"], match["name"]) if match else None


class ClusterReader:
    def __init__(self, endpoint: str | None = None, timeout: float = 5.0) -> None:
        self.endpoint = endpoint or DEFAULT_ENDPOINT
        self.timeout = timeout
        self._client: container_v1.ClusterManagerClient | None = None

    def _cluster_manager(self) -> container_v1.ClusterManagerClient:
        # Imported here: google-cloud-container is in the ops group, not in what `pulumi up` installs, and only
        # the cluster layer reads it, which the after-up hook never asks for.
        # google-api-core's warning about the Python version on import is silenced by livestate.gcp_http.
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import container_v1
        from google.cloud.container_v1.services.cluster_manager.transports import ClusterManagerRestTransport

        if self._client is None:
            if is_loopback(self.endpoint):
                transport = ClusterManagerRestTransport(host=urlsplit(self.endpoint).netloc, credentials=AnonymousCredentials(), url_scheme="http")
                self._client = container_v1.ClusterManagerClient(transport=transport)
            else:
                self._client = container_v1.ClusterManagerClient(
                    credentials=default_credentials(self.timeout), transport="rest", client_options=ClientOptions(api_endpoint=self.endpoint)
                )
            bound(self._client.transport, self.timeout)
        return self._client

    def get(self, cluster: ClusterRef) -> Json | None:
        """The cluster as the REST API's JSON (camelCase, enums by name); None when it does not exist."""
        from google.cloud import container_v1

        def read() -> container_v1.Cluster:
            return self._cluster_manager().get_cluster(name=cluster.resource, retry=None, timeout=self.timeout)

        message = call(
            read, api=API, what=f"cluster {cluster.resource}", endpoint=self.endpoint, permission=f"IAM permission {PERMISSION} on {cluster.resource}", fix=FIX
        )
        if message is None:
            return None
        data: Json = container_v1.Cluster.to_dict(message, preserving_proto_field_name=False, use_integers_for_enums=False)
        return data
