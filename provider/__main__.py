"""The `coditect` Pulumi package: SocketIoApp served as a component provider, its schema inferred by the SDK
from SocketIoAppArgs' and SocketIoApp's type annotations (pulumi.provider.experimental, analyzer.py)."""

from pulumi.provider.experimental import component_provider_host

from coditect import SocketIoApp, __version__

# The package's version is the wheel's (pyproject.toml [project].version), so the schema and the
# Python distribution never disagree.
if __name__ == "__main__":
    component_provider_host(components=[SocketIoApp], name="coditect", version=__version__)
