"""Every rule of the engine: importing this package registers them all with ``gke.registry``.

The one list of rule modules (kube-linter pkg/templates/all/all.go). Their order is the registry's,
and so the order of the docs' rule tables.
"""

# The Gateway's route and policy rules follow its object rules (the registry order, so the docs' order), ahead of
# the modules that compare the front doors and judge the backends.
from . import backend_config, cloud_armor, gateway, gateway_routes  # noqa: F401  (imported to register their rules)

# isort: split
from . import (  # noqa: F401  (imported to register their rules)
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
