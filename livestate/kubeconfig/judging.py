"""The selected context judged as kubectl does (only its cluster and user): server URL, base64 and PEM of
``*-data``, the files named, the plugin run; resolved into one document the client can load without
reading a file or running a plugin."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from livestate.errors import Unusable, clip
from livestate.kubeconfig import limits
from livestate.kubeconfig.display import show
from livestate.kubeconfig.exec_plugin import run_exec
from livestate.kubeconfig.fields import field_flag, field_text, where
from livestate.kubeconfig.index import Entry, Merged
from livestate.kubeconfig.limits import MAX_CREDENTIAL_BYTES
from livestate.kubeconfig.sources import credentials_command, read_bounded

_TOKEN = re.compile(r"[!-~]+")  # visible ASCII: what an HTTP header value carries unchanged


@dataclass(frozen=True)
class Resolved:
    """What the client needs for one context: a document of that context alone, every file read
    and every plugin run, so the client has nothing left that could block."""

    context: str
    server: str
    document: dict[str, Any]
    origin: str


def _pem(entry: Entry, field: str, raw: bytes, marker: bytes) -> bytes:
    if b"-----BEGIN " + marker not in raw and not (marker == b"" and b"-----BEGIN " in raw):
        raise Unusable(f"{where(entry, field)} holds no PEM block (-----BEGIN {marker.decode() or '…'}). Fix: point it at the PEM data itself")
    return raw


def _data(entry: Entry, field: str, marker: bytes) -> bytes | None:
    """The decoded `*-data` field (base64 of PEM), or the file its path twin names, read bounded."""
    encoded = field_text(entry, f"{field}-data")
    if encoded is not None:
        try:  # Go's base64 (the []byte of the JSON form) skips line breaks and nothing else
            raw = base64.b64decode(encoded.replace("\r", "").replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            raise Unusable(
                f"{where(entry, field + '-data')} is not base64. Fix: `base64 -w0 FILE` of the PEM file, or name the file with {field} instead"
            ) from None
        return _pem(entry, f"{field}-data", raw, marker)
    path = field_text(entry, field)
    if path is None:
        return None
    return _pem(entry, field, read_bounded(_relative(entry, path), where(entry, field), MAX_CREDENTIAL_BYTES), marker)


def _relative(entry: Entry, path: str) -> Path:
    """kubectl reads a relative path against the kubeconfig's own directory (clientcmd ResolveLocalPaths)."""
    try:
        candidate = Path(path).expanduser()
    except RuntimeError:  # ~user of no such user: the path as written, which then does not exist
        candidate = Path(path)
    return candidate if candidate.is_absolute() else entry.file.parent / candidate


def _server(entry: Entry) -> str:
    server = str(field_text(entry, "server", required=True))
    problem = None
    try:
        parts = urlsplit(server)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as error:
        problem = str(error)
    else:
        if parts.scheme not in ("https", "http"):
            problem = "the scheme must be https (or http for a loopback stand-in)"
        elif not parts.hostname:
            problem = "there is no host"
    if problem is None and any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in server):
        problem = "it holds white space or a control character"
    if problem:
        raise Unusable(
            f"{where(entry, 'server')} {clip(repr(server), 120)} is not a server URL: {problem}. "
            "Fix: https://HOST[:PORT], as gcloud container clusters get-credentials writes it"
        )
    return server


def _cluster(entry: Entry) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": _server(entry)}
    ca = _data(entry, "certificate-authority", b"CERTIFICATE")
    if ca is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
    if field_flag(entry, "insecure-skip-tls-verify"):
        cluster["insecure-skip-tls-verify"] = True
    for field in ("tls-server-name", "proxy-url"):
        value = field_text(entry, field)
        if value is not None:
            cluster[field] = value
    proxy = cluster.get("proxy-url")
    try:
        scheme = urlsplit(proxy).scheme if proxy is not None else "http"
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https", "socks5"):
        raise Unusable(f"{where(entry, 'proxy-url')} {clip(repr(proxy), 120)} must be an http, https or socks5 URL")
    return cluster


