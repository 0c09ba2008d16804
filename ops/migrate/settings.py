"""What the migration reads of the stack file Pulumi.<stack>.yaml (MigrationSettings, read_settings): the front
doors and their allowed sequence, and the digest of the validated settings the Gateway is built from (the proof is
stale when it changes). The steps are in plan.py; what was seen of the cluster, DNS and Certificate Manager is in seen.py."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from coditect.settings import Settings
from coditect.settings.front_door import BundleVersion
from ops import stack_files
from ops.errors import UsageError, shown

INGRESS, GATEWAY = "ingress", "gateway"
INGRESS_ONLY, BOTH, GATEWAY_ONLY = (INGRESS,), (INGRESS, GATEWAY), (GATEWAY,)
FRONT_DOORS = (INGRESS_ONLY, BOTH, GATEWAY_ONLY)
FRONT_DOORS_KEY = "coditect:frontDoors"
GATEWAY_KEY = "coditect:gateway"
BUNDLES: tuple[str, ...] = get_args(BundleVersion)
DEFAULT_DNS_TTL_S = 300
# The proof is of the whole validated stack (what the Gateway serves reaches into the deployment's port and health path,
# the namespace, the release...) except what cannot change what it serves: frontDoors (moving through the steps must
# not make the proof stale) and the after-up inspection. Validated, so a default written out or a comment is no change.
DIGEST_EXCLUDED = frozenset({"front_doors", "inspection"})
RUNBOOK = "docs/migration.md"


def doors_text(doors: tuple[str, ...]) -> str:
    return f"[{', '.join(doors)}]"


@dataclass(frozen=True)
class MigrationSettings:
    stack: str
    front_doors: tuple[str, ...]
    bundle_version: str | None
    gateway_name: str
    hosts: tuple[str, ...]
    namespace: str
    timeout_sec: int  # backendConfig.timeoutSec: the longest a socket may live on either load balancer
    prefix: str  # coditect-<environment>, of every Google Cloud resource name
    project: str
    context: str
    ingress_name: str
    socketio_path: str
    digest: str

    @property
    def certificate_name(self) -> str:
        from coditect.certificate_manager import certificate_name

        return certificate_name(self.prefix, self.hosts)  # the component's own name for it

    @property
    def routes(self) -> tuple[str, ...]:
        return (f"{self.gateway_name}-app", f"{self.gateway_name}-redirect")


def _front_doors(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return INGRESS_ONLY
    # The settings model takes the doors in any order, each once; the plan reads them in one order.
    valid = isinstance(value, list) and len(set(map(str, value))) == len(value) and all(door in (INGRESS, GATEWAY) for door in value)
    doors = tuple(door for door in (INGRESS, GATEWAY) if door in value) if valid else None
    if doors is None or doors not in FRONT_DOORS:
        allowed = ", ".join(doors_text(d) for d in FRONT_DOORS)
        raise UsageError(f"{where}: {FRONT_DOORS_KEY} is {shown(value)}; it must be one of {allowed}. Fix: set it to one of them")
    return doors


def digest(settings: Settings) -> str:
    """The digest a proof is recorded with: the validated settings but DIGEST_EXCLUDED, in one canonical JSON text."""
    picked = settings.model_dump(mode="json", exclude=set(DIGEST_EXCLUDED))
    return hashlib.sha256(json.dumps(picked, sort_keys=True).encode()).hexdigest()[:16]


def read_settings(stack: str, root: Path) -> MigrationSettings:
    """What the migration reads of Pulumi.<stack>.yaml, or UsageError naming the key and the fix."""
    from ops.program import stack_path

    path = stack_path(stack, root)
    document = stack_files.read_document(path)
    config = document.data.get("config") or {}
    if not isinstance(config, dict):
        raise UsageError(f"{path.name}: 'config' must be a mapping of keys to values")
    doors = _front_doors(config.get(FRONT_DOORS_KEY), path.name)
    from ops.stack_check import settings_for

    # The settings model validates frontDoors and the gateway block with the rest of the stack.
    engine_config, _secrets, settings = settings_for(stack, root)
    return MigrationSettings(
        stack=stack,
        front_doors=doors,
        bundle_version=settings.gateway.bundle_version,
        gateway_name=settings.gateway.name,
        hosts=tuple(settings.hosts),
        namespace=settings.namespace,
        timeout_sec=int(settings.backend_config.timeout_sec),
        prefix=settings.gcp_prefix,
        project=str(engine_config.get("gcp:project", "")),
        context=settings.cluster.context,
        ingress_name=settings.ingress.name,
        socketio_path=settings.socketio.path,
        digest=digest(settings),
    )


def uncommitted(stack: str, root: Path) -> str | None:
    """Why a pass cannot be recorded against Pulumi.<stack>.yaml as it is (None: it can). Nothing records which
    revision of the stack file is deployed, so a proof is recorded only for a committed file (deployed after review,
    docs/migration.md): an edited, undeployed working copy would otherwise be recorded as proven."""
    from ops.bounded_git import git
    from ops.errors import Refused
    from ops.program import stack_path

    name = stack_path(stack, root).name
    try:
        changed = git(root, "status", "--porcelain", "--", name).strip()
    except Refused as error:
        return f"git cannot tell whether {name} is committed ({error})"
    if changed:
        return f"{name} has uncommitted changes, and what is deployed is a committed revision (git diff -- {name})"
    return None


def migrate_command(s: MigrationSettings, to: str, *flags: str) -> str:
    """The `ops migrate` command line the plan tells the user to run."""
    return " ".join(["python -m ops migrate", s.stack, "--to", to, *flags])
