"""The generated part of docs/runbook.md: every `ops verify` layer and every `ops inspect` layer, each
pointing at the runbook entry that handles it, then a link to the GKE rules (docs/rules.md, generated
from the registry by ops/rule_table.py: the rules are listed there only).

``python -m ops.runbook`` prints it; ``--write`` replaces it between the markers in the runbook;
``--check`` exits 1 when it is stale. A test fails when the runbook's copy is not what this generates,
or when a layer has no entry.
"""

from __future__ import annotations

import sys

from livestate.model import Layer as InspectLayer
from ops.generated import DOCS, GeneratedPart
from ops.verify.advice import Layer as VerifyLayer

RUNBOOK = DOCS / "runbook.md"
COMMAND = "python -m ops.runbook --write"
BEGIN = f"<!-- generated:begin ({COMMAND}; do not edit) -->"
END = "<!-- generated:end -->"

# The runbook's hand-written entries, by heading.
HANDSHAKE_400 = "Handshake works, then HTTP 400 (`Session ID unknown` / `Invalid session`)"
CUT_AT_30_S = "Sockets cut at 30 s (terminal reconnects every half minute)"
HTTP_502 = "HTTP 502 from the load balancer"
UPGRADE_REFUSED = "WebSocket upgrade refused (stuck on long polling)"
CLOUD_ARMOR = "Cloud Armor blocking (HTTP 429 or 403)"
CERTIFICATE = "Certificate not provisioned (TLS errors on a new or changed host)"
NO_ANSWER = "No answer at all (connection refused or timed out)"
APP_MISBEHAVES = "The Socket.IO server itself misbehaves (wrong version, closed sessions, no replies)"
PRECONDITIONS = "Cluster preconditions not met (containment inert)"
ROLLBACK = "Roll back a release"
ENTRIES = (HANDSHAKE_400, CUT_AT_30_S, HTTP_502, UPGRADE_REFUSED, CLOUD_ARMOR, CERTIFICATE, NO_ANSWER, APP_MISBEHAVES, PRECONDITIONS, ROLLBACK)

# Where a failing `ops verify` check points, by the layer its diagnosis names.
VERIFY_LAYERS: dict[VerifyLayer, tuple[str, ...]] = {
    VerifyLayer.OUTSIDE: (NO_ANSWER,),
    VerifyLayer.OUTSIDE_TLS: (CERTIFICATE,),
    VerifyLayer.LOAD_BALANCER: (HANDSHAKE_400, UPGRADE_REFUSED),
    VerifyLayer.LOAD_BALANCER_OR_NGINX: (HTTP_502, CUT_AT_30_S),
    VerifyLayer.NGINX_OR_LOAD_BALANCER: (UPGRADE_REFUSED,),
    VerifyLayer.LOAD_BALANCER_NGINX_OR_APP: (HTTP_502, APP_MISBEHAVES),
    VerifyLayer.APP: (APP_MISBEHAVES, ROLLBACK),
    VerifyLayer.APP_OR_LOAD_BALANCER: (UPGRADE_REFUSED, HANDSHAKE_400),
    VerifyLayer.APP_OR_OUTSIDE: (CLOUD_ARMOR,),
}

# Where a failing `ops inspect` layer points.
INSPECT_LAYERS: dict[InspectLayer, tuple[str, ...]] = {
    InspectLayer.CLUSTER: (PRECONDITIONS,),
    InspectLayer.TRANSLATION: (HANDSHAKE_400,),
    InspectLayer.BACKENDS: (HTTP_502,),
    InspectLayer.BACKEND_CONFIG: (HANDSHAKE_400, CUT_AT_30_S, CLOUD_ARMOR),
    InspectLayer.FRONT_END: (CERTIFICATE, NO_ANSWER),
    InspectLayer.GATEWAY_TRANSLATION: (HTTP_502, NO_ANSWER),
    InspectLayer.GATEWAY_POLICIES: (CUT_AT_30_S, HANDSHAKE_400, CLOUD_ARMOR),
    InspectLayer.GATEWAY_FRONT_END: (NO_ANSWER, CERTIFICATE),
    InspectLayer.LEFTOVERS: (HANDSHAKE_400,),
}


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in heading.lower() if c.isalnum() or c in " -")
    return "#" + kept.replace(" ", "-")


def _links(headings: tuple[str, ...]) -> str:
    return ", ".join(f"[{heading.split(' (')[0]}]({_anchor(heading)})" for heading in headings)


def generated() -> str:
    lines = [
        "## Index: every check and the entry that handles it",
        "",
        "### `ops verify`: the layer a failing check names",
        "",
        "| layer | runbook entry |",
        "|---|---|",
    ]
    lines += [f"| {layer.value} | {_links(entries)} |" for layer, entries in VERIFY_LAYERS.items()]
    lines += ["", "### `ops inspect`: the layer of a failing check", "", "| layer | runbook entry |", "|---|---|"]
    lines += [f"| {layer.value} | {_links(entries)} |" for layer, entries in INSPECT_LAYERS.items()]
    lines += [
        "",
        "### The GKE rules (`pulumi preview`, `ops check`)",
        "",
        "Every rule, with what must hold and its source: [rules.md](rules.md). A mandatory rule stops the "
        "preview before anything is declared; an advisory one is printed. Each names its resource and fix.",
    ]
    return "\n".join(lines)


PART = GeneratedPart(RUNBOOK, BEGIN, END, generated, COMMAND)


def runbook_with_index(text: str) -> str:
    return PART.filled(text)


if __name__ == "__main__":
    sys.exit(PART.main("python -m ops.runbook", __doc__))
