"""provider/__main__.py as the engine suite runs it on the loopback cluster: unchanged (it is run from
provider_main.py beside this file), with engine/drive.py's local-only transform on every SocketIoApp, which
sets `pulumi.com/skipAwait` on the kinds whose readiness needs a node or a load balancer the cluster lacks.
Transforms given to a component apply to its children too. Never part of the published provider."""

import functools
import os
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi

sys.path.insert(0, os.environ["CODITECT_ROOT"])  # engine.drive, of the checkout under test

from coditect import SocketIoApp
from engine.drive import skip_await

_original = SocketIoApp.__init__


@functools.wraps(_original)
def _with_skip_await(self: SocketIoApp, name: str, args: Any, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
    _original(self, name, args, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transforms=[skip_await])), **kwargs)


SocketIoApp.__init__ = _with_skip_await  # type: ignore[method-assign]
runpy.run_path(str(Path(__file__).with_name("provider_main.py")), run_name="__main__")
