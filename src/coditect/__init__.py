"""coditect: a real-time (Socket.IO / WebSocket) web application on GKE behind Google's L7 load
balancer, as Pulumi components, with GKE's rules enforced before anything is deployed.

The public component is ``SocketIoApp`` with its args ``SocketIoAppArgs``; every other component is
internal. The rule engine is ``coditect.gke`` (standard library only; the policy pack in this
repository links it as ``policy/gke``). Nothing here reads files of the repository it was built from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coditect.args import SocketIoAppArgs
    from coditect.socketio_app import SocketIoApp

__version__ = "1.0.0"
__all__ = ["SocketIoApp", "SocketIoAppArgs", "__version__"]

# Imported on first use (PEP 562): `import coditect.gke` (the policy pack, standard library only) must
# not pull in pulumi_kubernetes and the components.
_LAZY = {"SocketIoApp": "coditect.socketio_app", "SocketIoAppArgs": "coditect.args"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'coditect' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
