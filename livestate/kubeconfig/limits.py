"""The bounds the kubeconfig loader reads under, and the names of the plugin and contexts GKE writes."""

from __future__ import annotations

import re

MAX_BYTES = 4 << 20  # kubeconfigs of thousands of clusters are a few megabytes
MAX_CREDENTIAL_BYTES = 1 << 20  # a token, a certificate chain or a key is kilobytes
MAX_DEPTH = 64
MAX_NODES = 2_000_000  # scalars and collections, aliases counted as what they expand to
EXEC_DEADLINE = 30.0  # seconds; gke-gcloud-auth-plugin answers in one or two
MAX_EXEC_OUTPUT = 1 << 20  # an ExecCredential is a token or a certificate: kilobytes
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
GKE_PLUGIN = "gke-gcloud-auth-plugin"
GKE_CONTEXT = re.compile(r"gke_(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])_(?P<location>[a-z0-9-]+)_(?P<name>[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?)")
