"""Names the pod's nginx and the Socket.IO verifier share (no Pulumi imports: the verifier stays light)."""

POD_HEADER = "X-Coditect-Pod"  # the pod that answered: `ops verify` uses it to show session pinning
