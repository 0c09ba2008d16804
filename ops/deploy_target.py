"""`python -m ops target STACK`: where a stack deploys, read from its stack file alone, for the delivery workflow.

The stack file is the one owner of the project, location and cluster: the program pins its Kubernetes
provider to ``coditect:cluster.context`` (``gke_PROJECT_LOCATION_NAME``, the name `gcloud container clusters
get-credentials` gives a context), so the workflow fetches credentials for exactly that cluster, under that
context name, instead of a second copy of the same facts in repository variables that could disagree.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ops.errors import UsageError

# gke_PROJECT_LOCATION_NAME, each part as GKE spells it: a project id (6-30 characters), a region or zone,
# a cluster name (at most 40 characters, a letter first). The location cannot hold "_", so the split is unique.
GKE_CONTEXT = re.compile(
    r"gke_(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])_(?P<location>[a-z]+-[a-z]+[0-9]+(?:-[a-z])?)_"
    r"(?P<cluster>[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?)"
)


@dataclass(frozen=True)
class DeployTarget:
    stack: str
    project: str
    location: str
    cluster: str
    context: str
    verify_url: str  # the Socket.IO endpoint `ops verify` proves after `up`
    pack_config: str  # the --policy-pack-config file of this stack, relative to the project

    def lines(self) -> list[str]:
        return [f"{name}={getattr(self, name)}" for name in ("stack", "project", "location", "cluster", "context", "verify_url", "pack_config")]


def deploy_target(stack: str, root: Path) -> DeployTarget:
    """The stack's deploy target, or UsageError naming the key and the fix."""
    from ops.pack_config import config_path
    from ops.stack_check import settings_for

    config, _secrets, settings = settings_for(stack, root)
    context = settings.cluster.context
    match = GKE_CONTEXT.fullmatch(context)
    if match is None:
        raise UsageError(
            f"Pulumi.{stack}.yaml: coditect:cluster.context {context!r} is not a GKE context name (gke_PROJECT_LOCATION_NAME), "
            "so the workflow cannot tell which cluster to fetch credentials for. Fix: run `gcloud container clusters "
            "get-credentials NAME --location LOCATION --project PROJECT` and set the context it prints"
        )
    project = config.get("gcp:project", "")
    if match["project"] != project:
        raise UsageError(
            f"Pulumi.{stack}.yaml: coditect:cluster.context names project {match['project']!r} but gcp:project is {project!r}: "
            "the Kubernetes and the Google Cloud resources would land in different projects. Fix: make them agree"
        )
    url = f"https://{settings.hosts[0]}{settings.socketio.path}"
    return DeployTarget(stack, project, match["location"], match["cluster"], context, url, str(config_path(root, stack).relative_to(root)))


def run(stack: str, root: Path, out: TextIO, github_output: bool) -> int:
    target = deploy_target(stack, root)
    text = "\n".join(target.lines()) + "\n"
    if github_output:
        path = os.environ.get("GITHUB_OUTPUT")
        if not path:
            raise UsageError("--github-output: GITHUB_OUTPUT is not set (it is set inside a GitHub Actions step). Fix: run without the flag")
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    out.write(text)
    return 0
