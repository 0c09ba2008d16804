"""Compute SSL policies. (ManagedCertificate domain lengths are the CRD schema's check, run by
`ops check`; settings refuse a longer host where it is chosen.)"""

from __future__ import annotations

from collections.abc import Iterator

from .. import limits
from .. import policies as policy
from ..manifest import SSL_POLICY, Manifest, field_at
from ..model import Problem
from ..registry import resource_rule


@resource_rule(
    "ssl-policy-tls13-profile",
    policy.TLS_LIMITS,
    (SSL_POLICY,),
    "minTlsVersion TLS_1_3 only with profile RESTRICTED.",
    "pulumi-gcp compute/ssl_policy.py; Compute SslPolicy",
)
def tls13_profile(manifest: Manifest) -> Iterator[Problem]:
    profile = field_at(manifest, "spec", "profile")
    if field_at(manifest, "spec", "minTlsVersion") == "TLS_1_3" and profile not in limits.TLS_1_3_PROFILES:
        yield Problem(
            f"sets minTlsVersion TLS_1_3 with profile {profile!r}; Compute accepts TLS 1.3 as the minimum only with profile RESTRICTED.",
            "use profile RESTRICTED, or minTlsVersion TLS_1_2.",
            subject="profile",
        )