def resolve(merged: Merged, context: str | None, run_plugins: bool = True, exec_deadline: float | None = None) -> Resolved:
    """The selected context judged and resolved, or Unusable naming the file, key and fix."""
    files = merged.source.describe()
    name = context or merged.current_context
    if not name:
        raise Unusable(f"kubeconfig {files} sets no current-context and no --context was given. Fix: pass --context NAME")
    found = merged.entries["contexts"].get(name)
    if found is None:
        known = sorted(merged.entries["contexts"])
        listed = ", ".join(show(k, 80) for k in known[:5]) + (f" and {len(known) - 5} more" if len(known) > 5 else "")
        raise Unusable(f"kubeconfig {files} has no context {clip(repr(name), 120)} (it has {listed or 'none'}). Fix: {credentials_command(name)}")
    cluster_name = field_text(found, "cluster", required=True)
    cluster = merged.entries["clusters"].get(str(cluster_name))
    if cluster is None:
        raise Unusable(
            f"{where(found, 'cluster')} names cluster {clip(repr(cluster_name), 120)}, which no clusters[] entry has. Fix: {credentials_command(name)}"
        )
    cluster_body = _cluster(cluster)
    user_name = field_text(found, "user")
    user_body: dict[str, Any] = {}
    if user_name is not None:
        user = merged.entries["users"].get(user_name)
        if user is None:
            raise Unusable(f"{where(found, 'user')} names user {clip(repr(user_name), 120)}, which no users[] entry has. Fix: {credentials_command(name)}")
        user_body = _user(user, cluster_body, run_plugins, limits.EXEC_DEADLINE if exec_deadline is None else exec_deadline)
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": name,
        "clusters": [{"name": "cluster", "cluster": cluster_body}],
        "users": [{"name": "user", "user": user_body}],
        "contexts": [{"name": name, "context": {"cluster": "cluster", "user": "user"}}],
    }
    return Resolved(name, cluster_body["server"], document, files)


def _user(entry: Entry, cluster: Mapping[str, Any], run_plugins: bool, exec_deadline: float) -> dict[str, Any]:
    if entry.body.get("auth-provider") is not None:
        raise Unusable(
            f"{where(entry, 'auth-provider')}: auth-provider plugins were removed from kubectl (1.26) and are not read here. "
            "Fix: gcloud container clusters get-credentials writes the gke-gcloud-auth-plugin exec entry instead "
            "(https://cloud.google.com/blog/products/containers-kubernetes/kubectl-auth-changes-in-gke)"
        )
    user: dict[str, Any] = {}
    token = field_text(entry, "token")
    token_file = field_text(entry, "tokenFile")
    if token is None and token_file is not None:
        token = read_bounded(_relative(entry, token_file), where(entry, "tokenFile"), MAX_CREDENTIAL_BYTES).decode("utf-8", "replace").strip()
        if not token:
            raise Unusable(f"{where(entry, 'tokenFile')}: {show(token_file, 200)} is empty. Fix: write the token into it")
    certificate = _data(entry, "client-certificate", b"CERTIFICATE")
    key = _data(entry, "client-key", b"")
    if (certificate is None) != (key is None):
        missing = "client-key" if key is None else "client-certificate"
        raise Unusable(f"{where(entry, missing)} (or {missing}-data) is missing: a client certificate needs its key. Fix: add it")
    username, password = field_text(entry, "username"), field_text(entry, "password")
    plugin = entry.body.get("exec")
    source = "token" if entry.body.get("token") else "tokenFile"
    if token is None and certificate is None and plugin is not None:
        resolved = run_exec(entry, plugin, cluster, run_plugins, exec_deadline)
        token, source = resolved.get("token"), "exec (the plugin's status.token)"
        certificate, key = resolved.get("certificate"), resolved.get("key")
    if token is not None:
        if not _TOKEN.fullmatch(token):  # it becomes an HTTP header: a line break or a non-ASCII character cannot be sent
            raise Unusable(
                f"{where(entry, source)}: the token holds white space, a control or a non-ASCII character, which an "
                "Authorization header cannot carry. Fix: write the token alone"
            )
        user["token"] = token
    if certificate is not None and key is not None:
        user["client-certificate-data"] = base64.b64encode(certificate).decode()
        user["client-key-data"] = base64.b64encode(key).decode()
    if username is not None and password is not None:
        user["username"], user["password"] = username, password
    return user
