"""The coditect GKE policy pack: `pulumi preview --policy-pack policy`.

Only builds the PolicyPack (which starts the analyzer and blocks); the rules are in
gke/pack.py (the rule engine's, linked here as policy/gke) so that tests and `python -m ops check` can run them without the CLI.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from gke.pack import PACK_NAME, POLICIES

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.ADVISORY,  # each policy sets its own level
    policies=POLICIES,
    description="GKE Ingress/BackendConfig rules for Socket.IO apps: what breaks the load balancer, checked before deploy.",
)
