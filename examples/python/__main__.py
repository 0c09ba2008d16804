"""SocketIoApp from Python: the minimal args (environment, hosts, release) with the Google Cloud parts off,
for a cluster whose Kubernetes provider is the default one (the current kubeconfig context)."""

import pulumi

from coditect import SocketIoApp, SocketIoAppArgs

args: SocketIoAppArgs = {
    "environment": "dev",
    "namespace": "socketio-example",
    "hosts": ["app.example.test"],
    "release": {
        "version": "1.0.0",
        "images": {
            "nginx": "us-docker.pkg.dev/example/app/nginx@sha256:842b65196d425614f4c0aff6960472776ac11007f8b74122fb4250893be19c07",
            "ide": "us-docker.pkg.dev/example/app/theia@sha256:d4d8f3e2e229dfbf7c568ee0721c9fd3759c32be9b84404427e047d73c480b0e",
        },
    },
    # No Google Cloud resource: no static IP, certificate, Cloud Armor policy or alerting.
    "gcp": {
        "static_ip": {"enabled": False},
        "tls": {"enabled": False, "redirect_to_https": False},
        "cloud_armor": {"enabled": False, "keep_detached_policy": False},
        "monitoring": {"enabled": False},
    },
}
app = SocketIoApp("socketio", args)

pulumi.export("namespace", app.namespace)
pulumi.export("serviceName", app.service_name)
pulumi.export("ingressName", app.ingress_name)
pulumi.export("backendConfigName", app.backend_config_name)
pulumi.export("url", app.url)
