"""The nginx layer of the combined pod, as code: its site config rendered from the same settings
as the BackendConfig and the health check, shipped as a ConfigMap mounted into the nginx container.

What nginx must do for Socket.IO (nginx.org/en/docs/http/websocket.html; https://socket.io/docs/v4/reverse-proxy/#nginx):
HTTP/1.1 to the upstream, pass ``Upgrade``/``Connection``, and idle timeouts at least as long as
the load balancer's backend timeout (otherwise nginx, not the LB, cuts long polls and sockets).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from coditect.base import PART_OF, child_opts, manifest, type_token
from coditect.gke import limits
from coditect.namespace import AppNamespace
from coditect.plan import declare
from coditect.protocol import POD_HEADER

SITE_FILE = "default.conf"
MOUNT_PATH = "/etc/nginx/conf.d"

# At http level, once: "Connection: upgrade" only when the client asked for an upgrade.
HTTP_PREAMBLE = """\
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
"""


@dataclass(frozen=True)
class NginxSite:
    listen_port: int
    health_path: str
    socketio_path: str
    upstream_port: int
    proxy_timeout_sec: int
    # Longer than the load balancer's fixed 600 s backend keepalive, or a pooled connection closes
    # under it and the request gets a 502 (limits.LOAD_BALANCER_KEEPALIVE_SEC).
    keepalive_timeout_sec: int = limits.BACKEND_KEEPALIVE_SEC
    upstream_host: str = "127.0.0.1"
    pod_id: str = "$hostname"  # the pod name inside Kubernetes
    listen_address: str = ""  # all addresses in the pod; the local lab binds 127.0.0.1

    def server_block(self) -> str:
        upstream = f"http://{self.upstream_host}:{self.upstream_port}"
        proxy = f"""\
        proxy_pass {upstream};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;
        proxy_read_timeout {self.proxy_timeout_sec}s;
        proxy_send_timeout {self.proxy_timeout_sec}s;"""
        return f"""\
server {{
    listen {self.listen_address + ":" if self.listen_address else ""}{self.listen_port};
    server_tokens off;
    keepalive_timeout {self.keepalive_timeout_sec}s;
    add_header {POD_HEADER} "{self.pod_id}" always;

    # The load balancer's health check and the readiness probe: a cheap 200, never a redirect.
    location = {self.health_path} {{
        access_log off;
        default_type text/plain;
        return 200 "ok\\n";
    }}

    # Socket.IO: long polls and WebSockets live as long as the load balancer lets them.
    location {self.socketio_path} {{
{proxy}
        proxy_buffering off;
    }}

    location / {{
{proxy}
    }}
}}
"""

    def config(self) -> str:
        return HTTP_PREAMBLE + "\n" + self.server_block()

    def disagreements(self, timeout_sec: int, health_path: str, health_port: int) -> list[str]:
        """Where this site disagrees with the load balancer's BackendConfig and health check."""
        problems = []
        if self.proxy_timeout_sec < timeout_sec:
            problems.append(
                f"nginx proxy_read_timeout/proxy_send_timeout {self.proxy_timeout_sec}s is shorter than the BackendConfig "
                f"timeoutSec {timeout_sec}s: nginx would cut Socket.IO connections the load balancer keeps. "
                "Fix: derive the nginx timeouts from backendConfig.timeoutSec."
            )
        if self.keepalive_timeout_sec <= limits.LOAD_BALANCER_KEEPALIVE_SEC:
            problems.append(
                f"nginx keepalive_timeout {self.keepalive_timeout_sec}s is not longer than the load balancer's "
                f"{limits.LOAD_BALANCER_KEEPALIVE_SEC}s backend keepalive: nginx closes pooled connections the load balancer "
                f"still uses, and those requests get 502. Fix: keep keepalive_timeout above {limits.LOAD_BALANCER_KEEPALIVE_SEC}s."
            )
        if self.health_path != health_path:
            problems.append(
                f"nginx serves the health endpoint at {self.health_path!r} but the health check probes {health_path!r}: "
                "every pod would be UNHEALTHY. Fix: use one deployment.healthPath for both."
            )
        if self.listen_port != health_port:
            problems.append(
                f"nginx listens on {self.listen_port} but the health check probes port {health_port}. Fix: use one deployment.servingPort for both."
            )
        return problems


class NginxConfigMap(pulumi.ComponentResource):
    """The rendered site config as a ConfigMap; ``checksum`` rolls the pods when it changes."""

    namespace: AppNamespace
    name: str
    site: NginxSite
    checksum: str
    resource: k8s.core.v1.ConfigMap

    def __init__(self, resource_name: str, namespace: AppNamespace, name: str, site: NginxSite, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("NginxConfigMap"), resource_name, None, opts)
        self.namespace = namespace
        self.name = name
        self.site = site
        text = site.config()
        self.checksum = hashlib.sha256(text.encode()).hexdigest()
        metadata = k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace.name, labels=dict(PART_OF))
        data = {SITE_FILE: text}
        self.manifest = manifest("v1", "ConfigMap", metadata, data=data)

        def create() -> None:
            self.resource = k8s.core.v1.ConfigMap(resource_name, metadata=metadata, data=data, opts=child_opts(self, [namespace]))
            self.register_outputs({"name": self.resource.metadata.name})

        declare(f"ConfigMap {namespace.name}/{name}", [self.manifest], create)

    def volume(self) -> k8s.core.v1.VolumeArgs:
        return k8s.core.v1.VolumeArgs(name="nginx-site", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=self.name))

    def mount(self) -> k8s.core.v1.VolumeMountArgs:
        return k8s.core.v1.VolumeMountArgs(name="nginx-site", mount_path=MOUNT_PATH, read_only=True)
