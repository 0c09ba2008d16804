"""`python -m ops verify URL`: prove a live Socket.IO endpoint works the way a browser needs it to.

A bare handshake proves nothing (any pod answers it). What broke in the outage was the *second*
request of a session (no affinity: another pod answers 400), the WebSocket upgrade (Upgrade header
dropped) and long connections (cut at the backend timeout). The checks, in order, are in
`checks`; the wire format in `protocol`; HTTP and WebSocket I/O in `transport`; the layer and the
advice for each failure in `diagnoses`; one run in `verifier`, its verdict in `report`.
"""

from components.protocol import POD_HEADER
from ops.verify.diagnoses import UPGRADE_AFFINITY, UPGRADE_DROPPED, Layer
from ops.verify.options import DEFAULT_POLLS, Options, VerifyUsageError, parse_count, parse_header, parse_seconds
from ops.verify.report import Check, CheckName, Report, Session
from ops.verify.verifier import Verifier, verify

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
