"""coditect: a real-time (Socket.IO / WebSocket) web application on GKE behind Google's L7 load
balancer, as Pulumi components, with GKE's rules enforced before anything is deployed.

The public component is ``SocketIoApp`` with its args ``SocketIoAppArgs``; every other component is
internal. The rule engine is ``coditect.gke`` (standard library only; the policy pack in this
repository links it as ``policy/gke``). Nothing here reads files of the repository it was built from.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

DISTRIBUTION = "coditect-gke"


def _version() -> str:
    """The one version: pyproject.toml's [project].version. From a source checkout it is read there (an
    editable install's metadata can be another checkout's); an installed wheel asks its own metadata."""
    import tomllib

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == DISTRIBUTION:
            return str(project["version"])
    return metadata.version(DISTRIBUTION)


if TYPE_CHECKING:
    from coditect.args import SocketIoAppArgs
    from coditect.socketio_app import SocketIoApp

__version__ = _version()
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
