"""The `coditect` Pulumi package: SocketIoApp served as a component provider, its schema inferred by the SDK
from SocketIoAppArgs' and SocketIoApp's type annotations (coditect.provider says what it adds to the SDK's
component_provider_host: whole numbers from other languages, refusals without a traceback). The package's
version is the wheel's (pyproject.toml [project].version), so the schema and the distribution agree."""

import sys

from coditect.provider import serve

if __name__ == "__main__":
    serve(sys.argv[1:])
