"""Appended to the program by a test: the incident's Ingress, naming a Service that does not exist.

Declared raw (not through the components, which would refuse it), so only the policy pack stands between it
and the cluster."""

import pulumi_kubernetes as k8s

k8s.networking.v1.Ingress(
    "incident-ingress",
    metadata=k8s.meta.v1.ObjectMetaArgs(name="incident", namespace="coditect-local", annotations={"kubernetes.io/ingress.class": "gce"}),
    spec=k8s.networking.v1.IngressSpecArgs(
        default_backend=k8s.networking.v1.IngressBackendArgs(
            service=k8s.networking.v1.IngressServiceBackendArgs(name="no-such-service", port=k8s.networking.v1.ServiceBackendPortArgs(number=80)),
        ),
    ),
)
