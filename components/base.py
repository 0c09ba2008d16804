"""What every component shares: the type-token package, manifest views and invariant enforcement."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi

from components import POLICY_DIR, internals
from gke import Finding, Level
from gke.enforcement import PackConfigError, enforced_levels, read_pack_config

PACKAGE = "coditect"
PART_OF = {"app.kubernetes.io/part-of": PACKAGE}  # on every object this project declares


def type_token(cls_name: str) -> str:
    return f"{PACKAGE}:index:{cls_name}"


class InvariantError(pulumi.RunError):
    """A component refused a setup GKE would break on. Raised while the program runs, so
    ``pulumi preview`` fails before anything changes; the message names resource and fix."""


def stack_levels(stack: str | None = None) -> dict[str, Level]:
    """The enforcement level of every enabled policy for this stack: the pack's own levels with the
    overrides of ``policy/config/<stack>.json``, the file the CLI passes as ``--policy-pack-config``.
    One owner for "prod requires image digests": that file."""
    stack = stack or pulumi.get_stack()
    path = POLICY_DIR / "config" / f"{stack}.json"
    try:
        return enforced_levels(read_pack_config(path), str(path))
    except PackConfigError as error:
        raise InvariantError(f"{error}") from None


def enforce(component: str, findings: Iterable[Finding]) -> None:
    """Raise on mandatory findings; pass advisory ones on as engine warnings."""
    findings = list(findings)
    for finding in findings:
        if finding.level is Level.ADVISORY:
            pulumi.log.warn(finding.message)
    mandatory = [f for f in findings if f.level is Level.MANDATORY]
    if mandatory:
        lines = "\n".join(f"  - {f.message}" for f in mandatory)
        raise InvariantError(f"{component} refuses to declare a setup GKE would break on:\n{lines}")


def to_plain(value: Any) -> Any:
    """Typed pulumi_kubernetes args -> the camelCase manifest the provider will send."""
    if internals.is_input_type(value):
        return {k: to_plain(v) for k, v in internals.input_type_to_dict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [to_plain(v) for v in value]
    if isinstance(value, (pulumi.Output, pulumi.Resource)):
        raise TypeError("manifest views hold plain values only; pass names as str and use depends_on")
    return value


def manifest(api_version: str, kind: str, metadata: Any, spec: Any = None, **top: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": to_plain(metadata)}
    if spec is not None:
        body["spec"] = to_plain(spec)
    body.update({k: to_plain(v) for k, v in top.items() if v is not None})
    return body


def child_opts(parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] = (), **kwargs: Any) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on), **kwargs)
