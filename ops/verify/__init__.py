"""`python -m ops verify URL`: prove a live Socket.IO endpoint works the way a browser needs it to.

A bare handshake proves nothing (any pod answers it). What broke in the outage was the *second*
request of a session (no affinity: another pod answers 400), the WebSocket upgrade (Upgrade header
dropped) and long connections (cut at the backend timeout). The checks, in order, are in
`steps`; the wire format in `protocol`; HTTP and WebSocket I/O in `transport`; the layer and the
advice for each failure in `advice`; one run in `verifier`, its verdict in `report`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Names resolved on first use: importing a light submodule (ops.verify.bounds, which the inspect readers share)
# must not import httpx and websockets, which the virtualenv `pulumi up` builds does not hold.
_WHERE = {
    "POD_HEADER": "coditect.protocol",
    "UPGRADE_AFFINITY": "ops.verify.advice",
    "UPGRADE_DROPPED": "ops.verify.advice",
    "Layer": "ops.verify.advice",
    "DEFAULT_POLLS": "ops.verify.options",
    "Options": "ops.verify.options",
    "VerifyUsageError": "ops.verify.options",
    "parse_count": "ops.verify.options",
    "parse_header": "ops.verify.options",
    "parse_seconds": "ops.verify.options",
    "Check": "ops.verify.report",
    "CheckName": "ops.verify.report",
    "Report": "ops.verify.report",
    "Session": "ops.verify.report",
    "Verifier": "ops.verify.verifier",
    "verify": "ops.verify.verifier",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'ops.verify' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)


__all__ = [
    "DEFAULT_POLLS",
    "POD_HEADER",
    "UPGRADE_AFFINITY",
    "UPGRADE_DROPPED",
    "Check",
    "CheckName",
    "Layer",
    "Options",
    "Report",
    "Session",
    "Verifier",
    "VerifyUsageError",
    "parse_count",
    "parse_header",
    "parse_seconds",
    "verify",
]
