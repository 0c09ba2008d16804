"""Every rule of the engine: importing this package registers them all with ``gke.registry``.

The one list of rule modules (kube-linter pkg/templates/all/all.go). Their order is the registry's,
and so the order of the docs' rule tables.
"""

from . import (  # noqa: F401  (imported to register their rules)
    backend_config,
    cloud_armor,
    gateway,
    gateway_agreement,
    gateway_backend,
    ingress,
    references,
    service,
    sessions,
    tls,
    user_code,
    user_code_egress,
    user_code_pods,
    workload,
)
