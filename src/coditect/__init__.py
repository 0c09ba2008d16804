"""coditect: a real-time (Socket.IO / WebSocket) web application on GKE behind Google's L7 load
balancer, as Pulumi components, with GKE's rules enforced before anything is deployed.

The rule engine is ``coditect.gke`` (standard library only; the policy pack in this repository links
it as ``policy/gke``). Nothing here reads files of the repository it was built from.
"""

from __future__ import annotations

__version__ = "1.0.0"
