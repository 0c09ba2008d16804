"""Where a stack deploys: its Google Cloud project (``gcp:project``) and its cluster
(``coditect:cluster.context``). Both are required in every stack file, and a prod stack must not
share either with another stack of the project."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coditect.settings import CONFIG_NAMESPACE, Settings, SettingsError

GCP_PROJECT_KEY = "gcp:project"
# Google Cloud project ids: 6 to 30 lower-case letters, digits and hyphens, starting with a letter and
# not ending with a hyphen (Resource Manager, Project.projectId).
PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")  # used with fullmatch: `$` would accept a final newline


@dataclass(frozen=True)
class Target:
    stack: str
    project: str
    cluster_context: str
    adopt: bool = False  # this run takes over existing objects (settings: cluster.adopt)


def _refuse(stack: str, key: str, problem: str, fix: str) -> SettingsError:
    return SettingsError(f"Invalid stack configuration (Pulumi.{stack}.yaml):\n  - {key}: {problem}. Fix: {fix}")


def read_target(settings: Settings, config: Mapping[str, Any], stack: str) -> Target:
    """The stack's target from its engine config; refuses a missing or malformed ``gcp:project``."""
    project = config.get(GCP_PROJECT_KEY)
    if not project:
        raise _refuse(
            stack,
            GCP_PROJECT_KEY,
            "is required but not set: every stack names the Google Cloud project it deploys to",
            f"pulumi config set {GCP_PROJECT_KEY} <project-id> -s {stack}",
        )
    if not isinstance(project, str) or not PROJECT_ID.fullmatch(project):
        raise _refuse(
            stack,
            GCP_PROJECT_KEY,
            f"{str(project)[:80]!r} is not a Google Cloud project id (6-30 lower-case letters, digits, hyphens)",
            f"pulumi config set {GCP_PROJECT_KEY} <project-id> -s {stack}",
        )
    return Target(stack, project, settings.cluster.context, settings.cluster.adopt)


def _stack_target(path: Path) -> tuple[str | None, str | None]:
    """(gcp:project, coditect:cluster.context) of another stack file; (None, None) when unreadable."""
    import yaml  # a dependency of the pulumi SDK

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None, None
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        return None, None
    cluster = config.get(f"{CONFIG_NAMESPACE}:cluster")
    context = cluster.get("context") if isinstance(cluster, dict) else None
    project = config.get(GCP_PROJECT_KEY)
    return (project if isinstance(project, str) else None), (context if isinstance(context, str) else None)


def refuse_shared_prod_target(target: Target, settings: Settings, project_dir: Path) -> None:
    """A prod stack whose project or cluster is also another stack's would let that stack's `up`
    change production."""
    if settings.environment != "prod":
        return
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        other = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if other == target.stack:
            continue
        project, context = _stack_target(path)
        if project == target.project:
            raise _refuse(
                target.stack,
                GCP_PROJECT_KEY,
                f"{target.project} is also the project of stack {other} ({path.name})",
                "give prod a Google Cloud project of its own",
            )
        if context == target.cluster_context:
            raise _refuse(
                target.stack,
                f"{CONFIG_NAMESPACE}:cluster.context",
                f"{target.cluster_context} is also the cluster of stack {other} ({path.name})",
                "give prod a cluster of its own",
            )


def load_target(settings: Settings, project_dir: Path) -> Target:
    """The running stack's target (under the engine or under mocks), checked against its siblings."""
    import pulumi

    from coditect import internals

    target = read_target(settings, internals.engine_config(), pulumi.get_stack())
    refuse_shared_prod_target(target, settings, project_dir)
    return target
