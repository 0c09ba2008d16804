"""The vocabulary of an inspection: one check per metric, the layers they belong to, and the two
ways reading can stop short (no access, unreachable)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Layer(StrEnum):
    """The order GKE works in: translate the Ingress, create backends, apply the BackendConfig,
    configure the front end. Leftovers are objects GKE still acts on that the program does not declare.
    Under all of them, the cluster: what it must provide for the stack's containment to mean anything."""

    CLUSTER = "cluster"
    TRANSLATION = "ingress translation"
    BACKENDS = "backends"
    BACKEND_CONFIG = "backendconfig applied"
    FRONT_END = "front end"
    # The Gateway front door (when the program declares one), in GKE's order: admit and translate the Gateway and
    # its routes, attach the policies to its backend services, bind its address.
    GATEWAY_TRANSLATION = "gateway translation"
    GATEWAY_POLICIES = "gateway policies applied"
    GATEWAY_FRONT_END = "gateway front end"
    LEFTOVERS = "leftovers"


class Status(StrEnum):
    OK = "ok"
    DRIFT = "drift"  # live differs from what the program declared
    PENDING = "pending"  # GKE or Google Cloud is still working on it (certificate provisioning, health unknown)
    MISSING = "missing"  # the live object or field does not exist


@dataclass(frozen=True)
class Check:
    """One metric: what the program declared (target) and what the live system shows."""

    layer: Layer
    metric: str
    resource: str  # e.g. "BackendService k8s1-…" or "Ingress coditect-app/coditect-ingress"
    field: str  # the field compared, as the API names it
    target: str
    live: str
    status: Status
    hint: str = ""  # why it matters / what usually causes a mismatch

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["layer"] = self.layer.value
        data["status"] = self.status.value
        return data


class AccessDenied(Exception):
    """An API answered 403; `permission` names what is missing (RBAC verb and resource, or IAM permission)."""

    def __init__(self, api: str, permission: str, detail: str) -> None:
        super().__init__(f"{api}: missing {permission} ({detail})")
        self.api = api
        self.permission = permission
        self.detail = detail


class Unreachable(Exception):
    """An API could not be reached at all (connection refused, DNS, timeout)."""

    def __init__(self, api: str, endpoint: str, detail: str) -> None:
        super().__init__(f"{api} at {endpoint} is unreachable: {detail}")
        self.api = api
        self.endpoint = endpoint
        self.detail = detail


class Malformed(Exception):
    """An API answered, but not with what it promises (truncated or non-JSON body, a list where an object
    belongs, a field of the wrong type, an answer over its size or time bound). Exit 1: the live system
    cannot be judged from it, and that is a finding about the server, not about the arguments."""

    def __init__(self, api: str, what: str, problem: str) -> None:
        super().__init__(f"{api}: {what}: {problem}")
        self.api = api
        self.what = what
        self.problem = problem


class CredentialsRefused(Exception):
    """An API answered 401 (or the credential plugin failed): the credentials are not accepted at all,
    which no RBAC or IAM grant fixes. `fix` says how to get working credentials."""

    def __init__(self, api: str, detail: str, fix: str) -> None:
        super().__init__(f"{api} refused the credentials: {detail}. Fix: {fix}")
        self.api = api
        self.detail = detail
        self.fix = fix
